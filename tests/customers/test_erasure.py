"""Right to be forgotten: the person goes everywhere, the figures stay, and it is audited."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.db.models.functions import Cast

from customers import consent
from customers.models import AuditEvent, ConsentRecord, ContactPoint, Customer, Event, Job, Order, OrderLine, Refund
from customers.privacy.erasure import (
    customer_erase_now,
    customer_erase_run,
    customer_erase_start,
    customer_legal_hold_set,
)
from customers.privacy.export import customer_export_start
from tests.customers.privacy_people import EMAIL, FIRST, build_person, spread_through_integrations
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Attachment, ChatSession, CSATSurvey, Message, QuarantinedEmail, Ticket

pytestmark = pytest.mark.django_db

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.FileField)
# Columns that cannot hold a name, an address or a phone number; any other kind of column fails
# test_every_column_is_searched_or_cannot_hold_text, so a new kind is never silently skipped.
NON_TEXT_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.DateField,
    models.DateTimeField,
    models.DecimalField,
    models.DurationField,
    models.FloatField,
    models.ForeignKey,
    models.GenericIPAddressField,
    models.IntegerField,
    models.TimeField,
    models.UUIDField,
)


def text_columns():
    """Every text, char, JSON and file-name column of every table, found by introspection."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                yield model, field


def installed_tables():
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.proxy and model._meta.managed:
            yield model


def leftovers(terms: list[str]) -> list[str]:
    """Every column of every table, and every stored file's contents, that still holds a term."""
    found = []
    for model, field in text_columns():
        rows = model._base_manager.annotate(_as_text=Cast(field.attname, models.TextField()))
        for term in terms:
            for value in rows.filter(_as_text__icontains=term).values_list("_as_text", flat=True)[:3]:
                found.append(f"{model._meta.label}.{field.name} holds {term!r}: {value[:120]!r}")
    return found + stored_files_holding(terms)


def stored_files_holding(terms: list[str]) -> list[str]:
    """Files in the (per-test, empty at start) default storage whose contents hold a term."""
    found = []
    pending = [""]
    while pending:
        folder = pending.pop()
        folders, files = default_storage.listdir(folder)
        pending.extend(f"{folder}/{name}".lstrip("/") for name in folders)
        for name in files:
            path = f"{folder}/{name}".lstrip("/")
            with default_storage.open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace").lower()
            found.extend(f"file {path} holds {term!r}" for term in terms if term.lower() in text)
    return found


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    """A storage of this test's own: files other tests left behind cannot mask or fake a result."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def person(admin_user):
    return build_person(agent=admin_user)


def _erase(person, admin_user, django_capture_on_commit_callbacks, **kwargs) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = customer_erase_start(
            customer=person.customer,
            actor=admin_user,
            reason=f"Erasure request from {EMAIL} on 3 May",
            **kwargs,
        )
    job.refresh_from_db()
    return job


def test_the_introspection_sees_the_tables_that_hold_personal_data():
    labels = {f"{model._meta.label}.{field.name}" for model, field in text_columns()}
    assert {
        "customers.Customer.first_name",
        "tickets.Message.body",
        "customers.Event.payload",
        "customers.AuditEvent.details",
        "customers.Job.result",
        "supportdesk.WebhookDelivery.result",
        "admin.LogEntry.object_repr",
        "tickets.Attachment.file",
    } <= labels


def test_every_column_is_searched_or_cannot_hold_text():
    unsearched = [
        f"{model._meta.label}.{field.name} ({type(field).__name__})"
        for model in installed_tables()
        for field in model._meta.concrete_fields
        if not isinstance(field, TEXT_FIELDS + NON_TEXT_FIELDS)
    ]
    assert unsearched == []


def test_after_erasure_no_text_column_of_any_table_holds_the_name_email_or_phone(
    person, admin_user, client, settings, django_capture_on_commit_callbacks
):
    # given a person known through every channel and integration, with an export already made
    spread_through_integrations(person=person, client=client, settings=settings, admin=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        customer_export_start(customer=person.customer, actor=admin_user, reason=f"asked by {FIRST}")
    before = leftovers(person.terms)
    for where in (
        "customers.AuditEvent.details",
        "customers.Job.params",
        "admin.LogEntry.object_repr",
        "tickets.Message.delivery_error",
        "tickets.Message.body_display",
        "tickets.ChatSession.page_url",
        "file jobs/",
        "file attachments/",
    ):
        assert any(line.startswith(where) for line in before), f"the fixture should put the person in {where}"

    # when they are erased
    job = _erase(person, admin_user, django_capture_on_commit_callbacks)

    # then nothing anywhere still names them, and their files are gone
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert leftovers(person.terms) == []
    for name in person.attachment_names + person.quarantine_names:
        assert not default_storage.exists(name)
    assert not Job.objects.filter(kind=Job.Kind.CUSTOMER_EXPORT).exclude(file="").exists()


def test_erasure_keeps_the_figures_under_the_same_anonymous_customer(
    person, admin_user, django_capture_on_commit_callbacks
):
    # given the person's figures
    customer = person.customer
    before = {
        "orders": Order.objects.filter(customer=customer).count(),
        "lines": OrderLine.objects.filter(order__customer=customer).count(),
        "refunded": list(Refund.objects.filter(order__customer=customer).values_list("amount", flat=True)),
        "tickets": Ticket.objects.filter(customer=customer).count(),
        "messages": Message.objects.filter(ticket__customer=customer).count(),
        "ratings": list(CSATSurvey.objects.filter(ticket__customer=customer).values_list("rating", flat=True)),
        "decisions": ConsentRecord.objects.filter(customer=customer).count(),
        "ltv": customer.lifetime_value,
    }

    # when they are erased
    _erase(person, admin_user, django_capture_on_commit_callbacks)

    # then the same row is anonymous and erased, and every figure is still there
    customer.refresh_from_db()
    assert customer.erased and customer.erased_at
    assert (customer.first_name, customer.last_name, customer.preferred_name) == ("", "", "")
    assert customer.display_name == "Erased customer"
    assert customer.lifetime_value == before["ltv"]
    assert Order.objects.filter(customer=customer).count() == before["orders"]
    assert OrderLine.objects.filter(order__customer=customer).count() == before["lines"]
    assert list(Refund.objects.filter(order__customer=customer).values_list("amount", flat=True)) == before["refunded"]
    assert Ticket.objects.filter(customer=customer).count() == before["tickets"]
    assert Message.objects.filter(ticket__customer=customer).count() == before["messages"]
    assert set(Message.objects.filter(ticket__customer=customer).values_list("body", flat=True)) == {"[erased]"}
    ratings = CSATSurvey.objects.filter(ticket__customer=customer).values_list("rating", flat=True)
    assert list(ratings) == before["ratings"]
    assert ConsentRecord.objects.filter(customer=customer).count() == before["decisions"]
    # and what identifies them is gone rather than kept
    assert not ContactPoint.objects.filter(customer=customer).exists()
    assert not Event.objects.filter(customer=customer).exists()
    assert not Attachment.objects.filter(message__ticket__customer=customer).exists()
    assert not QuarantinedEmail.objects.exists()
    assert all(s.visitor_id.startswith("erased-") for s in ChatSession.objects.filter(customer=customer))
    # an erased customer has granted nothing
    assert consent.allowed_purposes(customer) == frozenset()


def test_erasure_is_audited_with_who_asked_who_approved_and_why(person, admin_user, django_capture_on_commit_callbacks):
    # given a second admin who approves
    approver = UserFactory(username="second-admin")
    approver.groups.add(*admin_user.groups.all())

    # when the first admin asks and names the approver
    job = _erase(person, admin_user, django_capture_on_commit_callbacks, approved_by=approver)

    # then the job and the audit trail say who asked, who approved and why (without the person's email)
    assert (job.requested_by, job.approved_by) == (admin_user, approver)
    assert job.reason == "Erasure request from [erased] on 3 May"
    erased = AuditEvent.objects.get(action=AuditEvent.Action.CUSTOMER_ERASED, customer=person.customer)
    assert erased.details["requested_by"] == "admin"
    assert erased.details["approved_by"] == "second-admin"
    assert erased.details["reason"] == "Erasure request from [erased] on 3 May"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASURE_REQUESTED, customer=person.customer).exists()


def test_an_admin_may_approve_their_own_request_with_a_stated_reason(admin_user, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = customer_erase_start(customer=customer, actor=admin_user, reason="Customer asked by letter of 3 May")
    job.refresh_from_db()
    assert job.approved_by == admin_user and job.params["self_approved"] is True
    assert job.status == Job.Status.SUCCEEDED


def test_an_erasure_needs_a_reason(admin_user):
    with pytest.raises(ValidationError, match="State why"):
        customer_erase_start(customer=CustomerFactory(), actor=admin_user, reason="because")
    assert not Job.objects.exists()


def test_the_approver_must_be_allowed_to_erase(admin_user, agent):
    with pytest.raises(ValidationError, match="approver"):
        customer_erase_start(
            customer=CustomerFactory(), actor=admin_user, approved_by=agent, reason="Customer asked by letter"
        )


def test_a_legal_hold_blocks_erasure_with_a_clear_error(admin_user):
    customer = CustomerFactory()
    customer_legal_hold_set(customer=customer, actor=admin_user, hold=True, reason="Court order 2024/17")

    with pytest.raises(ValidationError, match="legal hold"):
        customer_erase_start(customer=customer, actor=admin_user, reason="Customer asked by letter")
    customer.refresh_from_db()
    assert not customer.erased
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LEGAL_HOLD_CHANGED, customer=customer).exists()


def test_a_hold_placed_after_the_request_stops_the_queued_job(admin_user):
    # given a queued erasure (the task has not run yet)
    customer = CustomerFactory()
    job = customer_erase_start(customer=customer, actor=admin_user, reason="Customer asked by letter")
    # when a hold is placed before the worker picks it up
    customer_legal_hold_set(customer=customer, actor=admin_user, hold=True, reason="Litigation")
    job = customer_erase_run(job_id=job.pk)
    # then the job fails with the reason, nothing is erased, and the failure is audited
    assert job.status == Job.Status.FAILED and "legal hold" in job.error
    customer.refresh_from_db()
    assert not customer.erased and customer.first_name
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASURE_FAILED, customer=customer).exists()


def test_erasing_twice_is_harmless(person, admin_user, django_capture_on_commit_callbacks):
    job = _erase(person, admin_user, django_capture_on_commit_callbacks)
    # a redelivered task finds the job done
    assert customer_erase_run(job_id=job.pk).status == Job.Status.SUCCEEDED
    # and erasing the erased customer again finds nothing left to delete
    counts = customer_erase_now(customer=person.customer)
    assert counts["contact_points"] == 0 and counts["events"] == 0 and counts["attachments"] == 0


def test_an_erased_customer_can_no_longer_record_consent(person, admin_user, django_capture_on_commit_callbacks):
    _erase(person, admin_user, django_capture_on_commit_callbacks)
    customer = Customer.objects.get(pk=person.customer.pk)
    with pytest.raises(ValidationError):
        from customers.services import consent_record

        consent_record(customer=customer, purpose="marketing", granted=True, source="admin")


def test_rows_that_belong_to_nobody_lose_the_person_but_keep_everyone_else(
    person, admin_user, django_capture_on_commit_callbacks
):
    # given an import file with the person's row and someone else's, and an audit entry about
    # nobody that mentions another Zebulon
    from customers.privacy.consent_import import consent_import_run, consent_import_start

    other = CustomerFactory(first_name=FIRST, last_name="Smith")
    ContactPoint.objects.create(customer=other, channel="email", value="zebulon.smith@example.com")
    csv = (
        f"email,purpose,granted,note\n{EMAIL},surveys,yes,{FIRST} said yes\n"
        f"zebulon.smith@example.com,surveys,no,{FIRST} Smith said no\n"
    )
    job = consent_import_start(data=csv.encode(), filename="fair.csv", actor=admin_user)
    consent_import_run(job_id=job.pk)
    AuditEvent.objects.create(action=AuditEvent.Action.AUDIT_EXPORTED, details={"note": f"{FIRST} Smith asked"})

    # when the person is erased
    _erase(person, admin_user, django_capture_on_commit_callbacks)

    # then their line is gone from the file, the other person's line and entry are intact
    job.refresh_from_db()
    with job.file.open("rb") as handle:
        lines = handle.read().decode().splitlines()
    assert lines == [
        "email,purpose,granted,note",
        "[erased],surveys,yes,[erased] said yes",
        f"zebulon.smith@example.com,surveys,no,{FIRST} Smith said no",
    ]
    assert AuditEvent.objects.filter(details__note=f"{FIRST} Smith asked").exists()
    other.refresh_from_db()
    assert other.first_name == FIRST and not other.erased


def test_a_reply_waiting_in_the_outbox_is_not_sent_after_erasure(
    person, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    # given a reply queued for delivery (its task has not run)
    from tickets.services import ticket_reply
    from tickets.tasks import outbox_sweep

    queued = ticket_reply(ticket=person.ticket, author=admin_user, body=f"Dear {FIRST}", channel="email")
    assert queued.delivery == Message.Delivery.QUEUED

    # when the customer is erased
    _erase(person, admin_user, django_capture_on_commit_callbacks)

    # then the reply is marked as not sent, and the outbox sweep no longer picks it up
    queued.refresh_from_db()
    assert (queued.delivery, queued.delivery_error) == (Message.Delivery.FAILED, "Not sent: the customer was erased.")
    Message.objects.filter(pk=queued.pk).update(created_at=queued.created_at.replace(year=2000))
    assert outbox_sweep() == 0
    assert mailoutbox == []
