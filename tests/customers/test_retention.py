"""Retention rules: purge old browsing events, anonymise old closed tickets, with a dry run, on a
daily schedule, skipping customers under legal hold."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEvent, Event, Job, RetentionRule
from customers.privacy.retention import retention_preview, retention_rule_save, retention_run, retention_run_start
from customers.tasks import retention_daily
from tests.factories import CSATSurveyFactory, CustomerFactory, EventFactory, MessageFactory, TicketFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def _days_ago(days: int):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def history():
    """Events and tickets of several ages, and a customer under legal hold."""
    held = CustomerFactory(legal_hold=True)
    old_events = [EventFactory(occurred_at=_days_ago(400)) for _ in range(3)]
    recent_event = EventFactory(occurred_at=_days_ago(10))
    held_event = EventFactory(customer=held, occurred_at=_days_ago(400))
    old_closed = TicketFactory(status=Ticket.Status.CLOSED, subject="Refund for Maria", last_message_at=_days_ago(800))
    MessageFactory(ticket=old_closed, body="Maria here, my card ends 4242")
    CSATSurveyFactory(ticket=old_closed, rating=5, answered_at=_days_ago(790), comment="Thanks Maria")
    old_open = TicketFactory(status=Ticket.Status.OPEN, last_message_at=_days_ago(800))
    recent_closed = TicketFactory(status=Ticket.Status.SOLVED, last_message_at=_days_ago(5))
    held_ticket = TicketFactory(customer=held, status=Ticket.Status.CLOSED, last_message_at=_days_ago(800))
    return {
        "old_events": old_events,
        "recent_event": recent_event,
        "held_event": held_event,
        "old_closed": old_closed,
        "old_open": old_open,
        "recent_closed": recent_closed,
        "held_ticket": held_ticket,
    }


def test_the_dry_run_counts_and_samples_without_changing_anything(history):
    preview = retention_preview(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=365)

    assert preview.count == 3
    assert len(preview.sample) == 3 and "page_view event of customer" in preview.sample[0]
    assert Event.objects.count() == 5

    tickets = retention_preview(kind=RetentionRule.Kind.ANONYMISE_TICKETS, after_days=730)
    assert tickets.count == 1 and f"#{history['old_closed'].pk}" in tickets.sample[0]


def test_running_the_rules_purges_events_and_anonymises_closed_tickets(history, admin_user):
    # given both rules
    retention_rule_save(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=365, active=True, actor=admin_user)
    retention_rule_save(kind=RetentionRule.Kind.ANONYMISE_TICKETS, after_days=730, active=True, actor=admin_user)

    # when they run
    job = retention_run(job_id=retention_run_start(actor=admin_user).pk)

    # then only the old data of customers without a hold went
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["results"] == {"anonymise_tickets": 1, "purge_events": 3, "expired_exports": 0}
    assert set(Event.objects.values_list("pk", flat=True)) == {history["recent_event"].pk, history["held_event"].pk}
    old = Ticket.objects.get(pk=history["old_closed"].pk)
    assert old.subject == "[anonymised]" and old.status == Ticket.Status.CLOSED
    assert set(Message.objects.filter(ticket=old).values_list("body", flat=True)) == {"[erased]"}
    assert old.csat.rating == 5 and old.csat.comment == ""
    for untouched in ("old_open", "recent_closed", "held_ticket"):
        assert Ticket.objects.get(pk=history[untouched].pk).subject == history[untouched].subject
    assert RetentionRule.objects.get(kind=RetentionRule.Kind.PURGE_EVENTS).last_run_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_RUN).exists()


def test_an_inactive_rule_does_not_run(history, admin_user):
    retention_rule_save(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=365, active=False, actor=admin_user)
    retention_run(job_id=retention_run_start().pk)
    assert Event.objects.count() == 5


def test_running_twice_changes_nothing_more(history, admin_user):
    retention_rule_save(kind=RetentionRule.Kind.ANONYMISE_TICKETS, after_days=730, active=True, actor=admin_user)
    retention_run(job_id=retention_run_start().pk)
    second = retention_run(job_id=retention_run_start().pk)
    assert second.result["results"]["anonymise_tickets"] == 0


def test_rule_changes_are_audited_and_validated(admin_user):
    retention_rule_save(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=90, active=True, actor=admin_user)
    retention_rule_save(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=30, active=True, actor=admin_user)
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_CHANGED).order_by("occurred_at", "id")
    assert [event.details["after"]["after_days"] for event in changes] == [90, 30]
    assert changes.last().details["before"] == {"after_days": 90, "active": True}
    with pytest.raises(ValidationError):
        retention_rule_save(kind=RetentionRule.Kind.PURGE_EVENTS, after_days=0, active=True, actor=admin_user)


def test_beat_runs_the_rules_daily(django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == "customers.tasks.retention_daily"
    with django_capture_on_commit_callbacks(execute=True):
        job_id = retention_daily()
    assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED


def test_the_retention_page_saves_and_previews(client, admin_user, history):
    client.force_login(admin_user)
    url = reverse("privacy:retention")
    assert client.get(url).status_code == 200

    response = client.post(url, {"rule": "purge_events", "purge_events-after_days": "365", "purge_events-active": "on"})
    assert response.status_code == 302
    assert RetentionRule.objects.get(kind="purge_events").after_days == 365

    preview = client.get(
        reverse("privacy:retention_preview"), {"kind": "purge_events", "after_days": 365}, HTTP_HX_REQUEST="true"
    )
    assert preview.status_code == 200 and "<strong>3</strong> items would go" in preview.content.decode()
    assert Event.objects.count() == 5

    bad = client.post(url, {"rule": "purge_events", "purge_events-after_days": "0"})
    assert bad.status_code == 400


def test_closed_tickets_are_kept_for_months_on_the_page(client, admin_user, history):
    # given the retention page
    client.force_login(admin_user)
    url = reverse("privacy:retention")

    # when the admin keeps closed tickets 24 months
    response = client.post(
        url, {"rule": "anonymise_tickets", "anonymise_tickets-after_months": "24", "anonymise_tickets-active": "on"}
    )

    # then the rule holds 720 days, and the pages say 24 months
    assert response.status_code == 302
    assert RetentionRule.objects.get(kind="anonymise_tickets").after_days == 720
    assert 'name="anonymise_tickets-after_months" value="24"' in client.get(url).content.decode()
    assert "Anonymise closed tickets older than 24 months" in client.get(reverse("privacy:index")).content.decode()
    # and the dry run takes months too, and says what is wrong with a bad number
    preview = client.get(reverse("privacy:retention_preview"), {"kind": "anonymise_tickets", "after_months": 1})
    assert preview.status_code == 200
    bad = client.get(reverse("privacy:retention_preview"), {"kind": "anonymise_tickets", "after_months": 0})
    assert bad.status_code == 400 and "greater than or equal to 1" in bad.content.decode()
