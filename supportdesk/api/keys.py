"""Writes for API keys: creating one (the raw key is returned once, only its hash is kept) and
revoking one."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from supportdesk.models import ApiKey

PREFIX_LENGTH = 10


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw: str  # shown once; the desk cannot show it again


@transaction.atomic
def api_key_create(
    *, name: str, scope: str = ApiKey.Scope.READ, created_by: AbstractBaseUser | None = None
) -> IssuedKey:
    """Issue a key for an integration. Only the SHA-256 and a short prefix are stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the integration the key is for."})
    if scope not in ApiKey.Scope.values:
        raise ValidationError({"scope": f"Scope must be one of {', '.join(ApiKey.Scope.values)}."})
    raw = ApiKey.generate()
    api_key = ApiKey.objects.create(
        name=name[:100],
        prefix=raw[:PREFIX_LENGTH],
        hashed=ApiKey.hash(raw),
        scope=scope,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    return IssuedKey(api_key=api_key, raw=raw)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key; every later request with it answers 401. Idempotent."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
