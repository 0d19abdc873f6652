/* Chat page: live messages from realtime.js ("realtime:message" events) and a composer that
 * posts without reloading. Without JS the forms post normally and the page reloads. */
(function () {
  "use strict";

  function init() {
    var pane = document.getElementById("chat-channel");
    var list = document.getElementById("chat-messages");
    if (!pane || !list) return;
    var slug = pane.dataset.channel;
    var me = Number(document.body.dataset.userId);
    var canManage = pane.dataset.canManage === "1";
    var threadPane = document.getElementById("thread-pane");
    var threadRoot = threadPane ? Number(threadPane.dataset.threadRoot) : null;

    function csrfToken() {
      var field = document.querySelector("input[name=csrfmiddlewaretoken]");
      return field ? field.value : "";
    }

    function postForm(action, fields) {
      var form = document.createElement("form");
      form.method = "post";
      form.action = action;
      form.className = "inline";
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrfToken();
      form.appendChild(token);
      Object.keys(fields || {}).forEach(function (name) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = fields[name];
        form.appendChild(input);
      });
      return form;
    }

    function formatSize(bytes) {
      if (bytes < 1024) return bytes + " bytes";
      if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
      return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    }

    // Files are links to the authenticated download; names are set as text, never as HTML.
    function renderFiles(files) {
      var list = document.createElement("ul");
      list.className = "chat-files";
      list.setAttribute("aria-label", "Files");
      files.forEach(function (file) {
        var item = document.createElement("li");
        item.className = "chat-file";
        var link = document.createElement("a");
        link.href = file.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.dataset.chatFile = file.id;
        if (file.preview_url) {
          var thumb = document.createElement("img");
          thumb.className = "chat-file-thumb";
          thumb.src = file.preview_url;
          thumb.alt = "Preview of " + file.filename;
          thumb.loading = "lazy";
          link.appendChild(thumb);
        }
        var name = document.createElement("span");
        name.className = "chat-file-name";
        name.textContent = file.filename;
        link.appendChild(name);
        var meta = document.createElement("span");
        meta.className = "muted";
        meta.textContent = formatSize(file.size) + " · " + file.content_type;
        item.append(link, meta);
        // A ticket's file shared to the channel links its ticket.
        if (file.ticket) {
          var source = document.createElement("span");
          source.className = "chat-file-source";
          var ticketLink = document.createElement("a");
          ticketLink.href = file.ticket.url;
          ticketLink.textContent = file.ticket.reference;
          source.append(" from ", ticketLink);
          item.append(" ", source);
        }
        list.appendChild(item);
      });
      return list;
    }

    function text(tag, className, value) {
      var element = document.createElement(tag);
      if (className) element.className = className;
      element.textContent = value;
      return element;
    }

    // A ticket discussion's root: the ticket's card (as templates/chat/_ticket_card.html), all
    // text set as text. A status or assignee change re-sends the root with the card as it is now.
    function renderCard(ticket) {
      var card = document.createElement("div");
      card.className = "ticket-card";
      card.dataset.ticketCard = ticket.reference;
      var head = document.createElement("p");
      head.className = "ticket-card-head";
      var ref = text("a", "ref", ticket.reference);
      ref.href = ticket.url;
      head.append(ref, " " + ticket.subject);
      var facts = document.createElement("p");
      facts.className = "ticket-card-facts";
      var status = text("span", "badge status-" + ticket.status, ticket.status_label);
      status.dataset.cardStatus = "";
      var assignee = text("span", "muted", ticket.assignee || "Unassigned");
      assignee.dataset.cardAssignee = "";
      facts.append(
        status, " ",
        text("span", "badge priority-" + ticket.priority, ticket.priority_label), " ",
        text("span", "", ticket.customer), " ",
        assignee
      );
      card.append(head, facts);
      if (ticket.handoff) {
        var handoff = document.createElement("div");
        handoff.className = "ticket-card-handoff";
        handoff.dataset.cardHandoff = "";
        if (ticket.handoff.is_pending) {
          var take = postForm(ticket.handoff.take_url);
          take.appendChild(text("button", "primary", "I'll take it"));
          handoff.appendChild(take);
        } else {
          handoff.appendChild(text("span", "badge handoff-" + ticket.handoff.state,
            "Taken by " + (ticket.handoff.taken_by || "someone")));
        }
        card.append(handoff);
      }
      if (ticket.orders.length) {
        var orders = document.createElement("p");
        orders.className = "ticket-card-orders";
        ticket.orders.forEach(function (order, index) {
          if (index) orders.append(" · ");
          var link = text("a", "", order.number);
          link.href = "/tickets/?view=all&order=" + encodeURIComponent(order.number);
          orders.append(link);
        });
        card.append(orders);
      }
      return card;
    }

    function render(message, inThread) {
      var li = document.createElement("li");
      li.id = "message-" + message.id;
      li.className = "chat-msg" + (message.is_deleted ? " is-deleted" : "");
      li.dataset.messageId = message.id;
      li.dataset.authorId = message.author.id;

      var head = document.createElement("header");
      head.className = "chat-msg-head";
      var dot = document.createElement("span");
      dot.className = "presence-dot";
      dot.dataset.presenceUser = message.author.id;
      var known = document.querySelector('[data-presence-user="' + message.author.id + '"]');
      dot.dataset.status = known ? known.dataset.status : "online";
      var author = document.createElement("strong");
      author.className = "chat-author";
      author.textContent = message.author.name || message.author.username;
      var time = document.createElement("time");
      time.className = "muted";
      time.dateTime = message.created_at;
      time.textContent = new Date(message.created_at).toLocaleString([], {
        month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
      });
      head.append(dot, " ", author, " ", time);
      if (message.edited_at && !message.is_deleted) {
        var edited = document.createElement("span");
        edited.className = "muted";
        edited.textContent = " (edited)";
        head.append(edited);
      }
      li.appendChild(head);

      if (message.ticket && !message.is_deleted) li.appendChild(renderCard(message.ticket));
      var content = document.createElement(message.is_deleted ? "p" : "div");
      content.className = "chat-body" + (message.is_deleted ? " muted" : "");
      if (message.is_deleted) content.innerHTML = "<em>This message was deleted.</em>";
      // body_html was rendered and sanitized with nh3 on the server.
      else content.innerHTML = message.body_html;
      li.appendChild(content);
      if (!message.is_deleted && message.attachments && message.attachments.length) {
        li.appendChild(renderFiles(message.attachments));
      }

      var actions = document.createElement("footer");
      actions.className = "chat-msg-actions";
      if (!message.thread_root && !inThread) {
        var link = document.createElement("a");
        link.className = "thread-link";
        link.href = "/chat/" + slug + "/?thread=" + message.id + "#thread-pane";
        var n = message.reply_count;
        link.textContent = n ? n + (n === 1 ? " reply" : " replies") : "Reply in thread";
        actions.appendChild(link);
      }
      if (!message.is_deleted && (message.author.id === me || canManage)) {
        var del = postForm("/chat/" + slug + "/messages/" + message.id + "/delete/", {
          next: location.pathname + location.search
        });
        var button = document.createElement("button");
        button.type = "submit";
        button.className = "link";
        button.textContent = "Delete";
        del.appendChild(button);
        actions.appendChild(del);
      }
      li.appendChild(actions);
      return li;
    }

    function place(container, message, inThread) {
      var existing = container.querySelector("#message-" + message.id);
      var element = render(message, inThread);
      if (existing) {
        // Keep a server-rendered edit form for own messages; refresh the rest.
        var edit = existing.querySelector(".chat-edit");
        if (edit && !message.is_deleted) element.querySelector(".chat-msg-actions").appendChild(edit);
        existing.replaceWith(element);
        return;
      }
      var empty = container.querySelector(".chat-empty");
      if (empty) empty.remove();
      var nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
      container.appendChild(element);
      if (nearBottom || message.author.id === me) element.scrollIntoView({ block: "end" });
    }

    // A message not shown yet joins the list only when it is newer than the last one shown: an
    // older root re-sent (a new reply count, its ticket card changed) is not new.
    function isNew(message) {
      if (message.edited_at || message.is_deleted) return false;
      var times = list.querySelectorAll(".chat-msg > .chat-msg-head > time");
      if (!times.length) return true;
      return new Date(message.created_at) >= new Date(times[times.length - 1].dateTime);
    }

    document.addEventListener("realtime:message", function (event) {
      var frame = event.detail;
      if (frame.channel !== slug) return;
      var message = frame.message;
      if (!message.thread_root) {
        if (list.querySelector("#message-" + message.id) || isNew(message)) {
          place(list, message, false);
        }
        if (threadPane && message.id === threadRoot) {
          var rootList = threadPane.querySelector("ol.chat-messages");
          if (rootList.querySelector("#message-" + message.id)) place(rootList, message, true);
        }
      } else if (threadPane && message.thread_root === threadRoot) {
        place(document.getElementById("thread-replies"), message, true);
      }
    });

    // Post without reloading; the realtime push renders the message (also for the sender).
    document.querySelectorAll("form.chat-composer").forEach(function (form) {
      var textarea = form.querySelector("textarea");
      textarea.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener("submit", function (event) {
        if (!window.fetch || document.body.dataset.realtime !== "connected") return; // plain post
        event.preventDefault();
        var data = new FormData(form);
        fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) throw new Error("HTTP " + response.status);
            textarea.value = "";
            form.querySelectorAll("input[type=file]").forEach(function (input) { input.value = ""; });
            textarea.focus();
          })
          .catch(function () { form.submit(); });
      });
    });

    var last = list.lastElementChild;
    if (last && !location.hash) last.scrollIntoView({ block: "end" });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
