"""``/webhooks/email/`` and ``/webhooks/chat/``: mail and chat pushed by other systems.

Email comes as the raw RFC 822 message (``Content-Type: message/rfc822``), as a JSON envelope
``{"raw": "..."}`` (or ``"raw_base64"``), or already parsed by a mail provider as
``{"from", "to", "subject", "text", "html", "message_id", "in_reply_to", "references",
"headers", "attachments": [{"filename", "content_type", "content_base64"}]}``; every form goes
through the same ingest as ``manage.py ingest_email``. Chat comes as one message from a chat
provider: ``{"visitor_id", "message_id", "text", "email", "name", "sent_at", "page_url"}``.
Signature, idempotency and atomicity come from ``supportdesk.webhook_receiver``.
"""

import base64
import binascii
import hashlib
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.dateparse import parse_datetime

from supportdesk.webhook_receiver import WebhookBodyError, json_body, webhook_endpoint

from .channels import inbound_email
from .channels.html import html_sanitise, html_to_text
from .chat import services as chat

RAW_TYPES = {"message/rfc822", "application/octet-stream", "text/plain"}


def _string(data: dict, key: str, *, required: bool = False, max_length: int = 1_000_000) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise WebhookBodyError(f"{key} must be a string.", {key: ["Expected a string."]})
    if required and not value.strip():
        raise WebhookBodyError(f"{key} is required.", {key: ["This field is required."]})
    if len(value) > max_length:
        raise WebhookBodyError(f"{key} is too long.", {key: [f"At most {max_length} characters."]})
    return value


def _ids(value: Any, key: str) -> list[str]:
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    if value is None:
        return []
    if not isinstance(value, str):
        raise WebhookBodyError(f"{key} must be a string or a list.", {key: ["Expected a string."]})
    return inbound_email._message_ids(value)


def _parsed_from_fields(data: dict, body: bytes) -> inbound_email.ParsedEmail:
    name, sender = parseaddr(_string(data, "from", required=True, max_length=500))
    if not sender:
        raise WebhookBodyError("from has no address.", {"from": ["Expected an email address."]})
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise WebhookBodyError("headers must be an object.", {"headers": ["Expected an object."]})
    flags = {key.strip().lower(): value for key, value in list(headers.items())[:200] if isinstance(value, str)}
    message_ids = inbound_email._message_ids(_string(data, "message_id", max_length=255))
    message_id = message_ids[0] if message_ids else f"<sha256-{hashlib.sha256(body).hexdigest()[:40]}@desk.invalid>"
    html = html_sanitise(_string(data, "html"))
    text = _string(data, "text") or html_to_text(html)
    attachments = []
    for index, item in enumerate(data.get("attachments") or []):
        if not isinstance(item, dict):
            raise WebhookBodyError("attachments must be objects.", {f"attachments[{index}]": ["Expected an object."]})
        try:
            content = base64.b64decode(_string(item, "content_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise WebhookBodyError(
                "An attachment is not base64.", {f"attachments[{index}].content_base64": ["Not base64."]}
            ) from None
        attachments.append(
            inbound_email.ParsedAttachment(
                filename=_string(item, "filename", max_length=255) or "attachment.bin",
                content_type=_string(item, "content_type", max_length=100) or "application/octet-stream",
                data=content,
            )
        )
    parsed = inbound_email.ParsedEmail(
        message_id=message_id,
        sender=sender.strip().lower(),
        sender_name=name.strip(),
        to=[parseaddr(_string(data, "to", max_length=2000))[1]],
        subject=_string(data, "subject", max_length=255),
        text=text,
        html=html,
        in_reply_to=_ids(data.get("in_reply_to"), "in_reply_to"),
        references=_ids(data.get("references"), "references"),
        attachments=attachments,
        spam=inbound_email.is_spam(flags),
        auto_reply=inbound_email.is_auto_reply(flags),
    )
    parsed.bounce = bool(inbound_email._BOUNCE_SENDERS.match(parsed.sender))
    return parsed


def email_webhook_handle(request: HttpRequest, body: bytes) -> dict[str, Any]:
    try:
        if request.content_type in RAW_TYPES:
            return inbound_email.email_ingest(raw=body).as_dict()
        if request.content_type != "application/json":
            raise WebhookBodyError("Send message/rfc822 or application/json.", {"Content-Type": ["Unsupported."]})
        data = json_body(body)
        if not isinstance(data, dict):
            raise WebhookBodyError("Send a JSON object.")
        if "raw" in data:
            return inbound_email.email_ingest(raw=_string(data, "raw", required=True).encode("utf-8")).as_dict()
        if "raw_base64" in data:
            try:
                raw = base64.b64decode(_string(data, "raw_base64", required=True), validate=True)
            except (binascii.Error, ValueError):
                raise WebhookBodyError("raw_base64 is not base64.", {"raw_base64": ["Not base64."]}) from None
            return inbound_email.email_ingest(raw=raw).as_dict()
        parsed = _parsed_from_fields(data, body)
        return inbound_email.email_ingest_parsed(parsed=parsed, raw=body).as_dict()
    except inbound_email.EmailTooLarge as exc:
        raise WebhookBodyError(str(exc)) from None


def chat_webhook_handle(request: HttpRequest, body: bytes) -> dict[str, Any]:
    data = json_body(body)
    if not isinstance(data, dict):
        raise WebhookBodyError("Send one chat message as a JSON object.")
    visitor_id = _string(data, "visitor_id", required=True, max_length=64).strip()
    message_id = _string(data, "message_id", required=True, max_length=255).strip()
    text = _string(data, "text", required=True, max_length=chat.MAX_BODY)
    sent_at = None
    if data.get("sent_at"):
        sent_at = parse_datetime(_string(data, "sent_at", max_length=40))
        if sent_at is None or sent_at.tzinfo is None:
            raise WebhookBodyError("sent_at is not a date-time.", {"sent_at": ["Expected ISO 8601 with offset."]})
    try:
        session = chat.chat_session_start(visitor_id=visitor_id, page_url=_string(data, "page_url", max_length=500))
        email = _string(data, "email", max_length=254).strip()
        if email:
            chat.chat_visitor_identify(session=session, email=email, name=_string(data, "name", max_length=300))
        message = chat.chat_message_post(session=session, body=text, external_id=message_id, sent_at=sent_at)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"text": exc.messages}
        raise WebhookBodyError("; ".join(exc.messages), fields) from None
    return {
        "status": "stored",
        "ticket": message.ticket_id,
        "message": message.pk,
        "customer": str(message.ticket.customer.public_id),
    }


email_webhook = webhook_endpoint(
    "email", email_webhook_handle, max_bytes=lambda: settings.DESK_EMAIL_MAX_BYTES * 4 // 3 + 4096
)
chat_webhook = webhook_endpoint("chat", chat_webhook_handle, max_bytes=64 * 1024)
