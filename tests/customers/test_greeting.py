from datetime import UTC, datetime

import pytest
from django.utils import translation

from customers.greeting import greeting_for, part_of_day
from customers.models import Customer

# 14:30 UTC is 15:30 in Madrid (afternoon), 09:30 in New York (morning), 23:30 in Tokyo (evening).
AT = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)


def _customer(**fields) -> Customer:
    defaults = {"first_name": "Maria", "last_name": "López", "locale": "en", "timezone": "Europe/Madrid"}
    return Customer(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Madrid", "Good afternoon, Maria"),
        ("America/New_York", "Good morning, Maria"),
        ("Asia/Tokyo", "Good evening, Maria"),
    ],
)
def test_the_time_of_day_is_the_customers_own(zone, expected):
    greeting = greeting_for(customer=_customer(timezone=zone), returning=False, now=AT)

    assert greeting.text == expected


def test_the_preferred_name_wins_over_the_first_name():
    greeting = greeting_for(customer=_customer(preferred_name="Mari"), returning=False, now=AT)

    assert greeting.text == "Good afternoon, Mari"
    assert greeting.name == "Mari"


def test_without_a_name_the_greeting_stays_polite_and_neutral():
    greeting = greeting_for(customer=_customer(first_name="", last_name=""), returning=True, now=AT)

    assert greeting.text == "Good afternoon — welcome back"
    assert greeting.name == ""


def test_a_returning_customer_is_welcomed_back():
    greeting = greeting_for(customer=_customer(), returning=True, now=AT)

    assert greeting.text == "Good afternoon, Maria — welcome back"


@pytest.mark.parametrize(
    ("locale", "zone", "expected"),
    [
        ("es", "Europe/Madrid", "Buenas tardes, Maria, ¡qué gusto saludarle de nuevo!"),
        ("fr", "Europe/Paris", "Bonjour Maria, ravis de vous revoir"),
        ("de", "Europe/Berlin", "Guten Tag, Maria, willkommen zurück"),
        ("fr", "Asia/Tokyo", "Bonsoir Maria, ravis de vous revoir"),
        ("de", "America/New_York", "Guten Morgen, Maria, willkommen zurück"),
    ],
)
def test_the_greeting_is_in_the_customers_language(locale, zone, expected):
    greeting = greeting_for(customer=_customer(locale=locale, timezone=zone), returning=True, now=AT)

    assert greeting.text == expected
    assert greeting.language == locale


def test_the_agents_own_language_is_untouched():
    with translation.override("fr"):
        greeting_for(customer=_customer(locale="de"), returning=False, now=AT)

        assert translation.get_language() == "fr"


def test_an_unknown_timezone_or_language_falls_back_to_utc_and_english():
    greeting = greeting_for(customer=_customer(timezone="Mars/Olympus", locale="tlh"), returning=False, now=AT)

    assert greeting.text == "Good afternoon, Maria"
    assert (greeting.zone, greeting.language) == ("UTC", "en")


def test_an_erased_customer_is_not_named():
    greeting = greeting_for(customer=_customer(erased=True), returning=False, now=AT)

    assert greeting.text == "Good afternoon"


@pytest.mark.parametrize(
    ("hour", "moment"), [(4, "evening"), (5, "morning"), (11, "morning"), (12, "afternoon"), (18, "evening")]
)
def test_parts_of_the_day(hour, moment):
    assert part_of_day(datetime(2026, 1, 1, hour, 0, tzinfo=UTC)) == moment
