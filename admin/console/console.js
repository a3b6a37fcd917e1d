// The console's script: the try-it form and the reload button, and
// window.assignd, the requests every console script makes (refresh.js
// among them), so that what each request carries is decided in one place.
// It builds the DOM with textContent only, so nothing an answer holds can
// run.
"use strict";

window.assignd = (function () {
  // The admin token, when the listener asks for one, lives in this tab's
  // session storage and goes with every request the page makes.
  var tokenKey = "assignd-admin-token";

  // request is every request the console makes to its own origin.
  function request(url, init) {
    init = init || {};
    init.credentials = "same-origin";
    init.headers = init.headers || {};
    var token = window.sessionStorage.getItem(tokenKey);
    if (token) { init.headers.Authorization = "Bearer " + token; }
    return fetch(url, init);
  }
  return {
    tokenKey: tokenKey,
    request: request,
    get: function (url) { return request(url, { method: "GET", headers: { "Accept": "text/html" } }); },
    post: function (url, body) {
      return request(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      });
    }
  };
})();

(function () {
  var tryFields = ["task", "worker", "fields", "callback", "now"];

  function $(id) { return document.getElementById(id); }

  function clearErrors() {
    tryFields.forEach(function (f) { $("try-" + f + "-error").textContent = ""; });
    $("try-status").textContent = "";
  }

  function fieldError(field, msg) {
    var el = field && $("try-" + field + "-error");
    if (el) {
      el.textContent = msg;
    } else {
      $("try-status").textContent = msg;
    }
  }

  // objectField parses a JSON-object textarea; an empty one is absent.
  function objectField(field, req) {
    var text = $("try-" + field).value.trim();
    if (text === "") { return true; }
    var v;
    try {
      v = JSON.parse(text);
    } catch (e) {
      fieldError(field, "malformed JSON: " + e.message);
      return false;
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      fieldError(field, "must be a JSON object");
      return false;
    }
    req[field] = v;
    return true;
  }

  function buildRequest() {
    var req = {};
    var ok = true;
    var callback = $("try-callback").value.trim();
    if (callback !== "") {
      req.callback = callback;
    } else {
      ok = objectField("task", req) && ok;
      ok = objectField("worker", req) && ok;
    }
    ok = objectField("fields", req) && ok;
    var now = $("try-now").value.trim();
    if (now !== "") { req.now = now; }
    return ok ? req : null;
  }

  function cell(row, text, tag) {
    var c = document.createElement(tag || "td");
    c.textContent = text;
    row.appendChild(c);
    return c;
  }

  function showReport(r) {
    $("try-winner").textContent = "Winner: rule #" + r.index + " \u201c" + r.rule + "\u201d: " +
      r.instruction + ", " + r.mode + " mode";
    var body = $("try-trace").tBodies[0];
    body.textContent = "";
    r.steps.forEach(function (s) {
      var row = document.createElement("tr");
      if (s.outcome === "matched") { row.className = "matched"; }
      if (s.outcome === "skipped") { row.className = "skipped"; }
      cell(row, String(s.index));
      cell(row, s.rule, "th").setAttribute("scope", "row");
      cell(row, s.outcome);
      cell(row, s.why || "");
      body.appendChild(row);
    });
    var reply = r.mode === "update" ?
      "callback reply: empty body\nREST update form: " + JSON.stringify(r.rest_form, null, 2) :
      JSON.stringify(r.reply);
    $("try-reply").textContent = reply;
    $("try-result").hidden = false;
  }

  var tokenKey = window.assignd.tokenKey;

  function post(url, body) {
    return window.assignd.post(url, body).then(function (res) {
      return res.json().then(function (data) { return { ok: res.ok, status: res.status, data: data }; });
    });
  }

  function onTry(ev) {
    ev.preventDefault();
    clearErrors();
    var req = buildRequest();
    if (!req) { return; }
    $("try-status").textContent = "explaining\u2026";
    post("/-/explain", req).then(function (res) {
      $("try-status").textContent = "";
      if (!res.ok) {
        fieldError(res.data.field, res.data.error || ("HTTP " + res.status));
        return;
      }
      showReport(res.data);
    }).catch(function (e) {
      $("try-status").textContent = "request failed: " + e.message;
    });
  }

  function onReload() {
    var out = $("reload-result");
    out.textContent = "reloading\u2026";
    post("/-/reload", {}).then(function (res) {
      var d = res.data;
      out.textContent = "";
      var head = document.createElement("span");
      if (res.ok) {
        head.className = "good";
        head.textContent = "ok: hash " + d.hash;
        $("policy-hash").textContent = d.hash;
      } else {
        head.className = "bad";
        head.textContent = d.error || ("HTTP " + res.status);
      }
      out.appendChild(head);
      if (d.problems && d.problems.length) {
        var list = document.createElement("ul");
        list.className = "problems";
        d.problems.forEach(function (p) {
          var li = document.createElement("li");
          li.textContent = p;
          list.appendChild(li);
        });
        out.appendChild(list);
      }
    }).catch(function (e) {
      out.textContent = "request failed: " + e.message;
    });
  }

  function bind() {
    $("try").addEventListener("submit", onTry);
    $("reload").addEventListener("click", onReload);
  }

  // unlock fetches the console with the stored token and puts its body in
  // place of the token form; a refused token is forgotten.
  function unlock() {
    window.assignd.request("/", { method: "GET" }).then(function (res) {
      if (res.status === 401) {
        window.sessionStorage.removeItem(tokenKey);
        throw new Error("the token was refused");
      }
      if (!res.ok) { throw new Error("HTTP " + res.status); }
      return res.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      document.body.replaceWith(document.adoptNode(page.body));
      bind();
    }).catch(function (e) {
      var out = $("token-error");
      if (out) { out.textContent = e.message; }
    });
  }

  function onToken(ev) {
    ev.preventDefault();
    window.sessionStorage.setItem(tokenKey, $("token").value);
    unlock();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("token-form");
    if (!form) {
      bind();
      return;
    }
    form.addEventListener("submit", onToken);
    if (window.sessionStorage.getItem(tokenKey)) { unlock(); }
  });
})();
