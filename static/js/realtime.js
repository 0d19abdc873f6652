/* Printdesk realtime client: one WebSocket per tab to /ws/staff/ (protocol in DESIGN.md).
 *
 * Config comes from <body data-user-id data-ws-url>. Subscriptions come from the page:
 * [data-subscribe-channel], #ticket-page[data-ticket]; typing from [data-typing-channel] and
 * [data-typing-ticket] inputs. Reconnects with backoff and resubscribes. Other scripts listen to
 * "realtime:<type>" events on document and may call window.PrintdeskRealtime.send(frame).
 */
(function () {
  "use strict";

  var body = document.body;
  var wsPath = body.dataset.wsUrl;
  var userId = Number(body.dataset.userId);
  if (!wsPath || !userId || !("WebSocket" in window)) return;

  var TYPING_KEEPALIVE_MS = 3000; // server TTL is ~6 s: refresh well within it
  var addingRows = {}; // inbox rows being fetched for new tickets, so each is added once
  var TYPING_IDLE_MS = 4000; // no keystroke for this long = stopped typing
  var socket = null;
  var attempt = 0;
  var reconnectTimer = null;
  var subscriptions = {}; // "channel:slug" | "ticket:ref" -> frame
  var typers = {}; // "channel:slug" -> {userId: name}
  var presenceStatus = null;

  function wsUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + wsPath;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function subscribe(target) {
    var key = target.channel ? "channel:" + target.channel : "ticket:" + target.ticket;
    var frame = { type: "subscribe" };
    if (target.channel) frame.channel = target.channel;
    else frame.ticket = target.ticket;
    subscriptions[key] = frame;
    send(frame);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    socket = new WebSocket(wsUrl());
    socket.addEventListener("open", function () {
      attempt = 0;
      body.dataset.realtime = "connected";
      Object.keys(subscriptions).forEach(function (key) { send(subscriptions[key]); });
      if (presenceStatus && presenceStatus !== "online") send({ type: "presence", status: presenceStatus });
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    });
    socket.addEventListener("close", function (event) {
      // 4401 after the socket was open: this session was signed out (another device or a
      // deactivation; docs/security.md). Reloading shows the login page instead of retrying.
      if (event.code === 4401 && body.dataset.realtime === "connected") {
        window.location.reload();
        return;
      }
      // 4429: this user opened more tabs than the per-user socket cap, and this one was the
      // oldest (docs/security.md). Retrying would close another tab in turn, so this one waits
      // until it is looked at again.
      if (event.code === 4429) {
        body.dataset.realtime = "evicted";
        document.addEventListener("visibilitychange", function reconnectWhenSeen() {
          if (document.visibilityState !== "visible") return;
          document.removeEventListener("visibilitychange", reconnectWhenSeen);
          connect();
        });
        return;
      }
      body.dataset.realtime = "disconnected";
      Object.keys(typers).forEach(function (key) { typers[key] = {}; renderTyping(key); });
      // Exponential backoff with jitter, capped at 30 s.
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  function emit(frame) {
    document.dispatchEvent(new CustomEvent("realtime:" + frame.type, { detail: frame }));
  }

  // Server frames ---------------------------------------------------------------------------------

  // One timeline refresh in flight at a time; an update that arrives meanwhile asks for one more
  // after it, so a response fetched before a later change is never the last one swapped in.
  var timelineRefresh = { inFlight: false, again: false };
  function refreshTimeline(ref) {
    if (timelineRefresh.inFlight) {
      timelineRefresh.again = true;
      return;
    }
    timelineRefresh.inFlight = true;
    htmx.ajax("GET", "/tickets/" + encodeURIComponent(ref) + "/timeline/", {
      target: "#ticket-timeline", swap: "outerHTML"
    }).finally(function () {
      timelineRefresh.inFlight = false;
      if (timelineRefresh.again) {
        timelineRefresh.again = false;
        refreshTimeline(ref);
      }
    });
  }

  // Handoff requests for this ticket (a plain fetch: htmx would queue it behind the timeline's).
  function refreshHandoffs(ref) {
    fetch("/tickets/" + encodeURIComponent(ref) + "/", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("handoff-banners");
        var current = document.getElementById("handoff-banners");
        if (!fresh || !current) return;
        current.replaceWith(fresh);
        htmx.process(fresh);
      });
  }

  var handlers = {
    presence: function (frame) {
      document.querySelectorAll('[data-presence-user="' + frame.user.id + '"]').forEach(function (dot) {
        dot.dataset.status = frame.status;
        dot.title = frame.status;
      });
      if (frame.user.id === userId) {
        var control = document.querySelector("[data-presence-control]");
        if (control && frame.status !== "offline") control.value = frame.status;
      }
    },
    typing: function (frame) {
      var key = frame.channel ? "channel:" + frame.channel : "ticket:" + frame.ticket;
      typers[key] = typers[key] || {};
      if (frame.is_typing) typers[key][frame.user.id] = frame.user.name || frame.user.username;
      else delete typers[key][frame.user.id];
      renderTyping(key);
    },
    "ticket.updated": function (frame) {
      var ref = frame.ticket && (frame.ticket.reference || frame.ticket);
      if (!ref || !window.htmx) return;
      var page = document.getElementById("ticket-page");
      if (page && page.dataset.ticket === ref && document.getElementById("ticket-timeline")) {
        refreshTimeline(ref);
      }
      if (page && page.dataset.ticket === ref && document.getElementById("handoff-banners")) {
        refreshHandoffs(ref);
      }
      var row = document.getElementById("ticket-row-" + ref);
      if (row && row.closest("[data-live-inbox]")) {
        htmx.ajax("GET", "/tickets/" + encodeURIComponent(ref) + "/row/", {
          target: "#ticket-row-" + ref, swap: "outerHTML"
        });
      } else if (!row && !location.search && !addingRows[ref]) {
        // A new ticket (e.g. a web chat just started) joins the top of the unfiltered inbox.
        var body = document.querySelector("[data-live-inbox] tbody");
        if (!body) return;
        addingRows[ref] = true;
        htmx.ajax("GET", "/tickets/" + encodeURIComponent(ref) + "/row/", {
          target: body, swap: "afterbegin"
        });
      }
      var item = document.getElementById("conv-" + ref);
      if (item && item.closest("[data-live-list]")) {
        htmx.ajax("GET", "/tickets/" + encodeURIComponent(ref) + "/row/?pane=list", {
          target: "#conv-" + ref, swap: "outerHTML"
        });
      }
    },
    notification: function () {
      var bell = document.getElementById("notification-bell");
      if (!bell) return;
      var count = document.getElementById("notification-count");
      if (!count) {
        count = document.createElement("span");
        count.id = "notification-count";
        count.className = "badge";
        bell.append(" ", count);
      }
      var n = (parseInt(count.textContent, 10) || 0) + 1;
      count.textContent = String(n);
      bell.setAttribute("aria-label", "Notifications: " + n + " unread");
    }
  };

  function handle(frame) {
    if (!frame || typeof frame.type !== "string") return;
    if (handlers[frame.type]) handlers[frame.type](frame);
    emit(frame);
  }

  function renderTyping(key) {
    var names = Object.keys(typers[key] || {}).map(function (id) { return typers[key][id]; });
    var text = "";
    if (names.length === 1) text = names[0] + " is typing…";
    else if (names.length === 2) text = names[0] + " and " + names[1] + " are typing…";
    else if (names.length > 2) text = "Several people are typing…";
    var slot = document.querySelector('[data-typing-indicator="' + key + '"]');
    if (!slot && key.indexOf("ticket:") === 0) {
      var input = document.querySelector('[data-typing-ticket="' + key.slice(7) + '"]');
      if (!input) return;
      slot = document.createElement("p");
      slot.className = "typing-indicator muted";
      slot.setAttribute("aria-live", "polite");
      slot.dataset.typingIndicator = key;
      input.insertAdjacentElement("afterend", slot);
    }
    if (slot) slot.textContent = text;
  }

  // Outgoing typing ---------------------------------------------------------------------------------

  function watchTyping(input) {
    var target = input.dataset.typingChannel
      ? { channel: input.dataset.typingChannel }
      : { ticket: input.dataset.typingTicket };
    var isTyping = false;
    var lastKey = 0;
    var keepalive = null;

    function frame(value) {
      var f = { type: "typing", is_typing: value };
      if (target.channel) f.channel = target.channel;
      else f.ticket = target.ticket;
      return f;
    }
    function stop() {
      if (!isTyping) return;
      isTyping = false;
      clearInterval(keepalive);
      send(frame(false));
    }
    input.addEventListener("input", function () {
      lastKey = Date.now();
      if (!input.value) { stop(); return; }
      if (isTyping) return;
      isTyping = true;
      send(frame(true));
      keepalive = setInterval(function () {
        if (Date.now() - lastKey > TYPING_IDLE_MS) stop();
        else send(frame(true));
      }, TYPING_KEEPALIVE_MS);
    });
    input.addEventListener("blur", stop);
    if (input.form) input.form.addEventListener("submit", stop);
  }

  // Page wiring -------------------------------------------------------------------------------------

  function scan(root) {
    root.querySelectorAll("[data-subscribe-channel]").forEach(function (el) {
      subscribe({ channel: el.dataset.subscribeChannel });
    });
    var page = root.querySelector ? root.querySelector("#ticket-page[data-ticket]") : null;
    if (page) subscribe({ ticket: page.dataset.ticket });
    root.querySelectorAll("[data-typing-channel], [data-typing-ticket]").forEach(function (input) {
      if (input.dataset.typingWatched) return;
      input.dataset.typingWatched = "1";
      watchTyping(input);
    });
  }

  var control = document.querySelector("[data-presence-control]");
  if (control) {
    control.addEventListener("change", function () {
      presenceStatus = control.value;
      send({ type: "presence", status: presenceStatus });
    });
  }

  scan(document);
  // htmx swaps (e.g. the ticket page re-rendering itself) may bring new inputs.
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });

  window.PrintdeskRealtime = { send: send, subscribe: subscribe, userId: userId };
  connect();
})();
