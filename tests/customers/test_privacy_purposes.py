"""Admins manage purposes at /privacy/purposes/; every wording version is kept and each decision
points at the version the customer saw."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import consent
from customers.models import AuditEvent, ConsentPurpose, ConsentWording
from customers.privacy.purposes import consent_purpose_create, consent_purpose_update
from customers.services import consent_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _marketing() -> ConsentPurpose:
    return ConsentPurpose.objects.get(code="marketing")


def _update(purpose: ConsentPurpose, actor, **changes) -> ConsentPurpose:
    values = {
        "name": purpose.name,
        "description": purpose.description,
        "lawful_basis": purpose.lawful_basis,
        "default_granted": purpose.default_granted,
        "active": purpose.active,
        "position": purpose.position,
        "translations": purpose.translations,
    }
    return consent_purpose_update(purpose=purpose, actor=actor, **{**values, **changes})


class TestServices:
    def test_creating_a_purpose_creates_its_first_wording(self, admin_user):
        purpose = consent_purpose_create(
            code="Newsletters", name="Newsletter", description="A monthly letter.", actor=admin_user
        )
        assert purpose.code == "newsletters"
        assert list(purpose.wordings.values_list("version", "text")) == [(1, "A monthly letter.")]
        assert AuditEvent.objects.filter(action=AuditEvent.Action.PURPOSE_CREATED, actor=admin_user).exists()

    def test_a_code_is_unique(self, admin_user):
        with pytest.raises(ValidationError, match="exists"):
            consent_purpose_create(code="marketing", name="Again", description="Again.", actor=admin_user)

    def test_new_wording_is_a_new_version_and_old_decisions_keep_theirs(self, admin_user):
        # given a customer who granted marketing on the shipped wording
        customer = CustomerFactory()
        first = consent_record(customer=customer, purpose="marketing", granted=True, source="customer")

        # when the admin rewords the purpose and the customer decides again
        _update(_marketing(), admin_user, description="Offers, reminders and a birthday discount.")
        second = consent_record(customer=customer, purpose="marketing", granted=False, source="customer")

        # then both versions exist and each decision points at what its customer saw
        versions = list(_marketing().wordings.order_by("version").values_list("version", "text"))
        assert versions[-1] == (2, "Offers, reminders and a birthday discount.")
        assert first.wording.version == 1 and second.wording.version == 2
        first.refresh_from_db()
        assert first.wording.text.startswith("We may send you offers")
        changed = AuditEvent.objects.get(action=AuditEvent.Action.PURPOSE_CHANGED)
        assert changed.details["wording_changed"] is True and changed.details["wording_version"] == 2

    def test_a_translation_change_is_a_new_version_too(self, admin_user):
        _update(_marketing(), admin_user, translations={"es": {"name": "Ofertas", "description": "Ofertas y avisos."}})
        latest = ConsentWording.objects.filter(purpose=_marketing()).order_by("-version").first()
        assert latest.version == 2 and latest.translations == {"es": "Ofertas y avisos."}

    def test_changing_the_default_applies_to_customers_who_never_decided(self, admin_user):
        undecided, decided = CustomerFactory(), CustomerFactory()
        consent_record(customer=decided, purpose="marketing", granted=False, source="customer")

        _update(_marketing(), admin_user, default_granted=True)

        assert consent.allows(undecided, "marketing")
        assert not consent.allows(decided, "marketing")
        changed = AuditEvent.objects.get(action=AuditEvent.Action.PURPOSE_CHANGED)
        assert changed.details["changes"] == {"default_granted": [False, True]}
        assert _marketing().wordings.count() == 1  # no new wording

    def test_an_inactive_purpose_allows_nothing(self, admin_user):
        customer = CustomerFactory()
        consent_record(customer=customer, purpose="marketing", granted=True, source="customer")
        _update(_marketing(), admin_user, active=False)
        assert not consent.allows(customer, "marketing")

    def test_saving_without_changes_records_nothing(self, admin_user):
        _update(_marketing(), admin_user)
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.PURPOSE_CHANGED).exists()


class TestPages:
    def test_an_admin_creates_a_purpose(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(
            reverse("privacy:purpose_create"),
            {
                "code": "newsletters",
                "name": "Newsletter",
                "description": "A monthly letter about new products.",
                "lawful_basis": "consent",
                "position": 5,
                "active": "on",
                "name_es": "Boletín",
                "description_es": "Una carta mensual.",
            },
        )
        purpose = ConsentPurpose.objects.get(code="newsletters")
        assert response.status_code == 302 and response["Location"].endswith(f"/purposes/{purpose.pk}/")
        assert purpose.translations == {"es": {"name": "Boletín", "description": "Una carta mensual."}}
        assert purpose.active and not purpose.default_granted

    def test_an_admin_rewords_a_purpose_and_sees_every_version(self, client, admin_user):
        client.force_login(admin_user)
        purpose = _marketing()
        url = reverse("privacy:purpose_edit", kwargs={"purpose_id": purpose.pk})
        data = {
            "name": purpose.name,
            "description": "Offers and reminders, at most weekly.",
            "lawful_basis": "consent",
            "position": 1,
            "active": "on",
            "default_granted": "on",
        }

        assert client.post(url, data).status_code == 302
        page = client.get(url).content.decode()

        assert "Version 2" in page and "Version 1" in page
        assert "Offers and reminders, at most weekly." in page
        assert "We may send you offers" in page
        assert _marketing().default_granted

    def test_a_bad_form_answers_400_with_the_errors(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(reverse("privacy:purpose_create"), {"code": "x y", "name": ""})
        assert response.status_code == 400
        assert not ConsentPurpose.objects.filter(name="").exists()

    def test_the_list_shows_every_purpose_with_its_version(self, client, admin_user):
        client.force_login(admin_user)
        page = client.get(reverse("privacy:purposes")).content.decode()
        for name in ("Personalised service", "Offers and reminders", "Browsing history", "Satisfaction surveys"):
            assert name in page

    @pytest.mark.parametrize("role", ["agent", "lead"])
    def test_agents_and_leads_cannot_change_purposes(self, request, client, role):
        client.force_login(request.getfixturevalue(role))
        url = reverse("privacy:purpose_edit", kwargs={"purpose_id": _marketing().pk})
        assert client.post(url, {"name": "Hacked", "description": "x", "lawful_basis": "consent"}).status_code == 403
        assert _marketing().name == "Offers and reminders"
