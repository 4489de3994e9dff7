"""Every public endpoint is rate limited per client address and says when to come back:
429 with ``Retry-After`` on the login form, the chat widget, the CSAT survey page, the
preference centre and the webhooks. Over the limit, the view does not run at all."""

import json

import pytest
from django.urls import reverse

from supportdesk.models import WebhookDelivery
from tickets.models import ChatSession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_rate_window")]


def _retry_after(response) -> int:
    assert response.status_code == 429, response.status_code
    return int(response["Retry-After"])


def test_login_attempts_per_address(client, agent, settings):
    settings.DESK_LOGIN_RATE_LIMIT = "3/60"
    settings.AXES_FAILURE_LIMIT = 100  # the address limit, not the per-account lockout

    codes = [client.post(reverse("login"), {"username": f"guess{i}", "password": "x"}).status_code for i in range(3)]
    limited = client.post(reverse("login"), {"username": "agent", "password": "pw-agent"})

    assert codes == [200, 200, 200]  # the form again, with its error
    assert 0 < _retry_after(limited) <= 60
    assert "Too many requests" in limited.content.decode()
    assert "_auth_user_id" not in client.session  # the right password did not get in either


def test_an_account_lockout_says_when_to_come_back(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "agent", "password": "wrong"})

    locked = client.post(reverse("login"), {"username": "agent", "password": "pw-agent"})

    assert _retry_after(locked) == int(settings.AXES_COOLOFF_TIME * 3600)


def test_chat_widget_session_starts(client, settings):
    settings.DESK_CHAT_RATE_LIMIT = "1/60"  # session starts get three times the message rate

    codes = [client.post("/chat/api/session/", {}, content_type="application/json").status_code for _ in range(3)]
    limited = client.post("/chat/api/session/", {}, content_type="application/json")

    assert codes == [200, 200, 200]
    assert 0 < _retry_after(limited) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    assert ChatSession.objects.count() <= 3


def test_survey_page(client, settings):
    settings.DESK_SURVEY_RATE_LIMIT = "2/60"
    url = reverse("csat_survey", args=["not-a-real-token"])

    codes = [client.get(url).status_code for _ in range(2)]
    limited = client.get(url)

    assert 429 not in codes
    assert 0 < _retry_after(limited) <= 60


def test_preference_centre(client, settings):
    settings.DESK_PREFERENCE_RATE_LIMIT = "2/60"
    url = reverse("preference_centre", args=["not-a-real-token"])

    codes = [client.get(url).status_code for _ in range(2)]
    limited = client.get(url)

    assert 429 not in codes
    assert 0 < _retry_after(limited) <= 60


@pytest.mark.parametrize("source", ["orders", "email", "chat"])
def test_webhooks_per_source(client, settings, source):
    settings.DESK_WEBHOOK_RATE_LIMIT = "2/60"
    settings.DESK_WEBHOOK_SECRETS = {"orders": "o-secret", "email": "e-secret", "chat": "c-secret"}
    url = f"/webhooks/{source}/"
    body = json.dumps({"flood": True}).encode()

    codes = [client.post(url, data=body, content_type="application/json").status_code for _ in range(2)]
    limited = client.post(url, data=body, content_type="application/json")

    assert codes == [401, 401]  # unsigned
    assert 0 < _retry_after(limited) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    assert not WebhookDelivery.objects.exists()


def test_the_limits_shipped_for_production_are_set(settings):
    from supportdesk.settings import base

    for name in ("DESK_LOGIN_RATE_LIMIT", "DESK_SURVEY_RATE_LIMIT", "DESK_WEBHOOK_RATE_LIMIT"):
        limit, window = getattr(base, name).split("/")
        assert int(limit) > 0 and 0 < int(window) <= 3600, name
    assert "supportdesk.rate_limits.PublicRateLimitMiddleware" in settings.MIDDLEWARE
