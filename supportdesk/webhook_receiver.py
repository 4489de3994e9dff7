"""The one way inbound webhooks are received: verify, de-duplicate, handle atomically.

``webhook_endpoint(source, handler)`` builds the view. Each delivery is all-or-nothing: the
handler's writes and the ``WebhookDelivery`` row commit together or not at all. A replay of a
delivery (same ``X-Desk-Delivery``, else the same body) answers 200 with the original result
and changes nothing. Errors use the API's shape: 401 for a bad signature, 400 for a malformed
body with the reason, 413 for a body over the limit.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from supportdesk.api.errors import error_body
from supportdesk.models import WebhookDelivery

from .webhook_signatures import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, signature_verify

logger = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

Handler = Callable[[HttpRequest, bytes], dict[str, Any]]


class WebhookBodyError(Exception):
    """The body is not what this webhook accepts; answered 400 with ``fields``."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookBodyError(f"The body is not valid JSON: {exc}.") from None


def _error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message, fields=fields), status=status)


def webhook_endpoint(source: str, handler: Handler, *, max_bytes: int | Callable[[], int] = DEFAULT_MAX_BYTES):
    """A view for ``/webhooks/<source>/`` around ``handler(request, body) -> result``."""

    @csrf_exempt  # authenticated by the HMAC signature, not by a session
    @login_not_required
    @require_POST
    def view(request: HttpRequest) -> JsonResponse:
        limit = max_bytes() if callable(max_bytes) else max_bytes
        body = request.read(limit + 1)
        if len(body) > limit:
            return _error(413, "too_large", f"The body is over {limit} bytes.")
        try:
            signature_verify(
                source=source,
                timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
                signature=request.headers.get(SIGNATURE_HEADER, ""),
                body=body,
            )
        except SignatureRejected as exc:
            return _error(401, exc.code, exc.message)
        delivery_id = request.headers.get(DELIVERY_HEADER, "").strip()[:255] or (
            "sha256:" + hashlib.sha256(body).hexdigest()
        )
        previous = WebhookDelivery.objects.filter(source=source, delivery_id=delivery_id).first()
        if previous:
            return _replayed(previous)
        try:
            with transaction.atomic():
                result = handler(request, body)
                WebhookDelivery.objects.create(source=source, delivery_id=delivery_id, result=result)
        except WebhookBodyError as exc:
            return _error(400, "invalid", exc.message, exc.fields)
        except ValidationError as exc:
            fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            return _error(400, "invalid", "; ".join(exc.messages), fields)
        except IntegrityError:
            # The same delivery arriving twice at once: the other request stored it first.
            previous = WebhookDelivery.objects.filter(source=source, delivery_id=delivery_id).first()
            if previous is None:
                raise
            return _replayed(previous)
        logger.info("webhook %s delivery %s: %s", source, delivery_id, result)
        return JsonResponse(result, status=200)

    view.webhook_source = source  # type: ignore[attr-defined]
    return view


def _replayed(delivery: WebhookDelivery) -> JsonResponse:
    response = JsonResponse(delivery.result, status=200)
    response["X-Desk-Replay"] = "true"
    return response
