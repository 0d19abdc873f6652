/* Printdesk storefront chat widget (served as /widget.js; docs/channels.md "Web chat").
 *
 * <script src="https://HOST/widget.js" data-inbox="KEY" async></script>
 * Optional, for a logged-in customer (signed by the theme, see the docs):
 *   data-customer-email="…" data-customer-signature="HMAC-SHA256 hex"
 *
 * No framework and no request to any host but ours until the visitor sends a first message (then
 * the shop's own /cart.js). Styles live in a shadow root, so the theme and the widget never
 * restyle each other. Live replies and typing come over /ws/widget/; while the socket is down the
 * widget polls. The visitor token stays in localStorage.
 *
 * A proof sent on the conversation shows as a card under its message (preview from our origin,
 * Approve / Request changes, the public proof page as the fallback); a solved ticket asks for
 * its rating inline. Both are answered through the same services as their public pages.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.inbox || window.__printdeskWidget) return;
  window.__printdeskWidget = true;
  var inbox = script.dataset.inbox;
  var base = new URL(script.src).origin;
  var api = base + "/widget/" + encodeURIComponent(inbox) + "/";
  var claim = {
    identity_email: script.dataset.customerEmail || "",
    identity_signature: script.dataset.customerSignature || ""
  };
  var storeKey = "printdesk-widget:" + inbox;
  var state = load();
  var config = null, socket = null, pollTimer = null, retryMs = 1000, typingTimer = null;
  var verified = false, askEmail = false, shown = {}, unread = [], lastId = 0, isOpen = false, isTyping = false, sentFirst = false;
  // Message elements by id; proof and survey cards by id; proof cards waiting for their message.
  var bubbles = {}, proofCards = {}, surveyCards = {}, waiting = {};

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  // DOM ------------------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "printdesk-chat";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host{all:initial;--c:#1f5fbf;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24}" +
    "*{box-sizing:border-box}button,input,textarea{font:inherit}" +
    ".launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:360px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}" +
    ".panel[hidden],[hidden]{display:none!important}" +
    "header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:flex-start;gap:8px}" +
    "header h2{font-size:16px;margin:0}header p{margin:2px 0 0;font-size:13px;opacity:.95}header div{flex:1}" +
    ".x{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f6f8}" +
    ".m{max-width:85%;padding:8px 11px;border-radius:12px;background:#fff;border:1px solid #dde1e6;white-space:pre-wrap;word-wrap:break-word}" +
    ".m.in{align-self:flex-end;background:var(--c);color:#fff;border-color:transparent}" +
    ".m small{display:block;font-size:12px;opacity:.8}.m a{color:inherit}" +
    ".note{font-size:13px;color:#4a5361;margin:0}" +
    "form{display:flex;flex-direction:column;gap:6px;padding:10px;border-top:1px solid #dde1e6}" +
    "label{font-size:13px;color:#3b4350}input,textarea{width:100%;padding:8px;border:1px solid #8a94a3;border-radius:8px;color:#1b1f24;background:#fff}" +
    "textarea{resize:none;height:62px}.row{display:flex;gap:6px;align-items:center}" +
    ".send{border:0;border-radius:8px;padding:8px 14px;background:var(--c);color:#fff;cursor:pointer}" +
    ".file{position:relative;overflow:hidden;border:1px solid #8a94a3;border-radius:8px;padding:7px 10px;cursor:pointer;font-size:13px}" +
    ".file input{position:absolute;inset:0;opacity:0;cursor:pointer}" +
    ":focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".err{color:#a4001d;font-size:13px;margin:0}" +
    ".card{background:#fff;border:1px solid #dde1e6;border-radius:12px;padding:10px;display:flex;flex-direction:column;gap:6px}" +
    ".card p{margin:0}.card img{display:block;max-width:100%;max-height:220px;border:1px solid #dde1e6;border-radius:6px}" +
    ".card a{color:#1b1f24}.card fieldset{border:0;margin:0;padding:0}.card legend{padding:0;margin-bottom:4px}" +
    ".opt{display:flex;gap:6px;align-items:center}.opt input{width:auto;margin:0}" +
    ".alt{border:1px solid #3b4350;border-radius:8px;padding:8px 14px;background:#fff;color:#1b1f24;cursor:pointer}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100vh;max-height:100vh;border-radius:0}}" +
    "</style>" +
    '<button class="launch" type="button" aria-expanded="false" aria-controls="pd-panel">Chat with us</button>' +
    '<section class="panel" id="pd-panel" role="dialog" aria-modal="true" aria-labelledby="pd-title" hidden>' +
    '<header><div><h2 id="pd-title"></h2><p id="pd-status"></p></div>' +
    '<button class="x" type="button" aria-label="Close chat">×</button></header>' +
    '<div class="log" role="log" aria-live="polite" aria-label="Conversation"><p class="note greet"></p></div>' +
    '<p class="note typing" aria-live="polite" hidden></p>' +
    '<form novalidate>' +
    '<div class="pre"></div>' +
    '<label class="sr" for="pd-body">Your message</label>' +
    '<textarea id="pd-body" name="body" placeholder="Write a message…"></textarea>' +
    '<p class="err" role="alert"></p>' +
    '<div class="row"><span class="file"><span class="fname">Attach artwork</span>' +
    '<input type="file" name="file" accept="image/png,image/jpeg,application/pdf" aria-label="Attach artwork (PNG, JPEG or PDF)"></span>' +
    '<span style="flex:1"></span><button class="send" type="submit">Send</button></div>' +
    "</form></section>";
  var $ = function (sel) { return root.querySelector(sel); };
  var launch = $(".launch"), panel = $(".panel"), log = $(".log"), form = $("form");
  var body = $("#pd-body"), fileInput = $('input[type="file"]'), err = $(".err"), typingNote = $(".typing");

  function request(method, path, data) {
    var options = { method: method, headers: { "X-Widget-Token": state.token || "" } };
    if (data instanceof FormData) options.body = data;
    else if (data) {
      options.body = JSON.stringify(data);
      options.headers["Content-Type"] = "application/json";
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) throw json;
        return json;
      });
    });
  }

  // Start: settings, then the token -------------------------------------------------------------
  request("GET", "config/").then(function (c) {
    config = c;
    host.style.setProperty("--c", c.colour);
    $("#pd-title").textContent = c.shop_name;
    $(".greet").textContent = c.greeting;
    $("#pd-status").textContent = statusText(c);
    return request("POST", "session/", Object.assign({ token: state.token || "" }, claim));
  }).then(function (session) {
    if (!session) return;
    state.token = session.token;
    save();
    verified = session.verified;
    buildPrechat(config);
    // Shown only once usable: a launcher clicked before the session would open a form that is
    // still missing the fields it will ask for.
    document.body.appendChild(host);
    poll();
    connect();
  }).catch(function () { /* not allowed on this page, or we are down: show nothing */ });

  function statusText(c) {
    if (!c.online) return "We're away right now. Leave your email and we'll reply there.";
    if (!c.reply_seconds) return "We're online.";
    var minutes = Math.max(1, Math.round(c.reply_seconds / 60));
    return minutes < 60 ? "We usually reply in " + minutes + " min."
      : "We usually reply in " + Math.round(minutes / 60) + " h.";
  }

  function buildPrechat(c) {
    var fields = c.prechat_fields.slice();
    if (!c.online && fields.indexOf("email") < 0) fields.push("email");
    // A verified customer is known by their signed email; one who already wrote has answered
    // (unless we went away since and have no email to answer them at).
    if (state.started || verified) fields = askEmail ? ["email"] : [];
    var labels = { name: ["Your name", "text", "name"], email: ["Your email", "email", "email"], order: ["Order number (optional)", "text", "off"] };
    var pre = $(".pre");
    pre.textContent = "";
    fields.forEach(function (name) {
      var id = "pd-" + name, spec = labels[name];
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = spec[0];
      var input = document.createElement("input");
      input.id = id; input.name = name; input.type = spec[1]; input.autocomplete = spec[2];
      if (name === "email" && (!c.online || askEmail)) input.required = true;
      pre.appendChild(label);
      pre.appendChild(input);
    });
  }

  // Open / close, focus kept inside while open ---------------------------------------------------
  function setOpen(open) {
    isOpen = open;
    panel.hidden = !open;
    launch.setAttribute("aria-expanded", String(open));
    if (open) {
      (root.querySelector(".pre input") || body).focus();
      markRead();
    } else launch.focus();
  }
  launch.addEventListener("click", function () { setOpen(!isOpen); });
  $(".x").addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); return; }
    if (event.key !== "Tab") return;
    var items = Array.prototype.filter.call(
      panel.querySelectorAll("button,input,textarea,a[href]"), function (el) { return !el.disabled && el.offsetParent !== null; });
    var first = items[0], last = items[items.length - 1];
    if (event.shiftKey && root.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && root.activeElement === last) { event.preventDefault(); first.focus(); }
  });
  fileInput.addEventListener("change", function () {
    $(".fname").textContent = fileInput.files[0] ? fileInput.files[0].name : "Attach artwork";
  });
  body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  body.addEventListener("input", function () {
    if (!isTyping) { isTyping = true; sendFrame({ type: "typing", is_typing: true }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  });
  function stopTyping() {
    clearTimeout(typingTimer);
    if (isTyping) { isTyping = false; sendFrame({ type: "typing", is_typing: false }); }
  }

  // Sending ----------------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    err.textContent = "";
    var file = fileInput.files[0];
    if (!body.value.trim() && !file) { err.textContent = "Write a message or attach a file."; body.focus(); return; }
    var data = new FormData();
    data.append("body", body.value);
    data.append("client_id", Date.now().toString(36) + Math.random().toString(36).slice(2, 10));
    data.append("identity_email", claim.identity_email);
    data.append("identity_signature", claim.identity_signature);
    data.append("offline", config && !config.online ? "true" : "false");
    root.querySelectorAll(".pre input").forEach(function (input) { data.append(input.name, input.value); });
    if (file) data.append("file", file);
    var first = !state.started && !sentFirst;
    (first ? context(data) : Promise.resolve()).then(function () {
      return request("POST", "messages/", data);
    }).then(function (answer) {
      sentFirst = true;
      state.started = true;
      save();
      show(answer.message);
      body.value = "";
      fileInput.value = "";
      $(".fname").textContent = "Attach artwork";
      $(".pre").textContent = "";
      stopTyping();
    }).catch(function (problem) {
      var fields = (problem && problem.fields) || {};
      var key = Object.keys(fields)[0];
      if (fields.email && !root.querySelector("#pd-email")) { askEmail = true; buildPrechat(config); }
      err.textContent = key ? fields[key][0] : (problem && problem.detail) || "Sending failed; try again.";
    });
  });

  // The page and the shop's cart (Shopify's /cart.js, same origin as the page) with the first message.
  function context(data) {
    data.append("page_url", location.href);
    return fetch("/cart.js", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (cart) {
      if (cart && typeof cart === "object") data.append("cart", JSON.stringify(cart));
    }).catch(function () { /* not a Shopify page */ });
  }

  // Showing messages -------------------------------------------------------------------------------
  function show(m) {
    if (shown[m.id]) return;
    shown[m.id] = true;
    lastId = Math.max(lastId, m.id);
    var item = document.createElement("div");
    item.className = "m " + m.direction;
    if (m.direction === "out") {
      var who = document.createElement("small");
      who.textContent = m.author;
      item.appendChild(who);
    }
    item.appendChild(document.createTextNode(m.body));
    bubbles[m.id] = item;
    m.attachments.forEach(function (a) {
      var link = document.createElement("a");
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "📎 " + a.filename;
      item.appendChild(document.createElement("br"));
      item.appendChild(link);
    });
    log.appendChild(item);
    if (waiting[m.id]) { item.after(waiting[m.id]); delete waiting[m.id]; }
    keepSurveyLast();
    log.scrollTop = log.scrollHeight;
    if (m.direction === "out") {
      typingNote.hidden = true;
      if (m.status === "sent") receipt(m.id, "delivered");
      if (isOpen && !document.hidden) receipt(m.id, "read");
      else if (m.status !== "read") {
        unread.push(m.id);
        launch.textContent = "New reply: open chat";
      }
    }
  }
  function receipt(id, status) {
    if (!sendFrame({ type: "receipt", message_id: id, status: status }) && status === "read") {
      request("POST", "receipts/", { message_id: id, status: status }).catch(function () {});
    }
  }
  function markRead() {
    launch.textContent = "Chat with us";
    unread.forEach(function (id) { receipt(id, "read"); });
    unread = [];
    save();
  }

  // Live: the socket, else polling -----------------------------------------------------------------
  function sendFrame(frame) {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }
  function connect() {
    socket = new WebSocket(base.replace(/^http/, "ws") + "/ws/widget/?inbox=" + encodeURIComponent(inbox));
    socket.onopen = function () { socket.send(JSON.stringify({ type: "auth", token: state.token })); };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "ready") { retryMs = 1000; clearInterval(pollTimer); pollTimer = null; poll(); loadCards(); }
      else if (frame.type === "message") show(frame.message);
      else if (frame.type === "proof") showProof(frame.proof);
      else if (frame.type === "csat") showSurvey(frame.survey);
      else if (frame.type === "typing") {
        typingNote.hidden = !frame.is_typing;
        typingNote.textContent = (frame.name || "Someone") + " is typing…";
      }
    };
    socket.onclose = function () {
      socket = null;
      if (!pollTimer) pollTimer = setInterval(poll, 5000);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    };
  }
  function poll() {
    request("GET", "messages/?after=" + lastId).then(function (answer) {
      answer.messages.forEach(show);
      // Without the socket, a new agent message may be a proof or the survey: ask for cards.
      var live = socket && socket.readyState === 1;
      if (!live && answer.messages.some(function (m) { return m.direction === "out"; })) loadCards();
    }).catch(function () {});
  }

  // Proof cards and the rating prompt --------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }
  function link(href, text) {
    var a = el("a", "", text);
    a.href = href; a.target = "_blank"; a.rel = "noopener";
    return a;
  }
  function status(text) {
    var note = el("p", "note", text);
    note.setAttribute("role", "status");
    note.tabIndex = -1;
    return note;
  }
  function loadCards() {
    request("GET", "proofs/").then(function (a) { a.proofs.forEach(function (p) { showProof(p); }); }).catch(function () {});
    request("GET", "surveys/").then(function (a) { a.surveys.forEach(showSurvey); }).catch(function () {});
  }
  var outcomes = {
    approved: "You approved this proof. We will print from this version.",
    changes_requested: "You asked for changes. We will send you a new version.",
    superseded: "A newer version of this proof was sent.",
    expired: "This proof link has expired; ask us for a new one."
  };
  function showProof(p, notice) {
    var card = proofCards[p.id], key = p.state + " " + p.preview_url;
    if (card && card.dataset.key === key && !notice) return;
    var fresh = !card;
    if (fresh) {
      card = proofCards[p.id] = el("div", "card");
      card.setAttribute("role", "group");
    }
    var typed = card.querySelector("textarea"), title = "Proof version " + p.version;
    var wasTyping = typed && root.activeElement === typed;
    card.dataset.key = key;
    card.setAttribute("aria-label", title);
    card.textContent = "";
    card.appendChild(el("p", "", title + (p.label ? " · " + p.label : ""))).style.fontWeight = "600";
    if (notice) card.appendChild(el("p", "err", notice)).setAttribute("role", "alert");
    if (p.preview_url) {
      var img = el("img");
      img.src = p.preview_url;
      img.alt = title + ": " + p.file_name;
      card.appendChild(link(p.page_url, "")).appendChild(img);
    } else if (p.file_url) card.appendChild(el("p")).appendChild(link(p.file_url, p.is_pdf ? "Open the proof (PDF)" : "Open the proof"));
    if (p.state === "pending") {
      var id = "pd-proof-" + p.id, box = el("textarea"), err = el("p", "err"), row = el("div", "row");
      var label = el("label", "", "Comments (required if you ask for changes)");
      label.htmlFor = box.id = id;
      box.maxLength = 2000;
      box.value = typed ? typed.value : "";
      err.setAttribute("role", "alert");
      [["approved", "send", "Approve"], ["changes_requested", "alt", "Request changes"]].forEach(function (b) {
        var button = el("button", b[1], b[2]);
        button.type = "button";
        button.addEventListener("click", function () { decide(p, b[0], card, box, err); });
        row.appendChild(button);
      });
      [label, box, err, row].forEach(function (node) { card.appendChild(node); });
      if (wasTyping) box.focus();
    } else {
      card.appendChild(status(outcomes[p.state]));
      if (p.comment) card.appendChild(el("p", "note", "“" + p.comment + "”"));
    }
    card.appendChild(el("p", "note")).appendChild(link(p.page_url, "Open the proof page"));
    if (!fresh) return;
    var bubble = bubbles[p.message_id];
    if (bubble) bubble.after(card);
    else if (p.message_id) waiting[p.message_id] = card;
    else log.appendChild(card);
  }
  function decide(p, decision, card, box, err) {
    var comment = box.value.trim();
    err.textContent = "";
    if (decision === "changes_requested" && !comment) { err.textContent = "Tell us what to change."; box.focus(); return; }
    card.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    request("POST", "proofs/" + p.id + "/decision/", { decision: decision, comment: comment }).then(function (a) {
      showProof(a.proof);
      card.querySelector("[role=status]").focus();
    }).catch(function (problem) {
      card.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      var detail = (problem && problem.detail) || "That did not work; try again.";
      if (!problem || ["proof_decided", "proof_superseded", "proof_expired"].indexOf(problem.code) < 0) {
        err.textContent = detail;
        return;
      }
      // Decided elsewhere a moment ago (another tab, the proof page): show what stands.
      request("GET", "proofs/").then(function (a) {
        a.proofs.forEach(function (q) { if (q.id === p.id) showProof(q, detail); });
      }).catch(function () { err.textContent = detail; });
    });
  }
  function showSurvey(s) {
    var card = surveyCards[s.id];
    if (card && card.dataset.state === s.state) return;
    if (!card) {
      card = surveyCards[s.id] = el("div", "card");
      card.setAttribute("role", "group");
      card.setAttribute("aria-label", "Rate our help");
    }
    card.dataset.state = s.state;
    card.textContent = "";
    if (s.state === "answered") card.appendChild(status("Thank you! You rated us " + s.rating + " out of 5."));
    else {
      var set = el("fieldset"), box = el("textarea"), err = el("p", "err"), send = el("button", "send", "Send rating");
      var label = el("label", "", "Anything you want to tell us? (optional)");
      set.appendChild(el("legend", "", s.question));
      s.scale.forEach(function (option) {
        var row = el("div", "opt"), radio = el("input"), text = el("label", "", option.label);
        radio.type = "radio"; radio.name = "pd-rating-" + s.id; radio.value = option.value;
        text.htmlFor = radio.id = "pd-rating-" + s.id + "-" + option.value;
        row.appendChild(radio); row.appendChild(text); set.appendChild(row);
      });
      label.htmlFor = box.id = "pd-rating-comment-" + s.id;
      box.maxLength = 2000;
      err.setAttribute("role", "alert");
      send.type = "button";
      send.addEventListener("click", function () { rate(s, card, box, err, send); });
      [set, label, box, err, send].forEach(function (node) { card.appendChild(node); });
    }
    if (!card.parentNode) log.appendChild(card);
    log.scrollTop = log.scrollHeight;
  }
  function rate(s, card, box, err, send) {
    var chosen = card.querySelector("input:checked");
    err.textContent = "";
    if (!chosen) { err.textContent = "Choose a rating from 1 to 5."; card.querySelector("input").focus(); return; }
    send.disabled = true;
    request("POST", "surveys/" + s.id + "/answer/", { rating: Number(chosen.value), comment: box.value }).then(function (a) {
      showSurvey(a.survey);
      card.querySelector("[role=status]").focus();
    }).catch(function (problem) {
      send.disabled = false;
      err.textContent = (problem && problem.detail) || "That did not work; try again.";
    });
  }
  // An unanswered rating prompt stays under the newest message (unless the visitor is in it).
  function keepSurveyLast() {
    Object.keys(surveyCards).forEach(function (id) {
      var card = surveyCards[id];
      if (card.dataset.state === "open" && !card.contains(root.activeElement)) log.appendChild(card);
    });
  }
})();
