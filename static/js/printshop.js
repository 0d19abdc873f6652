// Orders & proofs panel on the ticket page: re-render it when the ticket changes (a customer
// approved a proof, PERP was written) unless the agent is busy in it. Loaded by the htmx-swapped
// panel, so it may run more than once. Everything works without it (reload the page).
(function () {
  if (window.printdeskPrintshop) return;
  window.printdeskPrintshop = true;

  function isBusy(panel) {
    if (panel.contains(document.activeElement)) return true;
    return Array.from(panel.querySelectorAll("textarea, input[type=text], input[type=file]")).some(
      function (field) { return field.value !== ""; }
    );
  }

  document.addEventListener("realtime:ticket.updated", function (event) {
    const panel = document.getElementById("printshop-panel");
    const ticket = event.detail && event.detail.ticket;
    if (!panel || !window.htmx || !ticket || ticket.reference !== panel.dataset.ticket) return;
    if (isBusy(panel)) return;
    htmx.ajax("GET", panel.dataset.refreshUrl, { target: "#printshop-panel", swap: "outerHTML" });
  });
})();
