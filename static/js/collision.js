/* Collision detection on the ticket page: who else has it open (server "viewing" frames via
 * realtime.js), and a confirm step when the server answers a reply with 409 reply_collision.
 * Typing indicators come from realtime.js itself. */
(function () {
  "use strict";

  var page = document.getElementById("ticket-page");
  if (!page) return;
  var me = Number(document.body.dataset.userId);

  function slot() {
    return document.querySelector('[data-viewers-for="' + page.dataset.ticket + '"]');
  }

  document.addEventListener("realtime:viewing", function (event) {
    var frame = event.detail;
    var el = slot();
    if (!el || frame.ticket !== page.dataset.ticket) return;
    var others = (frame.viewers || []).filter(function (u) { return u.id !== me; });
    var names = others.map(function (u) { return u.name || u.username; });
    el.hidden = names.length === 0;
    el.textContent = names.length === 0 ? "" :
      (names.length === 1 ? names[0] + " is" : names.join(", ") + " are") + " also viewing this ticket";
  });
})();
