"""Sessions: a new session key on login (no fixation); the old session dead after logout, a
password change elsewhere, or the account being deactivated."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "pw-agent"
NEW_PASSWORD = "a-much-better-pass-2026"


def _signed_in(client: Client) -> bool:
    response = client.get(reverse("tickets:inbox"))
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _login(client: Client, password: str = PASSWORD) -> str:
    response = client.post(reverse("login"), {"username": "agent", "password": password})
    assert response.status_code == 302, response.content.decode()[:300]
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _with_cookie(key: str) -> Client:
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    return other


def test_login_issues_a_new_session_key_and_drops_the_planted_one(client, agent):
    # given an attacker planted a session cookie in the victim's browser
    planted = client.session
    planted["planted"] = True
    planted.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    # when the victim signs in
    key = _login(client)

    # then the signed-in session has a new key and the planted one is gone
    assert key != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert not _signed_in(_with_cookie(planted.session_key))
    assert _signed_in(client)


def test_after_logout_the_old_session_key_is_dead(client, agent):
    key = _login(client)

    client.post(reverse("logout"))

    assert not Session.objects.filter(session_key=key).exists()
    assert not _signed_in(_with_cookie(key))


def test_a_password_change_ends_every_other_session(client, agent):
    # given the agent is signed in on two machines
    stolen = _login(Client())
    key = _login(client)

    # when they change their password on one
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]

    # then the other session is dead, this one carries on under a new key
    assert not _signed_in(_with_cookie(stolen))
    assert _signed_in(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != key
    assert not _signed_in(_with_cookie(key))


def test_deactivating_an_account_ends_its_sessions(client, agent):
    key = _login(client)

    agent.is_active = False
    agent.save(update_fields=["is_active"])

    assert not _signed_in(_with_cookie(key))
    assert not _signed_in(client)
