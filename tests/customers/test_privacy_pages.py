"""The admin's privacy pages: a customer's consent and ledger, recording a decision, legal hold,
export and erasure forms, and the audit log with its filters and CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import AuditEvent, Channel, ConsentPurpose, ConsentRecord, Customer, Job
from customers.privacy import urls as privacy_urls
from customers.services import audit_record, consent_record
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _page(customer) -> str:
    return reverse("privacy:customer", kwargs={"customer_id": customer.pk})


class TestACustomersPrivacyPage:
    def test_it_answers_what_they_agreed_to_when_and_on_which_wording(self, admin_client, admin_user):
        customer = CustomerFactory(first_name="Maria")
        consent_record(
            customer=customer, purpose="marketing", granted=True, source="admin", actor=admin_user, note="letter"
        )

        response = admin_client.get(_page(customer))

        page = response.content.decode()
        assert response.status_code == 200
        assert "Offers and reminders" in page and "version 1" in page
        assert "We may send you offers" in page and "letter" in page and "Admin" in page
        assert "/preferences/" in page
        # viewing the page is itself audited
        assert AuditEvent.objects.filter(action=AuditEvent.Action.PROFILE_VIEWED, customer=customer).exists()

    def test_the_admin_records_a_decision_with_a_reason(self, admin_client, admin_user):
        customer = CustomerFactory()
        response = admin_client.post(
            reverse("privacy:decision_record", kwargs={"customer_id": customer.pk}),
            {
                "decision-purpose": "surveys",
                "decision-granted": "0",
                "decision-note": "Asked by letter",
                "decision-evidence": "letter 3 May",
            },
        )
        assert response.status_code == 302
        record = ConsentRecord.objects.get(customer=customer)
        assert (record.source, record.actor, record.granted, record.note) == (
            "admin",
            admin_user,
            False,
            "Asked by letter",
        )

    def test_a_decision_without_a_reason_is_refused(self, admin_client):
        customer = CustomerFactory()
        response = admin_client.post(
            reverse("privacy:decision_record", kwargs={"customer_id": customer.pk}),
            {"decision-purpose": "surveys", "decision-granted": "0"},
        )
        assert response.status_code == 400
        assert not ConsentRecord.objects.exists()

    def test_legal_hold_is_placed_with_a_reason_and_blocks_the_erasure_form(self, admin_client):
        customer = CustomerFactory()
        url = reverse("privacy:legal_hold", kwargs={"customer_id": customer.pk})
        assert admin_client.post(url, {"hold-hold": "1", "hold-reason": "Court order"}).status_code == 302
        customer.refresh_from_db()
        assert customer.legal_hold
        assert "Erasure is blocked" in admin_client.get(_page(customer)).content.decode()
        response = admin_client.post(
            reverse("privacy:erase_start", kwargs={"customer_id": customer.pk}),
            {"erase-reason": "Customer asked by letter", "erase-confirm": "ERASE"},
        )
        assert response.status_code == 400 and b"legal hold" in response.content

    def test_erasure_needs_the_typed_confirmation(self, admin_client):
        customer = CustomerFactory()
        response = admin_client.post(
            reverse("privacy:erase_start", kwargs={"customer_id": customer.pk}),
            {"erase-reason": "Customer asked by letter", "erase-confirm": "yes"},
        )
        assert response.status_code == 400
        assert not Job.objects.exists()

    def test_the_admin_erases_from_the_page(self, admin_client, django_capture_on_commit_callbacks):
        customer = CustomerFactory(first_name="Maria")
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("privacy:erase_start", kwargs={"customer_id": customer.pk}),
                {"erase-reason": "Customer asked by letter", "erase-confirm": "erase"},
            )
        job = Job.objects.get(kind=Job.Kind.CUSTOMER_ERASE)
        assert response["Location"] == reverse("privacy:job", kwargs={"job_id": job.pk})
        page = admin_client.get(response["Location"]).content.decode()
        assert "The customer was erased" in page and "self-approved" in page
        assert Customer.objects.get(pk=customer.pk).erased
        # what was removed reads in words, and what there was none of is not listed
        assert "Contact points deleted: 1" in page
        assert "Customer records anonymised" in page
        assert "Attachments deleted" not in page and ": 0<" not in page

    def test_an_export_of_a_customer_erased_since_says_the_file_went_with_them(
        self, admin_client, admin_user, django_capture_on_commit_callbacks
    ):
        from customers.privacy.erasure import customer_erase_now
        from customers.privacy.export import customer_export_start

        customer = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            export = customer_export_start(customer=customer, actor=admin_user)
        customer_erase_now(customer=customer)

        page = admin_client.get(reverse("privacy:job", kwargs={"job_id": export.pk})).content.decode()

        assert "deleted when the customer was erased" in page and "Download the export" not in page

    def test_the_admin_exports_from_the_page(self, admin_client, django_capture_on_commit_callbacks):
        customer = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("privacy:export_start", kwargs={"customer_id": customer.pk}), {"export-reason": "request"}
            )
        page = admin_client.get(response["Location"]).content.decode()
        assert "Download the export" in page

    def test_a_queued_job_page_polls_itself(self, admin_client, admin_user):
        from customers.privacy.export import customer_export_start

        job = customer_export_start(customer=CustomerFactory(), actor=admin_user)  # on_commit never fires here
        page = admin_client.get(reverse("privacy:job", kwargs={"job_id": job.pk})).content.decode()
        assert 'hx-trigger="every 2s"' in page

    def test_admins_find_customers_by_email_or_public_id(self, admin_client):
        customer = ContactPointFactory(channel=Channel.EMAIL, value="find.me@example.com").customer
        for query in ("find.me@example.com", str(customer.public_id), str(customer.pk)):
            page = admin_client.get(reverse("privacy:customers"), {"q": query}).content.decode()
            assert _page(customer) in page, query


class TestTheAuditLog:
    @pytest.fixture
    def entries(self, admin_user, agent):
        maria, ben = CustomerFactory(first_name="Maria"), CustomerFactory(first_name="Ben")
        ContactPointFactory(customer=maria, channel=Channel.EMAIL, value="maria@example.com")
        viewed = audit_record(action=AuditEvent.Action.PROFILE_VIEWED, customer=maria, actor=agent)
        AuditEvent.objects.filter(pk=viewed.pk).update(occurred_at=timezone.now() - timedelta(days=10))
        audit_record(action=AuditEvent.Action.CONSENT_RECORDED, customer=maria, actor=admin_user, details={"p": "m"})
        audit_record(action=AuditEvent.Action.CUSTOMER_MERGED, customer=ben, actor=admin_user)
        audit_record(action=AuditEvent.Action.EXPORT_REQUESTED, customer=ben, actor_label="=cmd|evil")
        return maria, ben

    def test_every_entry_is_listed(self, admin_client, entries):
        page = admin_client.get(reverse("privacy:audit")).content.decode()
        for label in ("Profile viewed", "Consent recorded", "Customers merged", "Export requested"):
            assert label in page

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"actor": "agent"}, ["profile_viewed"]),
            ({"action": "customer_merged"}, ["customer_merged"]),
            ({"customer": "maria@example.com"}, ["consent_recorded", "profile_viewed"]),
            ({"date_from": (timezone.localdate() - timedelta(days=1)).isoformat(), "actor": "admin"}, None),
            ({"date_to": (timezone.localdate() - timedelta(days=5)).isoformat()}, ["profile_viewed"]),
        ],
    )
    def test_filters(self, admin_client, entries, filters, expected):
        response = admin_client.get(reverse("privacy:audit"), filters)
        actions = [event.action for event in response.context["page"]]
        if expected is None:
            assert set(actions) == {"consent_recorded", "customer_merged"}
        else:
            assert actions == expected

    def test_the_csv_export_follows_the_filters_and_is_audited(self, admin_client, entries, admin_user):
        response = admin_client.get(reverse("privacy:audit_export"), {"customer": str(entries[1].pk)})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0] == ["occurred_at", "action", "actor", "customer_id", "customer_public_id", "details"]
        assert [row[1] for row in rows[1:]] == ["export_requested", "customer_merged"]
        # a cell a spreadsheet would run as a formula is defused
        assert rows[1][2] == "'=cmd|evil"
        exported = AuditEvent.objects.get(action=AuditEvent.Action.AUDIT_EXPORTED)
        assert exported.actor == admin_user and exported.details["filters"] == {"customer": str(entries[1].pk)}

    def test_a_bad_date_range_is_refused(self, admin_client, entries):
        response = admin_client.get(reverse("privacy:audit"), {"date_from": "2024-05-03", "date_to": "2024-05-01"})
        assert response.status_code == 400

    def test_the_log_is_paginated(self, admin_client, admin_user):
        AuditEvent.objects.bulk_create(
            [AuditEvent(action=AuditEvent.Action.PROFILE_VIEWED, actor_label="bulk") for _ in range(120)]
        )
        response = admin_client.get(reverse("privacy:audit"), {"actor": "bulk", "page": 3})
        assert len(response.context["page"]) == 20
        assert "Page 3 of 3" in response.content.decode()


ADMIN_ONLY = {
    # every privacy URL except the two an agent uses from a conversation (agent_decision,
    # preference_link); test_every_privacy_url_is_classified keeps this list complete
    "privacy:index",
    "privacy:purposes",
    "privacy:purpose_create",
    "privacy:purpose_edit",
    "privacy:customers",
    "privacy:customer",
    "privacy:decision_record",
    "privacy:export_start",
    "privacy:erase_start",
    "privacy:legal_hold",
    "privacy:job",
    "privacy:job_download",
    "privacy:imports",
    "privacy:retention",
    "privacy:retention_preview",
    "privacy:retention_run",
    "privacy:audit",
    "privacy:audit_export",
}
AGENT_ALLOWED = {"privacy:agent_decision", "privacy:preference_link"}


def _privacy_url(name: str, customer, job, purpose) -> str:
    kwargs = {"customer_id": customer.pk, "job_id": job.pk, "purpose_id": purpose.pk}
    pattern = next(p for p in privacy_urls.urlpatterns if f"privacy:{p.name}" == name)
    return reverse(name, kwargs={key: kwargs[key] for key in pattern.pattern.converters})


def test_every_privacy_url_is_classified():
    assert {f"privacy:{p.name}" for p in privacy_urls.urlpatterns} == ADMIN_ONLY | AGENT_ALLOWED


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_agents_and_leads_cannot_reach_the_admin_pages_or_jobs(request, client, role, admin_user):
    # given a customer with a finished export, and a purpose
    user = request.getfixturevalue(role)
    customer = CustomerFactory()
    job = Job.objects.create(kind=Job.Kind.CUSTOMER_EXPORT, customer=customer, status=Job.Status.SUCCEEDED)
    purpose = ConsentPurpose.objects.get(code="marketing")
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    # when they try every admin page, form and job, on the site and through the API
    answers = {}
    for name in sorted(ADMIN_ONLY):
        url = _privacy_url(name, customer, job, purpose)
        answers[name] = {
            client.get(url).status_code,
            client.post(url, {"reason": "Because I can", "confirm": "ERASE"}).status_code,
        }
    for method, url in [
        ("get", f"/api/v1/jobs/{job.pk}/"),
        ("post", f"/api/v1/customers/{customer.public_id}/export/"),
        ("post", f"/api/v1/customers/{customer.public_id}/erase/"),
    ]:
        answers[url] = {getattr(api, method)(url, {"reason": "Because I can"}).status_code}

    # then each one is refused (403; 405 only for the method a form does not take), and nothing
    # was started or changed
    assert {key: codes for key, codes in answers.items() if 403 not in codes or codes - {403, 405}} == {}
    assert list(Job.objects.values_list("pk", flat=True)) == [job.pk]
    assert not AuditEvent.objects.filter(action__in=["export_downloaded", "erasure_requested", "export_requested"])
    # and the navigation does not offer them
    assert 'href="/privacy/"' not in client.get(reverse("tickets:inbox")).content.decode()


def test_admins_see_privacy_in_the_navigation(admin_client):
    assert 'href="/privacy/"' in admin_client.get(reverse("privacy:index")).content.decode()


def _history(customer, admin_user, size: int) -> None:
    """``size`` decisions, jobs and audit rows more for ``customer``, on every purpose and wording."""
    from customers.privacy.purposes import consent_purpose_update

    for n in range(size):
        purpose = ["marketing", "surveys", "personalization"][n % 3]
        consent_record(
            customer=customer, purpose=purpose, granted=bool(n % 2), source="admin", actor=admin_user, note=f"{n}"
        )
        Job.objects.create(kind=Job.Kind.CUSTOMER_EXPORT, customer=customer, requested_by=admin_user)
        audit_record(action=AuditEvent.Action.PROFILE_VIEWED, customer=customer, actor=admin_user)
    marketing = ConsentPurpose.objects.get(code="marketing")
    for n in range(size // 10):
        consent_purpose_update(
            purpose=marketing,
            actor=admin_user,
            name=marketing.name,
            description=f"Offers, version {n}",
            lawful_basis=marketing.lawful_basis,
            default_granted=marketing.default_granted,
            active=True,
            position=marketing.position,
        )
        marketing.refresh_from_db()


def test_the_pages_read_in_a_flat_number_of_queries_however_long_the_history(
    admin_client, admin_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL)
    marketing = ConsentPurpose.objects.get(code="marketing")
    pages = {
        "customer": _page(customer),
        "audit": reverse("privacy:audit"),
        "audit for the customer": reverse("privacy:audit") + f"?customer={customer.pk}",
        "purposes": reverse("privacy:purposes"),
        "purpose": reverse("privacy:purpose_edit", kwargs={"purpose_id": marketing.pk}),
        "overview": reverse("privacy:index"),
        "customers found": reverse("privacy:customers") + f"?q={customer.pk}",
    }

    def counts() -> dict[str, int]:
        found = {}
        for name, url in pages.items():
            with CaptureQueriesContext(connection) as queries:
                assert admin_client.get(url).status_code == 200, name
            found[name] = len(queries)
        return found

    # given a short history, and what each page costs then
    _history(customer, admin_user, 1)
    short = counts()
    assert max(short.values()) <= 25, short

    # when the history grows sixty times as long
    _history(customer, admin_user, 60)

    # then no page costs a query more
    for name, url in pages.items():
        with django_assert_max_num_queries(short[name]):
            assert admin_client.get(url).status_code == 200, name


def test_the_audit_log_holds_what_the_desk_really_did(client, agent, admin_user, django_capture_on_commit_callbacks):
    # given a customer whom an agent looks up, who is merged with a duplicate, changes a consent,
    # and whose data an admin exports, downloads and erases — each through the real code path
    from customers.merge import customer_merge
    from customers.privacy.erasure import customer_erase_start
    from customers.privacy.export import customer_export_open, customer_export_start

    customer = CustomerFactory(first_name="Maria")
    duplicate = CustomerFactory(first_name="Maria")
    client.force_login(agent)
    assert client.get(reverse("customers:detail", kwargs={"customer_id": customer.pk})).status_code == 200
    customer_merge(survivor=customer, merged=duplicate, actor=agent, reason="same person")
    consent_record(customer=customer, purpose="marketing", granted=False, source="agent", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        export = customer_export_start(customer=customer, actor=admin_user)
    export.refresh_from_db()
    customer_export_open(job=export, actor=admin_user)[0].close()
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase_start(customer=customer, actor=admin_user, reason="Asked by letter of 3 May")

    # when an admin reads the audit log for the customer
    client.force_login(admin_user)
    response = client.get(reverse("privacy:audit"), {"customer": str(customer.pk)})

    # then every one of those is there, with who did it
    listed = {(event.action, event.actor_id) for event in response.context["page"]}
    assert {
        ("profile_viewed", agent.pk),
        ("customer_merged", agent.pk),
        ("consent_recorded", agent.pk),
        ("export_requested", admin_user.pk),
        ("export_downloaded", admin_user.pk),
        ("erasure_requested", admin_user.pk),
        ("customer_erased", admin_user.pk),
    } <= listed


def test_audit_details_read_as_words_without_empty_values(admin_client, admin_user):
    # given an erasure entry with nested counts and an export request without a reason
    customer = CustomerFactory()
    audit_record(
        action=AuditEvent.Action.CUSTOMER_ERASED,
        customer=customer,
        actor=admin_user,
        details={"job": 7, "reason": "Asked by letter", "counts": {"contact_points": 2, "attachments": 0}},
    )
    audit_record(action=AuditEvent.Action.EXPORT_REQUESTED, customer=customer, details={"job": 8, "reason": ""})

    page = admin_client.get(reverse("privacy:audit"), {"customer": str(customer.pk)}).content.decode()

    assert "counts: contact points 2<" in page and "attachments" not in page
    assert "reason: Asked by letter" in page and "reason: <" not in page and "reason: ;" not in page
