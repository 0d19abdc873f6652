/* Live SLA countdown on the ticket page: every [data-sla-due] shows the time left (or overdue),
 * and the panel re-renders when the ticket changes. Without JS the server-rendered text stays. */
(function () {
  "use strict";

  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) return days + "d " + hours + "h";
    if (hours > 0) return hours + "h " + mins + "m";
    return mins + "m";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.slaDue);
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left > 0 ? "due in " + format(left) : "overdue by " + format(left);
      var item = el.closest(".sla-deadline");
      if (item) {
        item.classList.toggle("is-breached", left <= 0);
        item.classList.toggle("is-soon", left > 0 && left < 30 * 60000);
      }
    });
  }

  // A priority or status change moves the deadlines: re-render the panel (realtime.js event).
  document.addEventListener("realtime:ticket.updated", function (event) {
    var panel = document.getElementById("ticket-sla");
    var page = document.getElementById("ticket-page");
    var ref = event.detail.ticket && event.detail.ticket.reference;
    if (!panel || !page || !window.htmx || ref !== page.dataset.ticket) return;
    window.htmx.ajax("GET", "/tickets/" + encodeURIComponent(ref) + "/sla/", {
      target: "#ticket-sla", swap: "outerHTML"
    });
  });

  tick();
  setInterval(tick, 15000);
  document.addEventListener("htmx:afterSettle", tick);
})();
