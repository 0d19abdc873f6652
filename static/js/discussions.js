// The ticket page's "Team discussion" panel: re-render it when one of its chat threads changes
// (a reply, an edit, a deletion: `message` frames the ticket's subscribers get, see
// comms/live.py) or a new discussion starts, unless the agent is typing in its form. Loaded by
// the htmx-swapped panel, so it may run more than once. Without it the panel shows on reload.
(function () {
  if (window.printdeskDiscussions) return;
  window.printdeskDiscussions = true;

  function isBusy(panel) {
    var focused = document.activeElement;
    if (panel.contains(focused) && focused.matches("textarea, select")) return true;
    var body = panel.querySelector("textarea");
    return Boolean(body && body.value);
  }

  document.addEventListener("realtime:message", function (event) {
    var panel = document.getElementById("team-discussion");
    var message = event.detail && event.detail.message;
    if (!panel || !window.htmx || !message || !panel.dataset.refreshUrl) return;
    var roots = (panel.dataset.threadRoots || "").split(" ").filter(Boolean).map(Number);
    var root = message.thread_root || message.id;
    var isNewDiscussion = message.ticket && message.ticket.reference === panel.dataset.ticket;
    if (roots.indexOf(root) === -1 && !isNewDiscussion) return;
    if (isBusy(panel)) return;
    htmx.ajax("GET", panel.dataset.refreshUrl, { target: "#team-discussion", swap: "outerHTML" });
  });
})();
