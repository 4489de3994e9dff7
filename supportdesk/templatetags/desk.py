"""Small, fast template helpers for the pages agents load all day.

Django's ``date`` filter parses its format string and builds a formatter object on every call;
the inbox asks for three dates a row. These filters give the same text for the formats the
desk uses, in the current time zone and language. ``choice_select`` renders a plain
``<select>`` without Django's per-option widget templates (the inbox has five of them).
"""

from datetime import date, datetime

from django import template
from django.utils.dates import MONTHS_3
from django.utils.html import format_html, format_html_join
from django.utils.timezone import template_localtime

register = template.Library()


def _local(value) -> datetime | None:
    return template_localtime(value) if isinstance(value, datetime) else None


def _local_or_date(value) -> date | None:
    """A datetime in the current time zone, or a date as it is (``|date`` formats both)."""
    return _local(value) or (value if isinstance(value, date) else None)


@register.filter(expects_localtime=False)
def iso(value) -> str:
    """``{{ when|iso }}``, as ``|date:'c'``: for ``<time datetime=...>``."""
    local = _local_or_date(value)
    return local.isoformat() if local else ""


@register.filter(expects_localtime=False)
def day_time(value) -> str:
    """``{{ when|day_time }}``, as ``|date:'j M Y H:i'`` ("2 Dec 2026 09:05")."""
    local = _local(value)
    return f"{local.day} {MONTHS_3[local.month].title()} {local.year} {local:%H:%M}" if local else ""


@register.filter(expects_localtime=False)
def day(value) -> str:
    """``{{ when|day }}``, as ``|date:'j M Y'`` ("2 Dec 2026")."""
    local = _local_or_date(value)
    return f"{local.day} {MONTHS_3[local.month].title()} {local.year}" if local else ""


@register.filter(expects_localtime=False)
def day_at(value) -> str:
    """``{{ when|day_at }}``, as ``|date:'j M Y, H:i'`` ("2 Dec 2026, 09:05")."""
    local = _local(value)
    return f"{local.day} {MONTHS_3[local.month].title()} {local.year}, {local:%H:%M}" if local else ""


@register.filter(expects_localtime=False)
def day_time_short(value) -> str:
    """``{{ when|day_time_short }}``, as ``|date:'j M H:i'`` ("2 Dec 09:05")."""
    local = _local(value)
    return f"{local.day} {MONTHS_3[local.month].title()} {local:%H:%M}" if local else ""


@register.simple_tag
def choice_select(name: str, choices, selected: str = "", id_prefix: str = "id_"):
    """A ``<select>`` of (value, label) pairs with ``selected`` chosen, ids as Django's forms make them."""
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if str(value) == str(selected or "") else "", label) for value, label in choices),
    )
    return format_html('<select name="{}" id="{}{}">{}</select>', name, id_prefix, name, options)
