"""Configuration: production refuses to start without secrets and passes the deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "k7#Q9v!pX2m@L4z$W8r^T1n&Y6b*H3c(J5d)F0g-S9e+A2q=U4w"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    clean.update(DJANGO_SETTINGS_MODULE="supportdesk.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("secret", ["", "short", "django-insecure-" + "x" * 60, "a" * 60])
def test_production_refuses_a_missing_or_weak_secret(secret):
    result = _manage("check", SECRET_KEY=secret, ALLOWED_HOSTS="desk.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_check_deploy_with_no_warnings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=STRONG_SECRET, ALLOWED_HOSTS="d.example"
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_script(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "agent", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "agent", "password": "pw-agent"})

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


@pytest.mark.django_db
def test_a_good_login_lands_in_the_inbox(client, agent):
    response = client.post(reverse("login"), {"username": "agent", "password": "pw-agent"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tickets:inbox")


def test_passwords_are_hashed_with_argon2_in_every_real_environment():
    from supportdesk.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_health_answers_without_login(client):
    assert client.get(reverse("health")).json() == {"status": "ok"}
