/* Desktop notifications: while this tab is hidden, a mention, assignment or handoff that reaches
 * the bell (realtime.js emits each "notification" frame as a "realtime:notification" event) also
 * shows as a notification of the operating system, once the person has allowed it.
 *
 * The browser is asked only when someone presses an "Enable desktop notifications" button
 * ([data-desktop-notifications-enable], templates/comms/_desktop_notifications.html): browsers
 * refuse or penalise permission requests that no user gesture started.
 */
(function () {
  "use strict";

  var KINDS = { mention: true, assignment: true, handoff: true };
  var STATES = {
    unsupported: "This browser cannot show desktop notifications.",
    "default": "Desktop notifications are off in this browser.",
    granted: "Desktop notifications are on in this browser while a Printdesk tab is in the background.",
    denied: "Desktop notifications are blocked: allow them for this site in the browser's settings."
  };
  var isSupported = "Notification" in window;

  function permission() {
    return isSupported ? Notification.permission : "unsupported";
  }

  function renderControls() {
    var current = permission();
    document.querySelectorAll("[data-desktop-notifications]").forEach(function (box) {
      box.dataset.permission = current;
      var state = box.querySelector("[data-desktop-notifications-state]");
      var button = box.querySelector("[data-desktop-notifications-enable]");
      if (state) state.textContent = STATES[current] || STATES["default"];
      if (button) button.hidden = current !== "default";
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-desktop-notifications-enable]");
    if (!button || !isSupported) return;
    // Older Safari takes a callback and returns nothing; the others return a promise.
    var asked = Notification.requestPermission(renderControls);
    if (asked && asked.then) asked.then(renderControls);
  });

  document.addEventListener("realtime:notification", function (event) {
    var item = event.detail && event.detail.notification;
    if (!item || !KINDS[item.kind] || !document.hidden || permission() !== "granted") return;
    // One tag per notification: with several hidden tabs open the system shows it once.
    var shown = new Notification(item.title, {
      body: item.body || "",
      tag: "printdesk-notification-" + item.id
    });
    shown.addEventListener("click", function () {
      window.focus();
      // Only a path on this site (never "//host"): a click never takes anyone elsewhere.
      if (item.url && item.url.charAt(0) === "/" && item.url.charAt(1) !== "/") {
        location.assign(item.url);
      }
      shown.close();
    });
  });

  renderControls();
  document.addEventListener("htmx:afterSettle", renderControls);
})();
