// The agent workspace: keyboard shortcuts (a `?` overlay lists them), the ticket page's
// conversation list (the inbox view the agent came from), the live inbox (tickets that enter the
// view are counted in a "3 new — show" bar instead of moving rows under the cursor), the saved
// views' live counts and saved-reply insertion.
// Everything here is an enhancement: links and forms work without it.
(function () {
  "use strict";

  var INBOX_QUERY_KEY = "printdesk.inboxQuery";
  var inboxTable = document.getElementById("inbox");
  var inboxResults = document.getElementById("inbox-results");
  var conversationList = document.getElementById("conversation-list");

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // The inbox view to come back to: remembered per tab, so the ticket page lists the same view.
  function rememberInboxQuery() {
    if (inboxTable) sessionStorage.setItem(INBOX_QUERY_KEY, location.search);
  }

  function inboxQuery() {
    return sessionStorage.getItem(INBOX_QUERY_KEY) || "";
  }

  function pointInboxLinks() {
    var query = inboxQuery();
    if (!query) return;
    document.querySelectorAll("a[data-inbox-link]").forEach(function (link) {
      if (link.pathname === "/tickets/" && !link.search) link.href = "/tickets/" + query;
    });
  }

  function loadConversationList() {
    if (!conversationList || !window.htmx) return;
    var params = new URLSearchParams(inboxQuery());
    params.delete("cursor");
    params.set("pane", "list");
    var slot = document.createElement("div");
    slot.id = "conversation-list-items";
    conversationList.append(slot);
    htmx.ajax("GET", "/tickets/?" + params.toString(), {
      target: "#conversation-list-items", swap: "outerHTML"
    });
  }

  function markCurrent() {
    if (!conversationList) return;
    var current = conversationList.dataset.current;
    conversationList.querySelectorAll("li[data-ticket]").forEach(function (item) {
      var link = item.querySelector("a");
      if (item.dataset.ticket === current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  function rows() {
    if (inboxTable) return Array.from(document.querySelectorAll("#inbox tbody tr[data-ticket]"));
    if (conversationList) return Array.from(conversationList.querySelectorAll("li[data-ticket]"));
    return [];
  }

  function select(index) {
    var all = rows();
    if (!all.length) return;
    var next = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    all[next].classList.add("selected");
    all[next].setAttribute("aria-selected", "true");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    return rows().findIndex(function (row) { return row.classList.contains("selected"); });
  }

  // On the ticket page j/k open the next/previous conversation of the list.
  function openSibling(step) {
    var all = rows();
    var here = all.findIndex(function (item) { return item.dataset.ticket === conversationList.dataset.current; });
    var target = all[here < 0 ? 0 : here + step];
    if (!target) return false;
    window.location.assign(target.querySelector("a").href);
    return true;
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) return false;
    var folded = field.closest("details");
    if (folded) folded.open = true;
    field.focus();
    return true;
  }

  function showHelp() {
    var dialog = document.getElementById("shortcuts-help");
    if (!dialog || dialog.open) return false;
    dialog.showModal();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var current = selectedIndex();
    var handled = true;
    switch (event.key) {
      case "j":
        if (inboxTable) select(current + 1); else handled = conversationList ? openSibling(1) : false;
        break;
      case "k":
        if (inboxTable) select(current < 0 ? 0 : current - 1); else handled = conversationList ? openSibling(-1) : false;
        break;
      case "Enter": {
        // A focused link or button keeps its own Enter.
        if (!inboxTable || event.target.closest("a, button, summary")) { handled = false; break; }
        var row = rows()[current];
        var link = row && row.querySelector("a.ticket-link");
        if (link) window.location.assign(link.href); else handled = false;
        break;
      }
      case "x": {
        var selected = inboxTable && rows()[current];
        var box = selected && selected.querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked; else handled = false;
        break;
      }
      case "/": handled = focusField("inbox-q"); break;
      case "r": handled = focusField("reply-body"); break;
      case "n": handled = focusField("note-body"); break;
      case "s": handled = focusField("status-select"); break;
      case "p": handled = focusField("priority-select"); break;
      case "a": handled = focusField("assign-agent"); break;
      case "u":
        if (conversationList) window.location.assign("/tickets/" + inboxQuery()); else handled = false;
        break;
      case "?": handled = showHelp(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Saved replies: insert the rendered text at the cursor instead of reloading the page.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-saved-reply-url]");
    if (!form) return;
    var box = document.getElementById("reply-body");
    var picker = form.elements.namedItem("saved_reply");
    var id = picker && picker.value;
    if (!box || !id) { event.preventDefault(); return; }
    event.preventDefault();
    fetch(form.dataset.savedReplyUrl + encodeURIComponent(id) + "/", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (text) {
        var start = box.selectionStart || 0;
        var end = box.selectionEnd || 0;
        box.value = box.value.slice(0, start) + text + box.value.slice(end);
        box.focus();
        box.selectionStart = box.selectionEnd = start + text.length;
        picker.value = "";
      })
      .catch(function () { form.submit(); });
  });

  // Live inbox -------------------------------------------------------------------------------

  var pending = {}; // references that entered the view since it was shown

  function viewParams() {
    var params = new URLSearchParams(inboxTable ? location.search : inboxQuery());
    params.delete("pane");
    return params;
  }

  function newBar() {
    var bar = document.getElementById("new-tickets-bar");
    if (bar) return bar;
    bar = document.createElement("div");
    bar.id = "new-tickets-bar";
    bar.className = "new-bar";
    bar.setAttribute("role", "status");
    var button = document.createElement("button");
    button.type = "button";
    button.addEventListener("click", showNew);
    bar.append(button);
    if (inboxResults) inboxResults.before(bar);
    else conversationList.querySelector(".ws-list-head").after(bar);
    return bar;
  }

  function renderNewBar() {
    var count = Object.keys(pending).length;
    var bar = newBar();
    bar.hidden = count === 0;
    bar.firstChild.textContent = count + " new — show";
  }

  function showNew() {
    pending = {};
    renderNewBar();
    if (inboxResults) {
      htmx.ajax("GET", "/tickets/" + location.search, { target: "#inbox-results", swap: "outerHTML" });
    } else {
      var params = viewParams();
      params.delete("cursor");
      params.set("pane", "list");
      htmx.ajax("GET", "/tickets/?" + params.toString(), {
        target: "#conversation-list-items", swap: "outerHTML"
      });
    }
  }

  document.addEventListener("realtime:ticket.updated", function (event) {
    var ticket = event.detail.ticket;
    var ref = ticket && (ticket.reference || ticket);
    if (!ref || pending[ref] || !(inboxResults || conversationList)) return;
    // Rows already shown refresh in place (realtime.js); a later page gets no new tickets.
    if (isShown(ref)) return;
    var params = viewParams();
    if (params.get("cursor")) return;
    params.set("in_view", "1");
    fetch("/tickets/" + encodeURIComponent(ref) + "/row/?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        // The list may have been refreshed (by "show") while this was asked: a row it now
        // shows is not new.
        if (response.status !== 200 || isShown(ref)) return;
        pending[ref] = true;
        renderNewBar();
      });
  });

  function isShown(ref) {
    return Boolean(document.getElementById("ticket-row-" + ref) || document.getElementById("conv-" + ref));
  }

  // Saved-view counts: refreshed when tickets change, debounced (a burst of updates, e.g. a
  // bulk action, costs one request a couple of seconds after it settles, and a steady stream
  // at most one every MAX_WAIT), with one request in flight at a time.
  var viewsRail = document.querySelector("[data-saved-view-counts]");
  var COUNTS_QUIET_MS = 2000;
  var COUNTS_MAX_WAIT_MS = 10000;
  var counts = { timer: null, firstAt: 0, inFlight: false, again: false };

  function refreshCounts() {
    counts.timer = null;
    counts.firstAt = 0;
    if (counts.inFlight) { counts.again = true; return; }
    counts.inFlight = true;
    fetch(viewsRail.dataset.savedViewCounts, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.views.forEach(function (view) {
          var badge = viewsRail.querySelector('[data-saved-view-id="' + view.id + '"] [data-count]');
          if (badge) badge.textContent = view.label;
        });
      })
      .finally(function () {
        counts.inFlight = false;
        if (counts.again) { counts.again = false; scheduleCounts(); }
      });
  }

  function scheduleCounts() {
    var now = Date.now();
    if (!counts.firstAt) counts.firstAt = now;
    clearTimeout(counts.timer);
    var wait = Math.min(COUNTS_QUIET_MS, counts.firstAt + COUNTS_MAX_WAIT_MS - now);
    counts.timer = setTimeout(refreshCounts, Math.max(wait, 0));
  }

  if (viewsRail) document.addEventListener("realtime:ticket.updated", scheduleCounts);

  // A new filter shows a new list: what was pending is in it or no longer wanted.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.target && event.detail.target.id;
    if (swapped === "inbox-results" || swapped === "conversation-list-items") {
      pending = {};
      if (document.getElementById("new-tickets-bar")) renderNewBar();
    }
  });

  // The ticket page re-renders itself after an action: folded sections stay as the agent left them.
  var openSections = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "ticket-page") return;
    openSections = Array.from(event.detail.target.querySelectorAll("details[id][open]")).map(function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "ticket-page") return;
    openSections.forEach(function (id) {
      var section = document.getElementById(id);
      if (section) section.open = true;
    });
  });

  rememberInboxQuery();
  // The filter form pushes its query into the address bar (hx-push-url).
  document.addEventListener("htmx:pushedIntoHistory", rememberInboxQuery);
  document.addEventListener("htmx:afterSettle", function () {
    markCurrent();
    pointInboxLinks();
  });
  pointInboxLinks();
  loadConversationList();
})();
