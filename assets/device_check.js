// Waiting room, "Check my camera and microphone" (rxapp/components/device_check.py renders the parts):
// a camera preview, the microphone's level, a test tone and a connection check, all in this browser.
// Nothing is recorded or sent; the only requests are three tiny pings of our own /api/health (no
// cookies) to time the connection. The camera and microphone are released when the panel closes, when
// the page goes away (pagehide) and when the panel leaves the page (a route change, the room ending):
// a watchdog looks twice a second.
(function () {
  if (window.deviceCheckInstalled) return;  // the page adds this script again on every visit
  window.deviceCheckInstalled = true;

  var GOOD_MS = 300, PINGS = 3, PING_TIMEOUT_MS = 5000, TONE_SECONDS = 0.8;
  var REASONS = {
    NotAllowedError: ["Your camera or microphone is blocked",
      "Your browser or phone settings do not let this page use them. Allow them with the steps below, then try again."],
    NotFoundError: ["No camera or microphone found",
      "Plug in or turn on a camera and a microphone (or a headset), then try again."],
    NotReadableError: ["Your camera or microphone is busy",
      "Another app is using it. Close Zoom, Teams, FaceTime or other video apps, then try again."],
    NotSupported: ["This browser cannot check your camera here",
      "Open this page in an up-to-date Chrome, Edge, Firefox or Safari."],
    Other: ["Your camera or microphone could not be started", "Check the steps below, then try again."]
  };
  REASONS.SecurityError = REASONS.NotAllowedError;
  REASONS.OverconstrainedError = REASONS.NotFoundError;
  REASONS.AbortError = REASONS.NotReadableError;

  var session = null;  // the open check: its panel, stream, AudioContext, meter frame and watchdog

  function part(s, name) { return s.panel.querySelector("#device-check-" + name); }
  function say(s, name, text) { var e = part(s, name); if (e) e.textContent = text; }

  function open() {
    var panel = document.getElementById("device-check-panel");
    if (!panel) return;
    var s = {panel: panel, stream: null, audio: null, frame: 0, watchdog: 0, pings: 0};
    session = s;
    panel.hidden = false;
    setExpanded(true);
    var Context = window.AudioContext || window.webkitAudioContext;
    try {
      if (Context) s.audio = new Context();  // made inside the click: browsers then let it play
    } catch (error) {
      s.audio = null;
    }
    s.watchdog = setInterval(function () { if (!s.panel.isConnected) close(); }, 500);
    startDevices(s);
    checkConnection(s);
  }

  function close() {
    var s = session;
    if (!s) return;
    session = null;
    clearInterval(s.watchdog);
    release(s);
    if (s.audio) s.audio.close().catch(function () {});
    s.panel.hidden = true;
    setExpanded(false);
  }

  function setExpanded(expanded) {
    var toggle = document.getElementById("device-check-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
  }

  function stopStream(stream) {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
  }

  function release(s) {
    cancelAnimationFrame(s.frame);
    stopStream(s.stream);
    s.stream = null;
    var video = part(s, "video");
    if (video) video.srcObject = null;
    showLevel(s, 0);
  }

  // Both at once; when one of them does not exist, whichever does (a laptop without a camera).
  function getStream() {
    var media = navigator.mediaDevices;
    return media.getUserMedia({video: true, audio: true}).then(function (stream) {
      return {stream: stream, missing: ""};
    }, function (error) {
      if (error.name !== "NotFoundError" && error.name !== "OverconstrainedError") throw error;
      return media.getUserMedia({audio: true}).then(function (stream) {
        return {stream: stream, missing: "camera"};
      }, function () {
        return media.getUserMedia({video: true}).then(function (stream) {
          return {stream: stream, missing: "microphone"};
        }, function () { throw error; });
      });
    });
  }

  function startDevices(s) {
    release(s);
    part(s, "live").hidden = false;
    part(s, "help").hidden = true;
    say(s, "status", "Asking for your camera and microphone…");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      refused(s, "NotSupported");
      return;
    }
    getStream().then(function (got) {
      if (session !== s) {  // closed while the browser was asking
        stopStream(got.stream);
        return;
      }
      s.stream = got.stream;
      var video = part(s, "video");
      video.muted = true;
      video.srcObject = got.stream;
      var playing = video.play();
      if (playing) playing.catch(function () {});
      startMeter(s);
      if (got.missing) {
        refused(s, "NotFoundError", "No " + got.missing + " found",
                "Plug in or turn on a " + got.missing + " (or a headset), then try again.");
        part(s, "live").hidden = false;
      } else {
        say(s, "status", "Your camera and microphone are working. You should see yourself, and the bar moves when you speak.");
      }
    }, function (error) {
      if (session === s) refused(s, error && error.name);
    });
  }

  function refused(s, name, title, reason) {
    var words = REASONS[name] || REASONS.Other;
    part(s, "live").hidden = true;
    part(s, "help").hidden = false;
    say(s, "help-title", title || words[0]);
    say(s, "help-reason", reason || words[1]);
    say(s, "status", "The check cannot use your camera or microphone: see the steps below.");
  }

  // The level in 0-100 from the loudness in decibels (-60 dB silent, 0 dB full), falling back slowly.
  function startMeter(s) {
    if (!s.audio || !s.stream.getAudioTracks().length) return;
    var analyser = s.audio.createAnalyser();
    analyser.fftSize = 1024;
    s.audio.createMediaStreamSource(s.stream).connect(analyser);  // not to the speakers: no echo
    s.audio.resume().catch(function () {});
    var samples = new Float32Array(analyser.fftSize), level = 0, told = 0;
    function draw(time) {
      if (session !== s || !s.stream) return;
      analyser.getFloatTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
      var decibels = 20 * Math.log10(Math.sqrt(sum / samples.length) || 1e-8);
      level = Math.max(Math.min(100, Math.max(0, Math.round((decibels + 60) * 100 / 60))), level - 2);
      var tell = time - told > 100;  // the value for assistive technology: ten times a second
      if (tell) told = time;
      showLevel(s, level, tell);
      s.frame = requestAnimationFrame(draw);
    }
    s.frame = requestAnimationFrame(draw);
  }

  function showLevel(s, level, tell) {
    var bar = part(s, "level-bar"), meter = part(s, "level");
    if (bar) bar.style.width = level + "%";
    if (meter && tell !== false) {
      meter.setAttribute("aria-valuenow", String(level));
      meter.setAttribute("aria-valuetext", level < 5 ? "Silent" : level < 35 ? "Low" : "Good");
    }
  }

  function playTone() {
    var s = session;
    if (!s) return;
    var button = part(s, "sound"), audio = s.audio;
    if (!audio) {
      say(s, "sound-result", "This browser cannot play a test sound.");
      return;
    }
    button.disabled = true;
    say(s, "sound-result", "Playing a short tone…");
    var resumed = new Promise(function (done) { audio.resume().then(done, done); setTimeout(done, 1000); });
    resumed.then(function () {
      if (session !== s) return;
      if (audio.state !== "running") {
        button.disabled = false;
        say(s, "sound-result", "The browser did not let this page play a sound. Press Play test sound again.");
        return;
      }
      var tone = audio.createOscillator(), volume = audio.createGain(), start = audio.currentTime;
      tone.frequency.value = 440;
      volume.gain.setValueAtTime(0.0001, start);
      volume.gain.exponentialRampToValueAtTime(0.3, start + 0.05);
      volume.gain.setValueAtTime(0.3, start + TONE_SECONDS - 0.2);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + TONE_SECONDS);
      tone.connect(volume);
      volume.connect(audio.destination);
      tone.start(start);
      tone.stop(start + TONE_SECONDS);
      setTimeout(function () {
        if (session !== s) return;
        button.disabled = false;
        say(s, "sound-result", "Did you hear a short tone? If not, turn the volume up, check the phone is not on " +
            "silent, or choose other speakers or headphones.");
      }, TONE_SECONDS * 1000 + 100);
    });
  }

  // Resolves with the times of `left` more pings; rejects at the first failure (`times` keeps the rest).
  function ping(times, left) {
    if (!left) return Promise.resolve(times);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, PING_TIMEOUT_MS);
    var start = performance.now();
    return fetch("/api/health", {cache: "no-store", credentials: "omit", signal: controller && controller.signal})
      .then(function (response) {
        return response.text().then(function () {
          if (!response.ok) throw new Error("HTTP " + response.status);
          times.push(performance.now() - start);
        });
      })
      .finally(function () { clearTimeout(timer); })
      .then(function () { return ping(times, left - 1); });
  }

  function checkConnection(s) {
    var run = ++s.pings, button = part(s, "connection"), times = [];
    function report(text) {
      if (session !== s || run !== s.pings) return;
      button.disabled = false;
      say(s, "connection-result", text);
    }
    var offline = "Connection: Offline. This device cannot reach the practice's server: check your Wi-Fi or " +
                  "mobile data, then press Check connection.";
    button.disabled = true;
    if (navigator.onLine === false) {
      report(offline);
      return;
    }
    say(s, "connection-result", "Checking your connection…");
    var radio = navigator.connection && navigator.connection.effectiveType;
    ping(times, PINGS).then(function () {
      var ms = Math.round(times.slice().sort(function (a, b) { return a - b; })[Math.floor(times.length / 2)]);
      if (ms <= GOOD_MS && radio !== "2g" && radio !== "slow-2g") {
        report("Connection: Good (" + ms + " ms to the practice's server).");
      } else {
        report("Connection: Slow (" + ms + " ms). The video may freeze: move closer to your Wi-Fi router, or " +
               "close other apps and videos that use the internet.");
      }
    }, function () {
      report(times.length ? "Connection: Slow. Some checks took too long or failed: move closer to " +
             "your Wi-Fi router, or close other apps and videos that use the internet." : offline);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[id^='device-check-']");
    if (!button) return;
    if (session && !session.panel.isConnected) close();
    if (button.id === "device-check-toggle") {
      if (session) close(); else open();
    } else if (button.id === "device-check-close") {
      close();
      var toggle = document.getElementById("device-check-toggle");
      if (toggle) toggle.focus();
    } else if (!session) {
      return;
    } else if (button.id === "device-check-retry") {
      startDevices(session);
    } else if (button.id === "device-check-sound") {
      playTone();
    } else if (button.id === "device-check-connection") {
      checkConnection(session);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !session || !session.panel.contains(event.target)) return;
    close();
    var toggle = document.getElementById("device-check-toggle");
    if (toggle) toggle.focus();
  });

  window.addEventListener("pagehide", close);
})();
