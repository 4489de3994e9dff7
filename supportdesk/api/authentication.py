"""``Authorization: Bearer <key>`` for integrations.

A key authenticates as an :class:`ApiKeyUser`, not as a desk user: it holds no model
permissions, only its scope (read or write), which ``DeskApiPermission`` checks. Services that
record an actor receive ``None`` and the key's label instead (see ``request_actor``).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from supportdesk.models import ApiKey

# Writing last_used_at on every request would make each read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(eq=False)
class ApiKeyUser:
    """The principal behind an API key request. Truthy ``is_authenticated``; no desk permissions."""

    api_key: ApiKey
    is_authenticated: bool = field(default=True, init=False)
    is_anonymous: bool = field(default=False, init=False)
    is_active: bool = field(default=True, init=False)
    is_staff: bool = field(default=False, init=False)
    is_superuser: bool = field(default=False, init=False)
    pk: None = field(default=None, init=False)

    @property
    def label(self) -> str:
        return f"api key {self.api_key.name} ({self.api_key.prefix})"

    def get_username(self) -> str:
        return self.label

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perms, obj: object = None) -> bool:
        return False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The key is not valid.") from None
        api_key = ApiKey.objects.filter(hashed=ApiKey.hash(raw)).first()
        if api_key is None or not api_key.active:
            raise exceptions.AuthenticationFailed("The key is not valid or has been revoked.")
        now = timezone.now()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "supportdesk.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key from `manage.py create_api_key`."}


def request_actor(request: Request) -> tuple[AbstractBaseUser | None, str]:
    """(desk user or None, label) to attribute a write to: the signed-in user, or the API key."""
    user = request.user
    if isinstance(user, ApiKeyUser):
        return None, user.label
    if user is not None and user.is_authenticated:
        return user, user.get_username()
    return None, "anonymous"
