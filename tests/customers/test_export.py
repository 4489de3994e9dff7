"""Right of access: everything the desk holds about a customer, as JSON, for admins, for 7 days."""

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEvent, Customer, Job
from customers.privacy.erasure import erasure_coverage
from customers.privacy.export import customer_export_build, customer_export_run, customer_export_start, export_coverage
from customers.privacy.scope import scope_customer_ids
from tests.customers.privacy_people import EMAIL, FIRST, LAST, PHONE, build_person, spread_through_integrations

pytestmark = pytest.mark.django_db


def paths_to_customer() -> dict[type, str]:
    """Every model with a foreign key or one-to-one chain to Customer (Order → Customer,
    OrderLine → Order → Customer, Attachment → Message → Ticket → Customer...), including the
    tables Django creates for many-to-many fields, each with a lookup from it to the customer."""
    paths: dict[type, str] = {Customer: "pk"}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models(include_auto_created=True):
            if model in paths or model._meta.proxy:
                continue
            for field in model._meta.concrete_fields:
                if field.is_relation and (field.many_to_one or field.one_to_one) and field.related_model in paths:
                    parent = paths[field.related_model]
                    paths[model] = field.name if parent == "pk" else f"{field.name}__{parent}"
                    grew = True
                    break
    return paths


def models_leading_to_customer() -> set[type]:
    return set(paths_to_customer())


def test_the_walk_follows_chains_through_tickets_orders_and_messages():
    labels = {model._meta.label for model in models_leading_to_customer()}
    assert {
        "customers.OrderLine",
        "tickets.Message",
        "tickets.Attachment",
        "tickets.CSATSurvey",
        "tickets.Ticket_tags",  # a many-to-many table
    } <= labels


def test_every_model_related_to_a_customer_is_covered_by_the_export():
    missing = sorted(model._meta.label for model in models_leading_to_customer() - set(export_coverage()))
    assert not missing, f"Say how the customer export holds these models (export_coverage): {missing}"


def test_every_model_related_to_a_customer_is_covered_by_erasure():
    missing = sorted(model._meta.label for model in models_leading_to_customer() - set(erasure_coverage()))
    assert not missing, f"Say what erasure does to these models (erasure_coverage): {missing}"


@pytest.fixture
def person(admin_user):
    return build_person(agent=admin_user)


def test_the_export_holds_everything_the_desk_knows(person):
    # when the document is built
    document = json.loads(json.dumps(customer_export_build(customer=person.customer), default=str))

    # then every section is there, with the person's own data
    assert document["format"] == "supportdesk.customer-export"
    assert document["customer"]["first_name"] == FIRST and document["customer"]["last_name"] == LAST
    assert FIRST in [record["first_name"] for record in document["merged_records"]]  # the old record, and the chat
    assert {point["value"] for point in document["contact_points"]} >= {EMAIL, PHONE}
    order = document["orders"][0]
    assert order["number"] == "ZQ1001" and order["lines"][0]["name"] == "Walking boots"
    assert order["refunds"][0]["amount"] == "20.00"
    assert document["events"][0]["payload"]["email"] == EMAIL
    ledger = document["consent"]["ledger"]
    tracking = next(record for record in ledger if record["purpose"] == "behavioral_tracking")
    assert tracking["wording_version"] == 1 and tracking["wording"].startswith("We keep a record")
    assert tracking["recorded_by"] == "admin" and FIRST in tracking["note"]
    assert {state["purpose"] for state in document["consent"]["current"]} >= {"marketing", "surveys"}
    assert {event["action"] for event in document["audit_events"]} >= {"customer_created", "consent_recorded"}
    assert document["merges"][0]["reason"].startswith("same person")
    ticket = next(ticket for ticket in document["tickets"] if ticket["id"] == person.ticket.pk)
    assert ticket["subject"] == f"Boots for {FIRST} {LAST}"
    inbound = ticket["messages"][0]
    assert inbound["sender"] == EMAIL and inbound["attachments"][0]["filename"] == f"{LAST}-receipt.txt"
    assert any(message["internal_note"] for message in ticket["messages"])
    assert ticket["csat"]["rating"] == 2 and FIRST in ticket["csat"]["comment"]
    assert ticket["history"][0]["kind"] == "contact"
    assert any(person.chat_ticket.pk == t["id"] for t in document["tickets"])
    assert document["chat_sessions"][0]["page_url"].startswith("https://shop.example.com/")
    assert document["suggestion_feedback"][0]["rule"] == "cross_sell"


TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _leaves(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return []


def test_the_export_holds_every_text_value_of_every_row_that_leads_to_the_customer(
    person, admin_user, client, settings
):
    # given the person known through every channel and integration
    spread_through_integrations(person=person, client=client, settings=settings, admin=admin_user)

    # when their document is built
    document = json.dumps(customer_export_build(customer=person.customer), cls=DjangoJSONEncoder, ensure_ascii=False)

    # then every text held in a row that leads to them (found by introspection) is in it,
    # except in models whose coverage says why they are omitted
    ids = scope_customer_ids(person.customer)
    coverage = export_coverage()
    missing = []
    for model, path in paths_to_customer().items():
        if coverage[model].startswith("omitted"):
            continue
        fields = [field.attname for field in model._meta.concrete_fields if isinstance(field, TEXT_FIELDS)]
        for row in model._base_manager.filter(**{f"{path}__in": ids}).values("pk", *fields):
            for name in fields:
                missing += [
                    f"{model._meta.label}.{name} of #{row['pk']}: {leaf[:60]!r}"
                    for leaf in _leaves(row[name])
                    if json.dumps(leaf, ensure_ascii=False)[1:-1] not in document
                ]
    assert missing == []


def test_an_export_runs_as_a_job_and_is_audited(person, admin_user, django_capture_on_commit_callbacks):
    # when an admin asks for an export
    with django_capture_on_commit_callbacks(execute=True):
        job = customer_export_start(customer=person.customer, actor=admin_user, reason="Access request of 3 May")

    # then the job stored the file for 7 days, and the request is audited
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.file and job.result["counts"]["tickets"] == 2
    assert timedelta(days=6, hours=23) < job.expires_at - timezone.now() <= timedelta(days=7)
    requested = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT_REQUESTED, customer=person.customer)
    assert requested.actor == admin_user and requested.details["reason"] == "Access request of 3 May"
    with job.file.open("rb") as handle:
        assert json.load(handle)["customer"]["public_id"] == str(person.customer.public_id)
    # and a redelivered task leaves the finished job alone
    assert customer_export_run(job_id=job.pk).file.name == job.file.name


def _finished_export(customer, admin_user, capture) -> Job:
    with capture(execute=True):
        job = customer_export_start(customer=customer, actor=admin_user)
    job.refresh_from_db()
    return job


def test_an_admin_downloads_the_export_and_the_download_is_audited(
    client, person, admin_user, django_capture_on_commit_callbacks
):
    job = _finished_export(person.customer, admin_user, django_capture_on_commit_callbacks)
    client.force_login(admin_user)

    response = client.get(reverse("privacy:job_download", kwargs={"job_id": job.pk}))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(b"".join(response.streaming_content))["customer"]["first_name"] == FIRST
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT_DOWNLOADED, customer=person.customer).exists()


def test_after_seven_days_the_export_is_gone(client, admin_user, django_capture_on_commit_callbacks):
    # given an export made more than 7 days ago
    customer = Customer.objects.create(first_name="Old")
    job = _finished_export(customer, admin_user, django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(admin_user)

    # when an admin tries to download it, then it is gone (410) and nothing is audited as downloaded
    response = client.get(reverse("privacy:job_download", kwargs={"job_id": job.pk}))
    assert response.status_code == 410
    assert b"expired" in response.content
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT_DOWNLOADED).exists()


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_agents_and_leads_cannot_start_or_download_exports(
    request, client, role, admin_user, django_capture_on_commit_callbacks
):
    customer = Customer.objects.create(first_name="Ana")
    job = _finished_export(customer, admin_user, django_capture_on_commit_callbacks)
    client.force_login(request.getfixturevalue(role))

    assert client.get(reverse("privacy:job_download", kwargs={"job_id": job.pk})).status_code == 403
    assert client.get(reverse("privacy:job", kwargs={"job_id": job.pk})).status_code == 403
    assert client.post(reverse("privacy:export_start", kwargs={"customer_id": customer.pk})).status_code == 403
    assert client.post(reverse("privacy:erase_start", kwargs={"customer_id": customer.pk})).status_code == 403
