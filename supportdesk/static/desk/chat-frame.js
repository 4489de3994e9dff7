/* The chat widget's frame (served by the desk at /chat/frame/, embedded by chat-widget.js).
   Keeps the visitor token in localStorage, sends it as X-Desk-Visitor, polls for replies. */
(function () {
  "use strict";
  var body = document.body;
  var urls = {
    session: body.dataset.sessionUrl,
    messages: body.dataset.messagesUrl,
    identify: body.dataset.identifyUrl,
  };
  var pollMs = Math.max(1, parseInt(body.dataset.pollSeconds || "3", 10)) * 1000;
  var log = document.getElementById("chat-log");
  var statusLine = document.getElementById("chat-status");
  var compose = document.getElementById("chat-compose");
  var identify = document.getElementById("chat-identify");
  var storageKey = "deskChatVisitor";
  var token = null;
  var lastId = 0;
  var seen = {};
  var timer = null;
  var identified = false;

  // Browsers increasingly deny storage to third-party frames, so the token lives with the
  // store's page (first-party): the loader hands it over in the URL fragment and keeps what we
  // post back. Our own localStorage and the cookie are only fallbacks.
  function fromFragment() {
    var match = /(?:^#|&)v=([^&]+)/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }
  function stored() {
    var value = fromFragment();
    if (value) { return value; }
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function pageUrl() {
    var params = new URLSearchParams(window.location.search);
    return params.get("page") || document.referrer || "";
  }
  function store(value) {
    try { window.localStorage.setItem(storageKey, value); } catch (e) { /* blocked in third-party frames */ }
    var page = pageUrl();
    if (window.parent !== window && page) {
      try {
        window.parent.postMessage({ type: "desk-chat-visitor", visitor: value }, new URL(page).origin);
      } catch (e) { /* not embedded by a page we know */ }
    }
  }
  function request(method, url, payload) {
    var headers = { "Accept": "application/json" };
    if (token) { headers["X-Desk-Visitor"] = token; }
    if (payload !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: payload === undefined ? undefined : JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = (data.error && data.error.message) || ("Error " + response.status);
          throw new Error(message);
        }
        return data;
      });
    });
  }
  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("chat-error", !!isError);
  }
  function add(line) {
    if (seen[line.id]) { return; }
    seen[line.id] = true;
    lastId = Math.max(lastId, line.id);
    var item = document.createElement("li");
    item.className = "chat-line " + (line.from === "visitor" ? "visitor" : "agent");
    item.dataset.id = String(line.id);
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = line.from === "visitor" ? "You" : (line.author || "Support");
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = line.body;
    item.appendChild(who);
    item.appendChild(text);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (line.from === "visitor" && !identified) { identify.hidden = false; }
  }
  function poll() {
    request("GET", urls.messages + "?after=" + lastId).then(function (data) {
      data.messages.forEach(add);
      say("Connected. We usually answer within a few minutes.");
    }).catch(function (error) {
      say(error.message, true);
    }).then(function () {
      timer = window.setTimeout(poll, pollMs);
    });
  }
  function start() {
    token = stored();
    request("POST", urls.session, { page_url: pageUrl() }).then(function (data) {
      token = data.visitor;
      store(token);
      identified = !!data.identified;
      data.messages.forEach(add);
      say("Connected. We usually answer within a few minutes.");
      if (data.poll_seconds) { pollMs = data.poll_seconds * 1000; }
      timer = window.setTimeout(poll, pollMs);
    }).catch(function (error) {
      say("Chat is unavailable: " + error.message, true);
    });
  }
  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var field = compose.elements.body;
    var text = field.value.trim();
    if (!text || !token) { return; }
    request("POST", urls.messages, { body: text }).then(function (data) {
      field.value = "";
      add(data.message);
    }).catch(function (error) { say(error.message, true); });
  });
  compose.elements.body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit();
    }
  });
  identify.addEventListener("submit", function (event) {
    event.preventDefault();
    request("POST", urls.identify, {
      email: identify.elements.email.value.trim(),
      name: identify.elements.name.value.trim(),
    }).then(function () {
      identified = true;
      identify.hidden = true;
      say("Thanks! We will follow up by email if we get disconnected.");
    }).catch(function (error) { say(error.message, true); });
  });
  // Keyboard: the widget on the store's page asks for the focus when it opens the chat, and
  // Escape or "Close chat" asks it to close the chat and take the focus back.
  var closeButton = document.getElementById("chat-close");
  var embedded = window.parent !== window;
  function parentOrigin() {
    try { return new URL(pageUrl()).origin; } catch (e) { return null; }
  }
  function askToClose() {
    var origin = parentOrigin();
    if (embedded && origin) { window.parent.postMessage({ type: "desk-chat-close" }, origin); }
  }
  if (embedded && closeButton) {
    closeButton.hidden = false;
    closeButton.addEventListener("click", askToClose);
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { askToClose(); }
  });
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin()) { return; }
    if (event.data && event.data.type === "desk-chat-open") { compose.elements.body.focus(); }
  });
  window.addEventListener("pagehide", function () { if (timer) { window.clearTimeout(timer); } });
  start();
})();
