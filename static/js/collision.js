/* Collision detection on the ticket page (docs/automation.md): once realtime.js has subscribed
 * to the ticket, announce that this tab views it; "viewing" frames then list everyone who has it
 * open. Typing indicators come from realtime.js itself; a reply that crosses someone else's is
 * refused by the server (409) and the page offers "Send my reply anyway". */
(function () {
  "use strict";

  var page = document.getElementById("ticket-page");
  if (!page || !window.PrintdeskRealtime) return;
  var me = Number(document.body.dataset.userId);

  document.addEventListener("realtime:subscribed", function (event) {
    var ref = page.dataset.ticket;
    if (event.detail.ticket === ref) window.PrintdeskRealtime.send({ type: "viewing", ticket: ref });
  });

  document.addEventListener("realtime:viewing", function (event) {
    var frame = event.detail;
    var slot = document.querySelector('[data-viewers-for="' + frame.ticket + '"]');
    if (!slot) return;
    var names = (frame.viewers || [])
      .filter(function (u) { return u.id !== me; })
      .map(function (u) { return u.name || u.username; });
    slot.hidden = names.length === 0;
    slot.textContent = names.length === 0 ? "" :
      (names.length === 1 ? names[0] + " is" : names.join(", ") + " are") + " also viewing this ticket";
  });
})();
