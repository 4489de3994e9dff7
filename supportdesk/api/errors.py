"""The API's one error shape: ``{"error": {"code", "message", "fields"}}`` for every 4xx.

``fields`` maps a field name to its messages; nested fields are written ``lines[0].quantity``.
Django ``ValidationError``s raised by services become 400s naming the field, the same as a
serializer's.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

DEFAULT_MESSAGES = {
    400: "The request is not valid.",
    401: "Authentication is required: send 'Authorization: Bearer <key>'.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "Method not allowed.",
}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, permission_denied.")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name to its messages; empty when the error is not about a field.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_body(*, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(*, status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None):
    return Response(error_body(code=code, message=message, fields=fields), status=status_code)


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"lines[0].quantity": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            # DRF keys a list's item errors by index.
            name = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else str(key)
            if key in ("non_field_errors", "__all__"):
                name = prefix or "non_field_errors"
            for field, messages in flatten_fields(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_fields(item, f"{prefix}[{index}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _validation_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        fields = _validation_fields(exc)
        return error_response(
            status_code=400, code="invalid", message=_summary(fields) or DEFAULT_MESSAGES[400], fields=fields
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's handler logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_fields(exc.detail)
        response.data = error_body(code="invalid", message=_summary(fields) or DEFAULT_MESSAGES[400], fields=fields)
        return response
    detail = getattr(exc, "detail", "")
    code = "error"
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    message = str(detail) if detail else DEFAULT_MESSAGES.get(response.status_code, "Error.")
    response.data = error_body(code=code, message=message)
    return response


def _summary(fields: dict[str, list[str]]) -> str:
    if not fields:
        return ""
    name, messages = next(iter(fields.items()))
    first = messages[0] if messages else ""
    if name == "non_field_errors":
        return first
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return f"{name}: {first}{more}"


def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any unknown URL under /api/ answers in the API's error shape, not the HTML 404 page."""
    return JsonResponse(
        error_body(code="not_found", message=f"No API endpoint at {request.path}."), status=status.HTTP_404_NOT_FOUND
    )
