// Auto-refresh: every few seconds the console fetches its own page and
// swaps in each element marked data-live, by id. It pauses while a form
// is being edited (a control has focus or holds unsent changes) and while
// the tab is hidden, so that nothing typed is lost and no input jumps.
"use strict";

(function () {
  var period = 5000;
  var dirty = false;

  function editing() {
    var a = document.activeElement;
    return dirty || (a && a.form) || (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName));
  }

  function state(text) {
    var el = document.getElementById("refresh-state");
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function swap(doc) {
    document.querySelectorAll("[data-live]").forEach(function (old) {
      var fresh = old.id && doc.getElementById(old.id);
      // Keyboard focus inside stays where it is: that element waits.
      if (old.contains(document.activeElement)) { return; }
      if (fresh && fresh.innerHTML !== old.innerHTML) {
        old.replaceWith(document.importNode(fresh, true));
      }
    });
  }

  function tick() {
    if (document.hidden) { return; }
    if (editing()) {
      state("Auto-refresh paused while a form is being edited.");
      return;
    }
    window.assignd.get(location.pathname + location.search).then(function (res) {
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      return res.text();
    }).then(function (html) {
      swap(new DOMParser().parseFromString(html, "text/html"));
      state("Refreshed " + new Date().toLocaleTimeString() + "; refreshes every " + period / 1000 + " s.");
    }).catch(function (e) {
      state("Auto-refresh failed: " + e.message + "; retrying.");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (f) {
      f.addEventListener("input", function () { dirty = true; });
      f.addEventListener("submit", function () { dirty = false; });
      f.addEventListener("reset", function () { dirty = false; });
    });
    window.setInterval(tick, period);
  });
})();
