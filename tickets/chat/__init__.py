"""Live chat: an embeddable widget (``static/desk/chat-widget.js``) whose frame talks to the
desk; visitors are known by a signed visitor id, joined to a customer when they give an email,
and every message lands on a chat ticket like any other channel."""
