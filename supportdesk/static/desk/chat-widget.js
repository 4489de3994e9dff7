/* Support desk live chat: put ONE tag on the store's pages (see docs/integrations.md):
     <script src="https://desk.example.com/static/desk/chat-widget.js" async></script>
   It adds a "Chat with us" button; the chat itself runs in a frame served by the desk, so the
   store needs no build step, no CORS and no changes to its own Content-Security-Policy beyond
   allowing this script and frame-src for the desk. Optional: data-label="..." on the tag. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__deskChatLoaded) { return; }
  window.__deskChatLoaded = true;
  var desk = new URL(script.src, window.location.href).origin;
  var label = script.getAttribute("data-label") || "Chat with us";
  var storageKey = "deskChatVisitor";

  // The visitor's signed token is kept here, on the store's own origin (first-party storage),
  // because browsers deny storage to the desk's third-party frame.
  function token() {
    try { return window.localStorage.getItem(storageKey) || ""; } catch (e) { return ""; }
  }
  var closeChat = null;
  window.addEventListener("message", function (event) {
    if (event.origin !== desk || !event.data) { return; }
    if (event.data.type === "desk-chat-visitor") {
      try { window.localStorage.setItem(storageKey, String(event.data.visitor)); } catch (e) { /* ignore */ }
    } else if (event.data.type === "desk-chat-close" && closeChat) {
      closeChat();
    }
  });

  function mount() {
    var root = document.createElement("div");
    root.id = "desk-chat";
    var button = document.createElement("button");
    button.type = "button";
    button.id = "desk-chat-toggle";
    button.textContent = label;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "desk-chat-frame");
    var frame = null;

    // Styles go through the CSSOM (element.style), which a store's CSP does not block.
    var s = root.style;
    s.position = "fixed"; s.right = "16px"; s.bottom = "16px"; s.zIndex = "2147483000";
    s.display = "flex"; s.flexDirection = "column"; s.alignItems = "flex-end"; s.gap = "8px";
    var b = button.style;
    b.font = "600 15px/1.2 system-ui, sans-serif"; b.color = "#fff"; b.background = "#1f4b99";
    b.border = "0"; b.borderRadius = "999px"; b.padding = "12px 18px"; b.cursor = "pointer";
    b.boxShadow = "0 2px 8px rgba(0,0,0,.25)";
    // A focus ring of our own: the store's styles may have none, the browser's is thin.
    button.addEventListener("focus", function () {
      if (button.matches(":focus-visible")) { b.outline = "3px solid #f2a900"; b.outlineOffset = "2px"; }
    });
    button.addEventListener("blur", function () { b.outline = ""; b.outlineOffset = ""; });

    // The chat takes the focus when it opens (the frame puts it in the message box) and gives it
    // back to this button when it closes (Escape or "Close chat" in the frame, or this button).
    function focusChat() {
      if (frame && frame.contentWindow) {
        frame.focus();
        frame.contentWindow.postMessage({ type: "desk-chat-open" }, desk);
      }
    }
    closeChat = function () {
      if (!frame || frame.hidden) { return; }
      frame.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    };
    button.addEventListener("click", function () {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.id = "desk-chat-frame";
        frame.title = label;
        frame.src = desk + "/chat/frame/?page=" + encodeURIComponent(window.location.href) +
          (token() ? "#v=" + encodeURIComponent(token()) : "");
        var f = frame.style;
        f.width = "min(360px, calc(100vw - 32px))"; f.height = "min(520px, calc(100vh - 96px))";
        f.border = "1px solid #d8dbe0"; f.borderRadius = "12px"; f.background = "#fff";
        f.boxShadow = "0 4px 24px rgba(0,0,0,.2)";
        frame.addEventListener("load", focusChat);
        root.insertBefore(frame, button);
        button.setAttribute("aria-expanded", "true");
      } else if (frame.hidden) {
        frame.hidden = false;
        button.setAttribute("aria-expanded", "true");
        focusChat();
      } else {
        closeChat();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && frame && !frame.hidden) { closeChat(); }
    });
    root.appendChild(button);
    document.body.appendChild(root);
  }

  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
