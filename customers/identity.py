"""Normalising contact points, so that identity resolution is an exact lookup."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import Channel

DEFAULT_PHONE_REGION = "US"
_SOCIAL = re.compile(r"^(?P<network>[a-z0-9_-]+):@?(?P<handle>[\w.\-]{1,100})$", re.IGNORECASE)


def contact_normalise(*, channel: str, value: str, region: str | None = None) -> str:
    """Return the canonical form of ``value`` on ``channel`` or raise ``ValidationError``.

    Emails are lowercased (the whole address: the desk treats case variants as one person),
    phones become E.164 (``region`` is the customer's country for numbers without a ``+``),
    social handles become ``network:handle`` in lower case, chat visitor ids are kept as sent.
    """
    value = (value or "").strip()
    if not value:
        raise ValidationError("A contact value is required.", code="required")
    if channel == Channel.EMAIL:
        value = value.lower()
        validate_email(value)
        return value
    if channel == Channel.PHONE:
        try:
            number = phonenumbers.parse(value, (region or DEFAULT_PHONE_REGION).upper())
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"Not a phone number: {exc}", code="invalid_phone") from exc
        if not phonenumbers.is_possible_number(number):
            raise ValidationError("Not a possible phone number.", code="invalid_phone")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if channel == Channel.SOCIAL:
        match = _SOCIAL.match(value)
        if not match:
            raise ValidationError("Social handles are written network:handle, e.g. twitter:@maria.", code="invalid")
        return f"{match['network'].lower()}:{match['handle'].lower()}"
    if channel in (Channel.CHAT, Channel.WEB):
        if len(value) > 254:
            raise ValidationError("Visitor id is too long.", code="invalid")
        return value
    raise ValidationError(f"Unknown channel {channel!r}.", code="invalid_channel")
