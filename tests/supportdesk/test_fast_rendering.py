"""The fast template helpers and cached choice labels give exactly what Django's own give."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation

from customers.models import Channel
from supportdesk.labels import _labels
from supportdesk.templatetags.desk import choice_select, day_time, day_time_short, iso
from tickets.models import Ticket

MOMENTS = [
    datetime(2026, 1, 3, 0, 5, tzinfo=UTC),
    datetime(2026, 7, 31, 23, 59, tzinfo=UTC),
    datetime(2025, 12, 24, 9, 0, 30, tzinfo=UTC) + timedelta(microseconds=1234),
]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Los_Angeles"])
def test_the_date_filters_match_djangos_date_filter(language, zone):
    with translation.override(language), timezone.override(zone):
        for moment in MOMENTS:
            local = timezone.localtime(moment)
            assert iso(moment) == django_date(local, "c")
            assert day_time(moment) == django_date(local, "j M Y H:i")
            assert day_time_short(moment) == django_date(local, "j M H:i")
    assert iso(None) == day_time("") == day_time_short(None) == ""


def test_choice_select_marks_the_chosen_option_and_escapes_labels():
    html = choice_select("channel", [("", "Any"), ("email", "E-mail <b>"), ("chat", "Chat")], "email")
    assert html.startswith('<select name="channel" id="id_channel">')
    assert '<option value="email" selected>E-mail &lt;b&gt;</option>' in html
    assert '<option value="chat">Chat</option>' in html
    assert '<option value="">Any</option>' in html
    assert 'value="" selected' in choice_select("channel", [("", "Any"), ("chat", "Chat")], "")


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_choice_labels_are_the_translated_labels_in_the_active_language(language):
    ticket = Ticket(status=Ticket.Status.PENDING, channel="email")
    with translation.override(language):
        assert ticket.get_status_display() == str(Ticket.Status.PENDING.label)
        assert ticket.get_channel_display() == str(dict(Channel.choices)["email"])
        ticket.status = "not-a-status"
        assert ticket.get_status_display() == "not-a-status"


def test_choice_labels_are_kept_per_language():
    ticket = Ticket(status=Ticket.Status.PENDING)
    _labels.cache_clear()
    with translation.override("en"):
        assert ticket.get_status_display() == "Pending"
    with translation.override("de"):
        ticket.get_status_display()
    with translation.override("en"):
        ticket.get_status_display()
    assert _labels.cache_info().currsize == 2
    assert _labels.cache_info().hits == 1
