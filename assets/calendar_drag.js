// Calendar week/day grid, desktop: drag an appointment to another time or practitioner column, or
// drag its bottom edge to change its length. The grid is 1 px per minute; moves snap to 15 minutes.
// Nothing is decided here: the drop is handed to the page's state (a hidden input, #calendar-drop),
// whose server checks and saves it as the dialog would (overlap warning, series scope, Zoom, the
// client's email) and offers Undo. Touch and keyboard use the dialog, so only a mouse drags.
(function () {
  var SNAP = 15, THRESHOLD = 4;
  var drag = null;
  var swallowClick = false;

  function snap(minutes) { return Math.round(minutes / SNAP) * SNAP; }

  function columnAt(x, y) {
    var found = document.elementsFromPoint(x, y).find(function (e) {
      return e.classList && e.classList.contains("calendar-col");
    });
    if (!found) return -1;
    return Array.prototype.indexOf.call(found.parentElement.children, found);
  }

  function send(payload) {
    var input = document.getElementById("calendar-drop");
    if (!input) return;
    var setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
    payload.nonce = Date.now() + Math.random();
    setter.call(input, JSON.stringify(payload));
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function reset() {
    if (!drag) return;
    drag.block.style.transform = "";
    drag.block.style.height = "";  // back to the stylesheet's (the server's) height
    drag.block.classList.remove("calendar-dragging");
    drag = null;
  }

  document.addEventListener("pointerdown", function (event) {
    if (event.pointerType !== "mouse" || event.button !== 0) return;
    var block = event.target.closest && event.target.closest('.calendar-appt[data-movable="1"]');
    if (!block) return;
    var columns = block.parentElement.querySelectorAll(".calendar-col");
    drag = {
      block: block, id: block.getAttribute("data-appointment-id"),
      resize: !!event.target.closest(".calendar-resize"),
      x: event.clientX, y: event.clientY, moved: false,
      top: block.offsetTop, height: block.offsetHeight,  // 1 px per minute from midnight
      column: columnAt(event.clientX, event.clientY),
      width: columns.length ? columns[0].getBoundingClientRect().width : 0,
      minute: snap(block.offsetTop), length: parseInt(block.getAttribute("data-minutes"), 10),
    };
    drag.targetColumn = drag.column;
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) < THRESHOLD && Math.abs(dy) < THRESHOLD) return;
    drag.moved = true;
    drag.block.classList.add("calendar-dragging");
    if (drag.resize) {
      drag.length = Math.max(SNAP, snap(parseInt(drag.block.getAttribute("data-minutes"), 10) + dy));
      drag.block.style.height = drag.length + "px";
      return;
    }
    var minute = Math.min(24 * 60 - SNAP, Math.max(0, snap(drag.top + dy)));
    var column = columnAt(event.clientX, event.clientY);
    if (column >= 0) drag.targetColumn = column;
    drag.minute = minute;
    drag.block.style.transform = "translate(" + (drag.targetColumn - drag.column) * drag.width + "px, " +
      (minute - drag.top) + "px)";
  });

  document.addEventListener("pointerup", function () {
    if (!drag) return;
    var done = drag;
    if (done.moved) {
      swallowClick = true;  // the click that follows a drag must not open the dialog
      send({ id: done.id, column: done.targetColumn, minute: done.minute, length: done.length });
    }
    reset();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && drag) { swallowClick = drag.moved; reset(); }
  });

  document.addEventListener("click", function (event) {
    if (!swallowClick) return;
    swallowClick = false;
    if (event.target.closest && event.target.closest(".calendar-appt")) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
