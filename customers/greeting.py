"""The greeting an agent can open with: "Good afternoon, Maria — welcome back".

The name is the customer's preferred name, else their first name; without either the greeting
stays polite and neutral ("Good afternoon"). The time of day is the customer's, in their own
timezone. The words are in the customer's language, through Django's translation machinery
(``locale/<lang>/LC_MESSAGES/django.po``), whatever language the agent's desk is in.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import pgettext

from .models import Customer

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"


@dataclass(frozen=True)
class Greeting:
    text: str
    language: str  # the language code the text is in, for the page's lang attribute
    part_of_day: str
    local_time: datetime
    name: str  # the name used; empty when the neutral form was chosen
    returning: bool

    @property
    def clock(self) -> str:
        """The customer's wall-clock time, e.g. "19:05" (templates would convert it to ours)."""
        return self.local_time.strftime("%H:%M")

    @property
    def zone(self) -> str:
        return str(self.local_time.tzinfo)


def part_of_day(local: datetime) -> str:
    """Morning from 5:00 to 11:59, afternoon to 17:59, evening otherwise (night included)."""
    if 5 <= local.hour < 12:
        return MORNING
    if 12 <= local.hour < 18:
        return AFTERNOON
    return EVENING


def customer_zone(customer: Customer) -> ZoneInfo:
    """The customer's timezone; UTC when it is missing or not a known IANA name."""
    try:
        return ZoneInfo(customer.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def greeting_language(customer: Customer) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    code = (customer.locale or "").replace("_", "-").lower()
    if code in supported:
        return code
    base = code.split("-", 1)[0]
    return base if base in supported else settings.LANGUAGE_CODE


def _salutation(moment: str, name: str) -> str:
    # Each phrase is spelled out so translators see whole sentences, not fragments.
    if name:
        if moment == MORNING:
            return pgettext("greeting", "Good morning, %(name)s") % {"name": name}
        if moment == AFTERNOON:
            return pgettext("greeting", "Good afternoon, %(name)s") % {"name": name}
        return pgettext("greeting", "Good evening, %(name)s") % {"name": name}
    if moment == MORNING:
        return pgettext("greeting", "Good morning")
    if moment == AFTERNOON:
        return pgettext("greeting", "Good afternoon")
    return pgettext("greeting", "Good evening")


def greeting_for(*, customer: Customer, returning: bool, now: datetime | None = None) -> Greeting:
    """The greeting for ``customer`` at ``now`` (default: this moment).

    ``returning``: the customer had a previous conversation or order; the caller knows (the
    customers app cannot count tickets). An erased customer gets the neutral form.
    """
    local = (now or timezone.now()).astimezone(customer_zone(customer))
    moment = part_of_day(local)
    name = "" if customer.erased else customer.address_name.strip()
    language = greeting_language(customer)
    with translation.override(language):
        text = _salutation(moment, name)
        if returning:
            text = pgettext("greeting", "%(greeting)s — welcome back") % {"greeting": text}
    return Greeting(text=text, language=language, part_of_day=moment, local_time=local, name=name, returning=returning)
