"""Compiled queries (supportdesk.compiled): values the stored SQL must not be reused for as it is,
because the plain queryset would be different SQL for them, or would be no query at all."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from customers.models import Customer, Event
from customers.selectors import customer_get
from supportdesk.compiled import compiled_query
from tests.factories import CSATSurveyFactory, CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets.models import CSATSurvey, Ticket

pytestmark = pytest.mark.django_db


def test_none_after_a_number_is_is_null_not_a_bound_null():
    @compiled_query(Ticket)
    def of_team(*, team_id):
        return Ticket.objects.filter(team_id=team_id).order_by("pk")

    team = TeamFactory()
    TicketFactory(team=team)
    lone = TicketFactory(team=None)
    assert len(of_team(team_id=team.pk)) == 1
    assert [t.pk for t in of_team(team_id=None)] == [lone.pk]


def test_a_value_escaped_for_like_is_not_bound_raw():
    # SQLite's iexact is a LIKE: the value is escaped, "_" must not match any character.
    @compiled_query(Ticket)
    def subject_is(*, subject):
        return Ticket.objects.filter(subject__iexact=subject)

    TicketFactory(subject="aXb")
    assert subject_is(subject="zzz") == []
    assert subject_is(subject="a_b") == []
    assert len(subject_is(subject="AXB")) == 1


def test_a_lowered_value_is_not_bound_raw():
    @compiled_query(Ticket)
    def subject_is(*, subject):
        return Ticket.objects.filter(subject=subject.strip().lower())

    TicketFactory(subject="abc")
    assert subject_is(subject="zzz") == []
    assert len(subject_is(subject=" ABC ")) == 1


def test_a_datetime_turned_into_a_date_is_not_stored_as_a_constant():
    @compiled_query(Ticket)
    def on_day(*, when):
        return Ticket.objects.filter(created_at__date=when)

    TicketFactory()
    now = timezone.now()
    assert on_day(when=now - timedelta(days=5)) == []
    assert len(on_day(when=now)) == 1


def test_a_clamped_number_is_not_stored_as_a_constant():
    @compiled_query(Ticket)
    def from_pk(*, floor):
        return Ticket.objects.filter(pk__gte=max(floor, 0))

    ticket = TicketFactory()
    assert from_pk(floor=ticket.pk + 1) == []
    assert len(from_pk(floor=ticket.pk)) == 1


def test_a_condition_a_positive_field_drops_for_the_stand_in_is_kept_for_real_values():
    # rating >= -7000000 cannot fail on a positive field: Django leaves the condition out.
    @compiled_query(CSATSurvey)
    def at_least(*, rating):
        return CSATSurvey.objects.filter(rating__gte=rating)

    CSATSurveyFactory(rating=2, answered_at=timezone.now())
    assert at_least(rating=5) == []
    assert len(at_least(rating=1)) == 1


def test_a_list_parameter_is_built_plainly():
    @compiled_query(Event)
    def with_key(*, key):
        return Event.objects.filter(payload__has_keys=[key])

    assert with_key(key="a") == []


def test_an_id_beyond_64_bits_is_no_such_customer(client):
    customer = CustomerFactory()
    assert customer_get(customer_id=customer.pk) == customer
    with pytest.raises(Customer.DoesNotExist):
        customer_get(customer_id=10**20)
    agent = UserFactory()
    agent.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(agent)
    assert client.get(f"/customers/{10**20}/").status_code == 404
