/* Balans: tell the viewer, in Swedish, when the page has lost its kernel, and offer the way
   back to the same setting (the app's share link). Loaded in <head>, before Voilà's own
   scripts, it watches the kernel websocket Voilà opens; the server closes that socket with
   code 4001 ("idle:<seconds>") when an idle page is released and 1001 ("stopping") when the
   server stops (balans/serve_voila.py). While the page is still loading its scripts, before
   that socket opens, it tells the server every 10 s that it is coming (GET
   balans/loading/<kernel>), so a slow device keeps its kernel; the server stops keeping it
   10 minutes after the page was sent. A file of its own, not inline, for the CSP. */
(function () {
  "use strict";
  var Native = window.WebSocket;
  if (!Native) {
    return;
  }
  var leaving = false; // the viewer closes or reloads the page: its sockets close as expected
  var ended = false; // the kernel is gone for good: the notice stays
  var lostTimer = null;
  var connected = false; // the kernel's websocket has opened once: the page has loaded
  var LOADING_PING_MS = 10000;
  var LOADING_MAX_MS = 600000;

  function loadingPings() {
    var el = document.getElementById("jupyter-config-data");
    var cfg = null;
    try {
      cfg = el ? JSON.parse(el.textContent) : null;
    } catch (e) {
      cfg = null;
    }
    if (!cfg || !cfg.kernelId) {
      return;
    }
    var base = String(cfg.baseUrl || "/").replace(/\/?$/, "/");
    var url = base + "balans/loading/" + encodeURIComponent(cfg.kernelId);
    var started = Date.now();
    function ping() {
      if (connected || Date.now() - started > LOADING_MAX_MS) {
        return;
      }
      fetch(url, { cache: "no-store", credentials: "same-origin" }).then(
        function (r) {
          if (r.status !== 410) {
            // 204: kept; anything else (a proxy's hiccup): ask again; 410: no longer kept
            setTimeout(ping, LOADING_PING_MS);
          }
        },
        function () {
          setTimeout(ping, LOADING_PING_MS);
        }
      );
    }
    ping();
  }
  document.addEventListener("DOMContentLoaded", loadingPings);

  function leave() {
    leaving = true;
    // still here a few seconds later: the unload did not happen (cancelled, a download)
    setTimeout(function () { leaving = false; }, 3000);
  }
  window.addEventListener("beforeunload", leave);
  window.addEventListener("pagehide", leave);

  function sameSetting() {
    var a = document.querySelector("a.balans-share-link");
    var href = a && a.getAttribute("href");
    return href ? new URL(href, window.location.href).href : window.location.href;
  }

  function notice(kind, text, label) {
    var box = document.getElementById("balans-session-notice");
    if (!box) {
      box = document.createElement("div");
      box.id = "balans-session-notice";
      box.setAttribute("role", "alert");
      box.appendChild(document.createElement("p"));
      var link = document.createElement("a");
      link.className = "balans-session-reload";
      link.addEventListener("click", function () { link.href = sameSetting(); });
      box.appendChild(link);
      document.body.appendChild(box);
    }
    box.className = "balans-session-notice balans-session-" + kind;
    box.setAttribute("data-kind", kind);
    box.querySelector("p").textContent = text;
    var a = box.querySelector("a");
    a.textContent = label;
    a.href = sameSetting();
    box.hidden = false;
  }

  function hide() {
    var box = document.getElementById("balans-session-notice");
    if (box && !ended) {
      box.hidden = true;
    }
  }

  function closed(ev) {
    if (leaving || ended) {
      return;
    }
    var reason = ev.reason || "";
    if (ev.code === 4001) {
      ended = true;
      var seconds = parseInt(reason.split(":")[1], 10);
      var span = !(seconds > 0) ? "en stund"
        : seconds < 120 ? seconds + " sekunder"
        : Math.round(seconds / 60) + " minuter";
      notice(
        "idle",
        "Sidan har inte använts på " + span +
          " och har kopplats från servern för att ge plats åt andra.",
        "Öppna samma inställning igen"
      );
    } else if (ev.code === 1001 && reason === "stopping") {
      ended = true;
      notice("stopped", "Servern har stängts av eller startas om.", "Ladda om med samma inställning");
    } else if (ev.code === 1001 && reason === "shutdown") {
      ended = true;
      notice("ended", "Sidans session har avslutats.", "Öppna samma inställning igen");
    } else {
      // the connection was lost: Voilà tries to reconnect by itself; say so if it takes time
      clearTimeout(lostTimer);
      lostTimer = setTimeout(function () {
        notice(
          "lost",
          "Anslutningen till servern bröts. Sidan försöker ansluta igen …",
          "Ladda om med samma inställning"
        );
      }, 1500);
    }
  }

  function Watched(url, protocols) {
    var ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    if (/\/api\/kernels\/[^/]+\/channels/.test(String(url))) {
      ws.addEventListener("open", function () {
        connected = true;
        clearTimeout(lostTimer);
        hide();
      });
      ws.addEventListener("close", closed);
    }
    return ws;
  }
  Watched.prototype = Native.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) {
    Watched[k] = Native[k];
  });
  window.WebSocket = Watched;
})();
