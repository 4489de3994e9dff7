"""The fast date filters take a date (a DateField) as Django's ``date`` filter does."""

from datetime import date

from django.template import Context, Template
from django.template.defaultfilters import date as date_filter


def test_day_and_iso_format_a_date_as_django_s_date_filter():
    promised = date(2026, 12, 2)
    rendered = Template("{% load desk %}{{ d|day }} {{ d|iso }}").render(Context({"d": promised}))
    assert rendered == f"{date_filter(promised, 'j M Y')} {date_filter(promised, 'c')}" == "2 Dec 2026 2026-12-02"
