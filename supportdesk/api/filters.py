"""Filters and ordering from allowlists only.

A list view declares ``query_filters`` (name → :class:`QueryFilter`) and ``ordering_fields``.
Any other query parameter, a value of the wrong type, or ``?ordering=`` on a field that is not
allowlisted answers 400 naming the parameter — never a silent full list, never an ordering on a
field the caller should not probe (``?ordering=assignee__password``).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend, OrderingFilter

# Query parameters every list understands besides its own filters.
PAGINATION_PARAMS = frozenset({"cursor", "page_size"})
ORDERING_PARAM = "ordering"
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
_SCHEMA = {
    "string": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
}


@dataclass(frozen=True)
class QueryFilter:
    """One allowlisted filter: how to parse its value and how to apply it."""

    apply: Callable[[QuerySet, Any], QuerySet]
    kind: str = "string"
    description: str = ""
    choices: tuple[str, ...] = ()
    max_length: int = 200

    def parse(self, raw: str) -> Any:
        raw = raw.strip()
        if self.choices:
            if raw not in self.choices:
                raise ValueError(f"Choose one of: {', '.join(self.choices)}.")
            return raw
        if self.kind == "uuid":
            return uuid.UUID(raw)
        if self.kind == "integer":
            value = int(raw)
            if not -(2**63) < value < 2**63:
                raise ValueError("Out of range.")
            return value
        if self.kind == "boolean":
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError("Give true or false.")
        if self.kind == "datetime":
            moment = parse_datetime(raw)
            if moment is None:
                day = parse_date(raw)
                if day is None:
                    raise ValueError("Give an ISO 8601 date or date-time.")
                moment = make_aware(_midnight(day))
            return make_aware(moment) if is_naive(moment) else moment
        if not raw or len(raw) > self.max_length:
            raise ValueError(f"Give 1 to {self.max_length} characters.")
        if "\x00" in raw:
            raise ValueError("Contains a NUL character.")
        return raw

    def schema(self) -> dict:
        schema = dict(_SCHEMA[self.kind])
        if self.choices:
            schema["enum"] = list(self.choices)
        elif self.kind == "string":
            schema.update(minLength=1, maxLength=self.max_length)
        return schema


def _midnight(day):
    from datetime import datetime, time

    return datetime.combine(day, time.min)


def _is_list(view) -> bool:
    return getattr(view, "action", "list") == "list"


class AllowlistFilter(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if not _is_list(view):
            return queryset
        filters: dict[str, QueryFilter] = getattr(view, "query_filters", {})
        allowed = set(filters) | PAGINATION_PARAMS
        if getattr(view, "ordering_fields", None):
            allowed.add(ORDERING_PARAM)
        errors: dict[str, list[str]] = {}
        for name in request.query_params:
            if name not in allowed:
                errors[name] = [f"Unknown query parameter. This list accepts: {', '.join(sorted(allowed))}."]
        parsed = {}
        for name, spec in filters.items():
            if name not in request.query_params:
                continue
            try:
                parsed[name] = spec.parse(request.query_params.get(name))
            except (ValueError, OverflowError) as exc:
                errors[name] = [str(exc) or "Not a valid value."]
        if errors:
            raise serializers.ValidationError(errors)
        for name, value in parsed.items():
            queryset = filters[name].apply(queryset, value)
        return queryset

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": spec.description,
                "schema": spec.schema(),
            }
            for name, spec in getattr(view, "query_filters", {}).items()
        ]


class AllowlistOrdering(OrderingFilter):
    """``?ordering=field`` or ``-field`` from the view's ``ordering_fields``; else 400."""

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        allowed = tuple(getattr(view, "ordering_fields", ()) or ())
        raw = request.query_params.get(ORDERING_PARAM)
        if raw and allowed:
            terms = [term.strip() for term in raw.split(",") if term.strip()]
            bad = [term for term in terms if term.lstrip("-") not in allowed]
            if bad or not terms:
                raise serializers.ValidationError(
                    {ORDERING_PARAM: [f"Order by one of: {', '.join(allowed)} (prefix - for descending)."]}
                )
        else:
            terms = list(getattr(view, "ordering", None) or ("-id",))
        if terms[-1].lstrip("-") != "id":
            terms.append("-id" if terms[0].startswith("-") else "id")
        return tuple(terms)

    def filter_queryset(self, request, queryset, view):
        if not _is_list(view):
            return queryset
        return queryset.order_by(*self.get_ordering(request, queryset, view))

    def get_schema_operation_parameters(self, view) -> list[dict]:
        allowed = tuple(getattr(view, "ordering_fields", ()) or ())
        if not allowed:
            return []
        return [
            {
                "name": ORDERING_PARAM,
                "required": False,
                "in": "query",
                "description": "Sort order; prefix a field with - for descending.",
                "schema": {"type": "string", "enum": [term for field in allowed for term in (field, f"-{field}")]},
            }
        ]
