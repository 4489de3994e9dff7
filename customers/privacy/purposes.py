"""Admins manage consent purposes: what the desk may use personal data for, the words the
customer reads, the lawful basis and the default.

Changing the wording (or a translation of it) creates a new ``ConsentWording`` version; old
versions are kept, so every ledger record still points at the text its customer saw. A purpose's
code never changes once created: macros, suggestion rules and integrations refer to it.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import AuditEvent, ConsentPurpose
from ..services import audit_record, consent_wording_current

EDITABLE_FIELDS = ("name", "description", "lawful_basis", "default_granted", "active", "position", "translations")


def translation_languages() -> list[tuple[str, str]]:
    """The languages besides the default that a purpose may be translated into."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _clean_translations(translations: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    allowed = dict(translation_languages())
    cleaned: dict[str, dict[str, str]] = {}
    for language, entry in (translations or {}).items():
        if language not in allowed:
            raise ValidationError({"translations": f"Unknown language {language!r}."})
        name = (entry.get("name") or "").strip()
        description = (entry.get("description") or "").strip()
        if name or description:
            cleaned[language] = {"name": name, "description": description}
    return cleaned


def _values(
    *,
    name: str,
    description: str,
    lawful_basis: str,
    default_granted: bool,
    active: bool,
    position: int,
    translations: dict[str, dict[str, str]] | None,
) -> dict[str, Any]:
    values = {
        "name": name.strip(),
        "description": description.strip(),
        "lawful_basis": lawful_basis,
        "default_granted": bool(default_granted),
        "active": bool(active),
        "position": int(position),
        "translations": _clean_translations(translations),
    }
    if not values["name"]:
        raise ValidationError({"name": "Give the purpose a name."})
    if not values["description"]:
        raise ValidationError({"description": "Write the wording the customer will read."})
    if lawful_basis not in ConsentPurpose.LawfulBasis.values:
        raise ValidationError({"lawful_basis": f"Unknown lawful basis {lawful_basis!r}."})
    return values


@transaction.atomic
def consent_purpose_create(
    *,
    code: str,
    name: str,
    description: str,
    lawful_basis: str = ConsentPurpose.LawfulBasis.CONSENT,
    default_granted: bool = False,
    active: bool = True,
    position: int = 0,
    translations: dict[str, dict[str, str]] | None = None,
    actor: AbstractBaseUser,
) -> ConsentPurpose:
    """Create a purpose with its first wording version, and audit it."""
    values = _values(
        name=name,
        description=description,
        lawful_basis=lawful_basis,
        default_granted=default_granted,
        active=active,
        position=position,
        translations=translations,
    )
    code = (code or "").strip().lower()
    if ConsentPurpose.objects.filter(code=code).exists():
        raise ValidationError({"code": f"A purpose with code {code!r} exists already."})
    purpose = ConsentPurpose(code=code, **values)
    purpose.full_clean()
    purpose.save()
    wording = consent_wording_current(purpose=purpose, actor=actor)
    audit_record(
        action=AuditEvent.Action.PURPOSE_CREATED,
        actor=actor,
        details={"purpose": code, "wording_version": wording.version, "default_granted": purpose.default_granted},
    )
    return purpose


@transaction.atomic
def consent_purpose_update(
    *,
    purpose: ConsentPurpose,
    name: str,
    description: str,
    lawful_basis: str,
    default_granted: bool,
    active: bool,
    position: int = 0,
    translations: dict[str, dict[str, str]] | None = None,
    actor: AbstractBaseUser,
) -> ConsentPurpose:
    """Change a purpose. New wording → a new version; every change is audited (old → new).

    A changed default applies at once to every customer who never decided on the purpose; a
    deactivated purpose allows nothing until it is active again.
    """
    values = _values(
        name=name,
        description=description,
        lawful_basis=lawful_basis,
        default_granted=default_granted,
        active=active,
        position=position,
        translations=translations,
    )
    purpose = ConsentPurpose.objects.select_for_update().get(pk=purpose.pk)
    changes = {
        field: [getattr(purpose, field), value] for field, value in values.items() if getattr(purpose, field) != value
    }
    if not changes:
        return purpose
    for field, (_, value) in changes.items():
        setattr(purpose, field, value)
    purpose.full_clean()
    purpose.save(update_fields=list(changes))
    wording = consent_wording_current(purpose=purpose, actor=actor)
    audit_record(
        action=AuditEvent.Action.PURPOSE_CHANGED,
        actor=actor,
        details={
            "purpose": purpose.code,
            "wording_version": wording.version,
            # The wording itself lives in the versions; the audit says only that it changed.
            "changes": {
                field: change for field, change in changes.items() if field not in ("description", "translations")
            },
            "wording_changed": "description" in changes or "translations" in changes,
        },
    )
    return purpose
