"""The customer's preference centre: a public page behind a signed link where the customer sees
every active purpose in plain words, in their language, and grants or withdraws each one.

The link carries the customer's public id signed with ``PREFERENCE_SALT`` and expires after
``DESK_PREFERENCE_LINK_MAX_AGE_DAYS``; a merged customer's link leads to the survivor, an
erased customer's link leads nowhere. Agents copy the link into a reply on any channel or have
the desk email it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .. import consent
from ..models import AuditEvent, Channel, ConsentPurpose, ConsentRecord, ConsentWording, ContactPoint, Customer
from ..services import audit_record, consent_record, consent_wording_current, consent_wording_translations

PREFERENCE_SALT = "customers.privacy.preference-centre"


@dataclass(frozen=True)
class PreferenceChoice:
    code: str
    name: str
    text: str
    wording_id: int
    granted: bool
    is_default: bool


def preference_token(*, customer: Customer) -> str:
    return signing.dumps({"c": str(customer.public_id)}, salt=PREFERENCE_SALT)


def preference_url(*, customer: Customer) -> str:
    """The absolute link to the customer's preference centre."""
    path = reverse("preference_centre", kwargs={"token": preference_token(customer=customer)})
    return settings.DESK_SITE_URL.rstrip("/") + path


def preference_customer(*, token: str) -> Customer | None:
    """The customer a link belongs to; None for a forged, expired or erased one."""
    try:
        data = signing.loads(
            token, salt=PREFERENCE_SALT, max_age=settings.DESK_PREFERENCE_LINK_MAX_AGE_DAYS * 24 * 3600
        )
    except signing.BadSignature:
        return None
    public_id = data.get("c") if isinstance(data, dict) else None
    customer = Customer.objects.filter(public_id=public_id).first() if public_id else None
    seen = set()
    while customer is not None and customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    if customer is None or customer.erased:
        return None
    return customer


def _current_wordings(purposes: list[ConsentPurpose]) -> dict[int, ConsentWording]:
    latest: dict[int, ConsentWording] = {}
    for wording in ConsentWording.objects.filter(purpose__in=purposes).order_by("purpose_id", "-version"):
        latest.setdefault(wording.purpose_id, wording)
    for purpose in purposes:
        wording = latest.get(purpose.pk)
        stale = wording is None or (wording.text, wording.translations) != (
            purpose.description,
            consent_wording_translations(purpose=purpose),
        )
        if stale:
            latest[purpose.pk] = consent_wording_current(purpose=purpose)
    return latest


def preference_choices(*, customer: Customer) -> list[PreferenceChoice]:
    """Each active purpose as the customer sees it: name and wording in their language where a
    translation exists, and whether it stands granted."""
    states = consent.consent_states(customer)
    purposes = [state.purpose for state in states.values()]
    wordings = _current_wordings(purposes)
    language = customer.locale
    choices = []
    for code, state in states.items():
        purpose, wording = state.purpose, wordings[state.purpose.pk]
        translated = (purpose.translations or {}).get(language) or {}
        choices.append(
            PreferenceChoice(
                code=code,
                name=translated.get("name") or purpose.name,
                text=(wording.translations or {}).get(language) or wording.text,
                wording_id=wording.pk,
                granted=state.granted,
                is_default=state.is_default,
            )
        )
    return choices


@transaction.atomic
def preference_decide(
    *, customer: Customer, purpose: str, granted: bool, wording_id: int | None
) -> ConsentRecord | None:
    """Record the customer's own decision from the preference centre, on the wording they saw.

    Pressing the same button twice records one decision: nothing is written when the ledger
    already holds that explicit decision. Returns the new record, or None.
    """
    state = consent.consent_states(customer).get(purpose)
    if state is None:
        raise ValidationError({"purpose": "This choice is no longer offered."})
    if not state.is_default and state.granted == bool(granted):
        return None
    wording = ConsentWording.objects.filter(pk=wording_id, purpose=state.purpose).first() if wording_id else None
    return consent_record(
        customer=customer,
        purpose=purpose,
        granted=bool(granted),
        source=ConsentRecord.Source.CUSTOMER,
        actor_label="customer (preference centre)",
        evidence=f"preference centre ({customer.locale})",
        wording=wording,
    )


@transaction.atomic
def preference_link_send(*, customer: Customer, actor: AbstractBaseUser) -> str:
    """Email the preference-centre link to the customer's primary address, in their language.

    Returns the address it goes to; raises ``ValidationError`` if the customer has none. The
    mail leaves after the transaction commits; the sending is audited.
    """
    if customer.erased:
        raise ValidationError({"customer": "This customer was erased."})
    address = (
        ContactPoint.objects.filter(customer=customer, channel=Channel.EMAIL)
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
    )
    if not address:
        raise ValidationError({"customer": "The customer has no email address; copy the link into a reply instead."})
    url = preference_url(customer=customer)
    with translation.override(customer.locale):
        subject = _("Your privacy choices")
        greeting = _("Hello %(name)s,") % {"name": customer.address_name} if customer.address_name else _("Hello,")
        body = "\n\n".join(
            [
                greeting,
                _("You can see and change what you allow us to do with your data at any time here:"),
                url,
                _("Withdrawing a choice is as easy as giving it."),
            ]
        )
    transaction.on_commit(lambda: send_mail(subject, body, None, [address]))
    audit_record(
        action=AuditEvent.Action.PREFERENCE_LINK_SENT, customer=customer, actor=actor, details={"channel": "email"}
    )
    return address
