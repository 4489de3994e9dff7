"""CSV import of consent decisions: good rows land, bad rows are reported line by line, and
importing the same file again changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers import consent
from customers.models import AuditEvent, Channel, ConsentRecord, Job
from customers.privacy.consent_import import consent_import_rows
from tests.factories import ContactPointFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    ana = ContactPointFactory(channel=Channel.EMAIL, value="ana@example.com").customer
    ben = ContactPointFactory(channel=Channel.EMAIL, value="ben@example.com").customer
    return ana, ben


def _csv(people) -> bytes:
    _, ben = people
    return (
        "email,customer,purpose,granted,recorded_at,note\n"
        "Ana@Example.com,,marketing,yes,2024-05-03T10:00:00Z,signed form\n"
        f",{ben.public_id},marketing,no,,\n"
        "ana@example.com,,surveys,withdrawn,2024-05-04,\n"
        "nobody@example.com,,marketing,yes,,\n"
        "ana@example.com,,telepathy,yes,,\n"
        "ana@example.com,,marketing,maybe,,\n"
        "ana@example.com,,marketing,yes,2999-01-01,\n"
        ",not-a-uuid,marketing,yes,,\n"
    ).encode()


def test_good_rows_land_and_bad_rows_are_reported_by_line(people, admin_user):
    ana, ben = people

    report = consent_import_rows(data=_csv(people), actor=admin_user)

    assert (report["rows"], report["imported"], report["skipped"], report["errors"]) == (8, 3, 0, 5)
    problems = {(row["line"], row["field"]): row["reason"] for row in report["report"]}
    assert set(problems) == {(5, "email"), (6, "purpose"), (7, "granted"), (8, "recorded_at"), (9, "customer")}
    assert "No customer has this email" in problems[(5, "email")]
    assert consent.allows(ana, "marketing") and not consent.allows(ana, "surveys")
    assert not consent.allows(ben, "marketing")
    record = ConsentRecord.objects.get(customer=ana, purpose__code="marketing")
    assert (record.source, record.note, record.actor) == ("import", "signed form", admin_user)
    assert record.recorded_at.isoformat() == "2024-05-03T10:00:00+00:00"


def test_importing_the_same_file_again_changes_nothing(people, admin_user):
    consent_import_rows(data=_csv(people), actor=admin_user)
    before = ConsentRecord.objects.count()

    report = consent_import_rows(data=_csv(people), actor=admin_user)

    assert ConsentRecord.objects.count() == before
    assert (report["imported"], report["skipped"]) == (0, 3)


def test_a_row_matching_the_current_decision_is_skipped(admin_user):
    ana = ContactPointFactory(channel=Channel.EMAIL, value="ana@example.com").customer
    data = b"email,purpose,granted\nana@example.com,marketing,yes\n"
    assert consent_import_rows(data=data, actor=admin_user)["imported"] == 1
    assert consent_import_rows(data=data, actor=admin_user)["skipped"] == 1
    assert ConsentRecord.objects.filter(customer=ana).count() == 1


def test_erased_customers_are_refused(admin_user):
    erased = CustomerFactory(erased=True)
    report = consent_import_rows(
        data=f"customer,purpose,granted\n{erased.public_id},marketing,yes\n".encode(), actor=None
    )
    assert report["errors"] == 1 and "erased" in report["report"][0]["reason"]


def test_an_admin_uploads_a_file_and_reads_the_report(client, people, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("decisions.csv", _csv(people), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:imports"), {"file": upload})

    job = Job.objects.get(kind=Job.Kind.IMPORT)
    assert response.status_code == 302 and response["Location"] == reverse("privacy:job", kwargs={"job_id": job.pk})
    page = client.get(response["Location"]).content.decode()
    assert "3 imported, 0 skipped (already in the ledger), 5 with errors" in page
    assert "No customer has this email address." in page
    # the page sits under the imports tab and leads back there
    assert 'href="/privacy/imports/" aria-current="page"' in page and "Back to imports" in page
    assert AuditEvent.objects.get(action=AuditEvent.Action.CONSENT_IMPORTED).details["imported"] == 3
    assert "decisions.csv" in client.get(reverse("privacy:imports")).content.decode()


def test_a_file_without_the_columns_is_refused_at_once(client, admin_user):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("x.csv", b"name,colour\nAna,blue\n", content_type="text/csv")
    response = client.post(reverse("privacy:imports"), {"file": upload})
    assert response.status_code == 400
    assert b"Missing column" in response.content
    assert not Job.objects.exists()
