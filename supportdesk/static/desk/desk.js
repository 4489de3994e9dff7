// Small progressive enhancements; every page works without them (forms post, links navigate).
// No inline script anywhere (CSP): behaviour is attached here by data attributes and ids.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function announce(text) {
    var region = document.getElementById("live-status");
    if (!region) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // A control that does something with Enter itself (follow a link, press a button, open details).
  function isControl(target) {
    return !!(target && target.closest && target.closest("a[href], button, summary, [role=button], [tabindex]:not([tabindex='-1'])"));
  }

  // Shortcut help ----------------------------------------------------------------------------
  function openHelp() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open && typeof dialog.showModal === "function") { dialog.showModal(); }
  }

  // Inbox: j/k move a selection through the rows, Enter opens it ------------------------------
  var selectedTicket = null;

  function inboxRows() { return $all("[data-keyboard-list] tbody tr[data-ticket]"); }

  function selectRow(row, focus) {
    inboxRows().forEach(function (r) { r.classList.remove("is-selected"); });
    if (!row) { return; }
    row.classList.add("is-selected");
    selectedTicket = row.getAttribute("data-ticket");
    var link = $("a.row-link", row);
    if (focus && link) { link.focus(); }
  }

  function moveSelection(step) {
    var rows = inboxRows();
    if (!rows.length) { return false; }
    var current = rows.findIndex(function (r) { return r.classList.contains("is-selected"); });
    var next = current === -1 ? 0 : Math.min(Math.max(current + step, 0), rows.length - 1);
    selectRow(rows[next], true);
    return true;
  }

  // Ticket page: composer --------------------------------------------------------------------
  function composerBody() { return document.getElementById("id_body"); }

  function setInternal(on) {
    var box = document.getElementById("id_internal");
    if (!box) { return; }
    box.checked = on;
    syncComposer();
  }

  function syncComposer() {
    var form = document.getElementById("composer");
    var box = document.getElementById("id_internal");
    if (!form || !box) { return; }
    form.classList.toggle("is-note", box.checked);
    var button = $("button.primary", form);
    if (button) {
      button.textContent = box.checked ? button.getAttribute("data-note-label") : button.getAttribute("data-send-label");
    }
  }

  function setPresenceState() {
    var state = document.getElementById("presence-state");
    var body = composerBody();
    if (!state || !body) { return; }
    var replying = document.activeElement === body || body.value.trim() !== "";
    state.value = replying ? "replying" : "viewing";
  }

  function focusComposer(internal) {
    var body = composerBody();
    if (!body) { return false; }
    setInternal(internal);
    body.focus();
    body.scrollIntoView({ block: "center" });
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (event.key === "Escape") {
      var editing = target && target.closest && target.closest(".field.editing");
      if (editing) {
        var cancel = $("[data-cancel]", editing);
        if (cancel) { cancel.click(); event.preventDefault(); }
        return;
      }
      if (isTyping(target)) { target.blur(); }
      return;
    }
    if (isTyping(target)) { return; }
    var handled = false;
    switch (event.key) {
      case "?":
        openHelp(); handled = true; break;
      case "/":
        var search = document.getElementById("search-page-q") || document.getElementById("search-q");
        if (search) { search.focus(); search.select(); handled = true; }
        break;
      case "j":
        handled = moveSelection(1); break;
      case "k":
        handled = moveSelection(-1); break;
      case "Enter":
        // Only when nothing else would take the Enter: on a link or a button it is theirs.
        var selected = $("[data-keyboard-list] tbody tr.is-selected a.row-link");
        if (selected && !isControl(target)) { selected.click(); handled = true; }
        break;
      case "r":
        handled = focusComposer(false); break;
      case "n":
        handled = focusComposer(true); break;
      case "g":
        pendingG = true; window.setTimeout(function () { pendingG = false; }, 1000); return;
      case "i":
        if (pendingG) {
          var inbox = $(".brand");
          if (inbox) { window.location.href = inbox.getAttribute("href"); handled = true; }
        }
        break;
    }
    pendingG = false;
    if (handled) { event.preventDefault(); }
  });
  var pendingG = false;

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    if (target.closest("[data-shortcuts-open]")) { openHelp(); return; }

    var insert = target.closest("[data-macro-insert]");
    if (insert) {
      var body = composerBody();
      var macroField = document.getElementById("id_macro");
      if (body) {
        body.value = insert.getAttribute("data-macro-text");
        if (macroField) { macroField.value = insert.getAttribute("data-macro-id"); }
        setInternal(false);
        body.focus();
        setPresenceState();
        announce("Macro text inserted into the reply.");
      }
      return;
    }

    var copy = target.closest("[data-copy-target]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy-target"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () { announce("Greeting copied."); });
      }
      return;
    }

    var start = target.closest("[data-insert-target]");
    if (start) {
      var greeting = document.getElementById(start.getAttribute("data-insert-target"));
      var composer = composerBody();
      if (greeting && composer) {
        var text = greeting.textContent.trim() + "\n\n";
        if (composer.value.indexOf(text.trim()) !== 0) { composer.value = text + composer.value; }
        setInternal(false);
        composer.focus();
        setPresenceState();
      }
      return;
    }

    var row = target.closest("[data-keyboard-list] tbody tr[data-ticket]");
    if (row) { selectRow(row, false); }
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_internal") { syncComposer(); }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target === composerBody()) { setPresenceState(); }
    var link = event.target.closest && event.target.closest("[data-keyboard-list] tbody tr[data-ticket]");
    if (link) { selectRow(link, false); }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target === composerBody()) { window.setTimeout(setPresenceState, 0); }
  });
  document.addEventListener("input", function (event) {
    if (event.target === composerBody()) { setPresenceState(); }
  });

  // Tell the others on the ticket that we left (best effort).
  window.addEventListener("pagehide", function () {
    var presence = document.getElementById("presence");
    var token = $("input[name=csrfmiddlewaretoken]");
    if (!presence || !token || !navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("state", "gone");
    data.append("csrfmiddlewaretoken", token.value);
    navigator.sendBeacon(presence.getAttribute("hx-post"), data);
  });

  // Live regions swapped by htmx polling ------------------------------------------------------
  var inboxHadFocus = false;
  // The ticket's properties are redrawn whole after a save, an "Assign to me" or a cancel: the
  // focus goes back to the "Change" link of the property the agent was working on.
  var fieldHadFocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "inbox-live") {
      inboxHadFocus = target.contains(document.activeElement);
    }
    if (target && target.id === "ticket-fields") {
      var field = document.activeElement && document.activeElement.closest && document.activeElement.closest(".field[id]");
      fieldHadFocus = field && target.contains(field) ? field.id : null;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    var id = target && target.id;
    if (selectedTicket) {
      var row = $("[data-keyboard-list] tbody tr[data-ticket='" + selectedTicket + "']");
      if (row) { selectRow(row, inboxHadFocus); }
    }
    inboxHadFocus = false;
    var live = target && target.getAttribute && target.getAttribute("data-live-label");
    if (!live && id) {
      var swapped = document.getElementById(id);
      live = swapped && swapped.getAttribute("data-live-label");
    }
    // Polls answer 204 when nothing changed, so a swap of a live region means news.
    if (live) { announce(live); }
    var editor = $(".field.editing [data-autofocus] select, .field.editing [data-autofocus] input:not([type=hidden])");
    if (editor && (id || "").indexOf("field-") === 0) { editor.focus(); }
    if (id === "ticket-fields") {
      var changed = (fieldHadFocus && $("#" + fieldHadFocus + " .edit")) || $("#ticket-fields .edit");
      if (changed && (fieldHadFocus || document.activeElement === document.body)) { changed.focus(); }
      fieldHadFocus = null;
    }
    restoreDroppedFocus();
    revealEnhancements();
  });

  // Focus a swap would drop --------------------------------------------------------------------
  // htmx keeps the focus on a control that has an id; any other focused control (a submit
  // button, a link) vanishes with the old content and the focus falls back to the page. Then it
  // goes, in the new content: to an element marked data-swap-focus, else to what the answer
  // says (an alert or a status line), else to the control at the same place as before.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), " +
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
  var droppedFocus = null;

  function focusablesIn(root) {
    return $all(FOCUSABLE, root).filter(function (el) { return el.offsetParent !== null; });
  }

  function focusAndKeep(el) {
    if (!el.matches(FOCUSABLE) && !el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    el.focus();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    var active = document.activeElement;
    droppedFocus = null;
    if (!target || !active || active === document.body || !target.contains(active) || active.id) { return; }
    var anchor = active.parentElement && active.parentElement.closest("[id]");
    if (!anchor || !(target.contains(anchor) || anchor.contains(target))) { return; }
    var config = event.detail.requestConfig;
    droppedFocus = {
      anchor: anchor.id,
      index: focusablesIn(anchor).indexOf(active),
      polled: !!(config && config.elt === target),
    };
  });

  function restoreDroppedFocus() {
    var dropped = droppedFocus;
    droppedFocus = null;
    if (!dropped || (document.activeElement && document.activeElement !== document.body)) { return; }
    var anchor = document.getElementById(dropped.anchor);
    if (!anchor) { return; }
    var marked = $("[data-swap-focus]", anchor);
    var said = dropped.polled ? null : $("[role=alert], [role=status]", anchor);
    if (marked || said) { focusAndKeep(marked || said); return; }
    var controls = focusablesIn(anchor);
    if (controls.length) { controls[Math.min(Math.max(dropped.index, 0), controls.length - 1)].focus(); }
    else { focusAndKeep(anchor); }
  }

  function revealEnhancements() {
    if (composerBody()) { $all("[data-insert-target]").forEach(function (b) { b.hidden = false; }); }
    if (window.htmx) { $all("[data-no-js]").forEach(function (b) { b.hidden = true; }); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    revealEnhancements();
    syncComposer();
    var rows = inboxRows();
    if (rows.length && document.activeElement === document.body) { selectRow(rows[0], false); }
  });
})();

// suggestions — the suggested-next-actions panel (templates/customers/partials/suggestions.html).
// Accepting a suggestion answers the refreshed panel with its reply text; on a conversation page
// that text goes into the composer (replacing an empty draft, else added below it) and the
// "Send on" channel follows the suggestion when the customer can be reached there (a suggestion
// without a text, such as "Switch to Live chat", only switches the channel and focuses the reply).
(function () {
  "use strict";

  function useAcceptedReply(panel) {
    var accepted = panel.querySelector("[data-suggestion-accepted]");
    var source = accepted && accepted.querySelector("[data-suggestion-text]");
    var body = document.getElementById("id_body");
    if (!accepted || !body) { return false; }
    if (source) {
      var text = source.value;
      body.value = body.value.trim() === "" ? text : body.value.replace(/\s+$/, "") + "\n\n" + text;
    }
    var channel = document.getElementById("id_channel");
    var wanted = accepted.getAttribute("data-suggestion-channel");
    if (channel && wanted && channel.querySelector("option[value='" + wanted + "']")) { channel.value = wanted; }
    var internal = document.getElementById("id_internal");
    if (internal && internal.checked) {
      internal.checked = false;
      internal.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var macro = document.getElementById("id_macro");
    if (macro && source) { macro.value = ""; }
    var hint = accepted.querySelector("[data-no-composer]");
    if (hint) { hint.hidden = true; }
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
    var region = document.getElementById("live-status");
    if (region) {
      region.textContent = source ? "Suggested reply inserted into the composer." : "Reply channel set by the suggestion.";
    }
    return true;
  }

  // The panel is redrawn whole after every verdict. When the agent was working in it, the focus
  // stays with it: on the accepted text to copy (no composer on the page), else on its heading,
  // from where Tab goes on to the next suggestion and the live region reads what happened.
  var panelHadFocus = false;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "suggestions") { panelHadFocus = target.contains(document.activeElement); }
  });

  function keepFocusInPanel(panel) {
    var text = panel.querySelector("[data-suggestion-accepted] [data-suggestion-text]");
    var heading = panel.querySelector("#suggestions-title");
    var next = text || heading;
    if (next) { next.focus(); }
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    var panel = document.getElementById("suggestions");
    if (!panel || !target || (target !== panel && target.id !== "suggestions" && !target.contains(panel))) { return; }
    var moved = useAcceptedReply(panel);
    if (!moved && panelHadFocus) { keepFocusInPanel(panel); }
    panelHadFocus = false;
  });
})();
// end suggestions
