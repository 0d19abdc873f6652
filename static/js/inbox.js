// Keyboard shortcuts for the inbox and the ticket page, and saved-reply insertion.
// Everything here is an enhancement: links and forms work without it.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function rows() {
    return Array.from(document.querySelectorAll("#inbox tbody tr[data-ticket]"));
  }

  function select(index) {
    const all = rows();
    if (!all.length) return;
    const next = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    all[next].classList.add("selected");
    all[next].setAttribute("aria-selected", "true");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    return rows().findIndex(function (row) { return row.classList.contains("selected"); });
  }

  function focusComposer(id) {
    const box = document.getElementById(id);
    if (!box) return false;
    box.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const current = selectedIndex();
    let handled = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "Enter": {
        // A focused link or button keeps its own Enter.
        if (event.target.closest("a, button, summary")) { handled = false; break; }
        const row = rows()[current];
        const link = row && row.querySelector("a.ticket-link");
        if (link) window.location.assign(link.href); else handled = false;
        break;
      }
      case "x": {
        const row = rows()[current];
        const box = row && row.querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked; else handled = false;
        break;
      }
      case "/": handled = focusComposer("inbox-q"); break;
      case "r": handled = focusComposer("reply-body"); break;
      case "n": handled = focusComposer("note-body"); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Saved replies: insert the rendered text at the cursor instead of reloading the page.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-saved-reply-url]");
    if (!form) return;
    const box = document.getElementById("reply-body");
    const id = form.querySelector("select[name=saved_reply]").value;
    if (!box || !id) return;
    event.preventDefault();
    fetch(form.dataset.savedReplyUrl + encodeURIComponent(id) + "/", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (text) {
        const start = box.selectionStart || 0;
        const end = box.selectionEnd || 0;
        box.value = box.value.slice(0, start) + text + box.value.slice(end);
        box.focus();
        box.selectionStart = box.selectionEnd = start + text.length;
      })
      .catch(function () { form.submit(); });
  });
})();
