"""The chat widget's frame and its JSON endpoints.

The store's page loads ``static/desk/chat-widget.js``, which opens ``/chat/frame/`` in an
iframe; everything after that happens inside the frame, on the desk's own origin, so no CORS
is needed and the desk's CSP holds (script-src 'self', no inline code). The frame page alone
may be embedded: its ``frame-ancestors`` lists the stores in ``DESK_CHAT_FRAME_ANCESTORS``.

The visitor is identified by a signed token sent as ``X-Desk-Visitor``. Browsers deny storage
to third-party frames, so the loader keeps the token in the store's own localStorage, hands it
to the frame in the URL fragment and stores what the frame posts back (``postMessage`` to the
store's origin only); a cookie backs it up where the browser allows one. Requiring that header
on every write is what protects these endpoints from CSRF: a cross-site form cannot send a
custom header, so they are csrf_exempt. Anonymous writes are rate-limited per visitor and per
address.
"""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from supportdesk.api.errors import error_body
from supportdesk.rate_limits import Rate, rate_limit_hit

from ..models import ChatSession
from . import services

VISITOR_HEADER = "X-Desk-Visitor"
VISITOR_COOKIE = "desk_chat_visitor"


def _error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message, fields=fields), status=status)


def _json(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"__invalid__": True}
    return data if isinstance(data, dict) else {"__invalid__": True}


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


def _limited(request: HttpRequest, scope: str, key: str, factor: int = 1) -> JsonResponse | None:
    rate = Rate.parse(settings.DESK_CHAT_RATE_LIMIT)
    wait = rate_limit_hit(scope=scope, key=key, rate=Rate(rate.limit * factor, rate.window_seconds))
    if not wait:
        return None
    response = _error(429, "rate_limited", f"Too many messages; try again in {wait} seconds.")
    response["Retry-After"] = str(wait)
    return response


def _session(request: HttpRequest) -> ChatSession | None:
    visitor_id = services.visitor_from_token(request.headers.get(VISITOR_HEADER, ""))
    if visitor_id is None:
        return None
    return ChatSession.objects.filter(visitor_id=visitor_id).first()


def _line(line: services.TranscriptLine) -> dict[str, Any]:
    return {"id": line.id, "from": line.sender, "author": line.author, "body": line.body, "at": line.at.isoformat()}


@login_not_required
@xframe_options_exempt
@never_cache
@require_GET
def chat_frame(request: HttpRequest) -> HttpResponse:
    """The widget's UI, embedded by the stores in DESK_CHAT_FRAME_ANCESTORS (and the desk itself)."""
    response = render(request, "tickets/chat/frame.html", {"poll_seconds": settings.DESK_CHAT_POLL_SECONDS})
    response._csp_replace = {"frame-ancestors": ["'self'", *settings.DESK_CHAT_FRAME_ANCESTORS]}  # type: ignore[attr-defined]
    return response


@login_not_required
@csrf_exempt
@never_cache
@require_POST
def chat_session(request: HttpRequest) -> JsonResponse:
    """Start or resume the visitor's chat; answers the visitor token and the transcript so far."""
    limited = _limited(request, "chat-session", _client_address(request), factor=3)
    if limited:
        return limited
    data = _json(request)
    token = request.headers.get(VISITOR_HEADER) or request.COOKIES.get(VISITOR_COOKIE, "")
    visitor_id = services.visitor_from_token(token)
    page_url = data.get("page_url") if isinstance(data.get("page_url"), str) else ""
    session = services.chat_session_start(visitor_id=visitor_id, page_url=page_url or "")
    token = services.visitor_token(session.visitor_id)
    response = JsonResponse(
        {
            "visitor": token,
            "identified": session.customer_id is not None
            and session.customer.contact_points.filter(channel="email").exists(),
            "messages": [_line(line) for line in services.chat_transcript(session=session)],
            "poll_seconds": settings.DESK_CHAT_POLL_SECONDS,
        }
    )
    secure = request.is_secure()
    response.set_cookie(
        VISITOR_COOKIE,
        token,
        max_age=services.VISITOR_MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="None" if secure else "Lax",
    )
    return response


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def chat_messages(request: HttpRequest) -> JsonResponse:
    """GET ?after=<id>: new lines since the last poll. POST {"body"}: the visitor writes."""
    session = _session(request)
    if session is None:
        return _error(400, "visitor_required", f"Start a chat first and send its token as {VISITOR_HEADER}.")
    if request.method == "GET":
        try:
            after = max(0, int(request.GET.get("after", "0")))
        except ValueError:
            return _error(400, "invalid", "after must be a message id.", {"after": ["Not a number."]})
        lines = services.chat_transcript(session=session, after_id=after)
        return JsonResponse({"messages": [_line(line) for line in lines]})
    limited = _limited(request, "chat-message", session.visitor_id) or _limited(
        request, "chat-message-ip", _client_address(request), factor=3
    )
    if limited:
        return limited
    data = _json(request)
    body = data.get("body")
    if not isinstance(body, str):
        return _error(400, "invalid", 'Send {"body": "..."}.', {"body": ["This field is required."]})
    try:
        message = services.chat_message_post(session=session, body=body)
    except ValidationError as exc:
        return _error(400, "invalid", " ".join(exc.messages), exc.message_dict if hasattr(exc, "error_dict") else None)
    line = services.TranscriptLine(id=message.pk, sender="visitor", author="", body=message.body, at=message.created_at)
    return JsonResponse({"message": _line(line)}, status=201)


@login_not_required
@csrf_exempt
@never_cache
@require_POST
def chat_identify(request: HttpRequest) -> JsonResponse:
    """The visitor gives their email (and name): the chat joins that customer."""
    session = _session(request)
    if session is None:
        return _error(400, "visitor_required", f"Start a chat first and send its token as {VISITOR_HEADER}.")
    limited = _limited(request, "chat-identify", session.visitor_id)
    if limited:
        return limited
    data = _json(request)
    email, name = data.get("email"), data.get("name", "")
    if not isinstance(email, str) or not isinstance(name, str):
        return _error(400, "invalid", 'Send {"email": "...", "name": "..."}.', {"email": ["Required."]})
    try:
        services.chat_visitor_identify(session=session, email=email, name=name[:300])
    except ValidationError as exc:
        return _error(400, "invalid", " ".join(exc.messages), exc.message_dict if hasattr(exc, "error_dict") else None)
    return JsonResponse({"identified": True})
