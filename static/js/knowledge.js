// "Insert into reply" buttons in the product-suggestions panel: append the suggestion's text to
// the ticket's reply textarea. Loaded by the htmx-swapped panel, so it may run more than once.
(function () {
  if (window.printdeskKnowledge) return;
  window.printdeskKnowledge = true;

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.kn-insert");
    if (!button) return;
    const source = document.getElementById(button.dataset.insertFrom);
    const panel = button.closest("[data-reply-target]");
    const reply = panel && document.getElementById(panel.dataset.replyTarget);
    if (!source || !reply) return;
    const text = source.value.trim();
    reply.value = reply.value.trim() ? reply.value.replace(/\s+$/, "") + "\n\n" + text : text;
    reply.dispatchEvent(new Event("input", { bubbles: true }));
    reply.focus();
    reply.setSelectionRange(reply.value.length, reply.value.length);
  });
})();
