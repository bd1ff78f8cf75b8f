// Keyboard help shared by every page.
// 1. The skip link moves focus to the main content without a route change.
// 2. When a dialog closes and focus would fall to the page's body (dialogs opened by state rather
//    than by a Radix trigger), focus goes back to the control that opened it.
(function () {
  var opener = null;
  var DIALOG = '[role="dialog"], [role="alertdialog"]';

  // Capturing, before the router's own link handling would turn it into a route change.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.skip-link");
    if (!link) return;
    var main = document.getElementById("main-content");
    if (main) {
      event.preventDefault();
      event.stopPropagation();
      main.focus();
    }
  }, true);

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el !== document.body && el.closest && !el.closest(DIALOG)) opener = el;
  });

  function restore() {
    var active = document.activeElement;
    if (document.querySelector(DIALOG)) return;
    if ((active === null || active === document.body) && opener && document.contains(opener)) opener.focus();
  }

  new MutationObserver(function (mutations) {
    for (var i = 0; i < mutations.length; i++) {
      var removed = mutations[i].removedNodes;
      for (var j = 0; j < removed.length; j++) {
        var node = removed[j];
        if (node.nodeType === 1 && (node.matches(DIALOG) || node.querySelector(DIALOG))) {
          // After Radix has finished its own focus handling (it runs in a zero-delay timeout).
          setTimeout(restore, 0);
          setTimeout(restore, 50);
          return;
        }
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
