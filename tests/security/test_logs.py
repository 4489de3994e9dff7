"""Secrets and personal data never reach the logs. One test runs a full day's flow (sign-in, a
failed sign-in, the API, a signed inbound mail, a reply delivered by mail, a chat, a consent
change, a survey answer, a lockout) and then reads every log record it produced, at the level
the desk logs in production (INFO), for any secret or personal value that went in."""

import json
import logging

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from supportdesk.api.keys import api_key_create
from supportdesk.webhook_signatures import signature_headers
from tests.factories import CSATSurveyFactory
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

WEBHOOK_SECRET = "whsec-7Hq2pLx9Zr4Vt8Kn"
CUSTOMER = {
    "first_name": "Philippa",
    "last_name": "Quennell-Ashdown",
    "email": "philippa.quennell@example.net",
    "phone": "+34 611 987 654",
}


def _inbound_mail() -> bytes:
    return (
        f"From: {CUSTOMER['first_name']} {CUSTOMER['last_name']} <{CUSTOMER['email']}>\r\n"
        "To: support@desk.example.com\r\n"
        "Subject: My card ending 4242 was charged twice\r\n"
        "Message-ID: <log-flow-1@mail.example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Please refund. My address is 12 Calle Mayor, Madrid. Call me on +34 611 987 654.\r\n"
    ).encode()


def test_a_full_flow_writes_no_secret_and_no_personal_data_to_the_logs(caplog, settings, agent):
    settings.DESK_WEBHOOK_SECRETS = {"orders": "o-secret-x1", "email": WEBHOOK_SECRET, "chat": "c-secret-x2"}
    settings.AXES_FAILURE_LIMIT = 3
    caplog.set_level(logging.INFO)
    key = api_key_create(name="store", scope="write").raw

    # a failed sign-in, then a good one
    browser = Client()
    browser.post(reverse("login"), {"username": "agent", "password": "not-my-pw-Zx81"})
    assert browser.post(reverse("login"), {"username": "agent", "password": "pw-agent"}).status_code == 302
    session_key = browser.cookies[django_settings.SESSION_COOKIE_NAME].value

    # the store creates the customer through the API, and records a consent decision
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    created = api.post("/api/v1/customers/", CUSTOMER, format="json")
    assert created.status_code == 201, created.content
    public_id = created.json()["id"]
    consent = api.post(
        f"/api/v1/customers/{public_id}/consents/",
        {"purpose": "marketing", "granted": True, "note": "ticked the box"},
        format="json",
    )
    assert consent.status_code in (200, 201), consent.content
    assert api.get("/api/v1/customers/", {"email": CUSTOMER["email"]}).status_code == 200

    # the customer mails in (signed webhook); an agent replies, delivered by mail
    body = _inbound_mail()
    headers = signature_headers(secret=WEBHOOK_SECRET, body=body, delivery_id="log-flow-1")
    inbound = Client().post("/webhooks/email/", data=body, content_type="message/rfc822", headers=headers)
    assert inbound.status_code == 200, inbound.content
    signature = headers["X-Desk-Signature"]
    ticket = Ticket.objects.get(pk=inbound.json()["ticket"])
    reply = browser.post(
        reverse("tickets:reply", args=[ticket.pk]), {"body": "Refunded, Philippa.", "channel": "email"}
    )
    assert reply.status_code == 302
    assert [m.to for m in mail.outbox] == [[CUSTOMER["email"]]]

    # the customer chats and gives their email
    visitor = Client()
    started = visitor.post("/chat/api/session/", {}, content_type="application/json").json()
    token = started["visitor"]
    chat_headers = {"X-Desk-Visitor": token}
    visitor.post(
        "/chat/api/identify/", {"email": CUSTOMER["email"]}, content_type="application/json", headers=chat_headers
    )
    visitor.post(
        "/chat/api/messages/",
        {"body": f"It's {CUSTOMER['first_name']} again"},
        content_type="application/json",
        headers=chat_headers,
    )

    # the ticket is solved and the customer answers the survey
    services.ticket_update(ticket=ticket, actor=agent, status=Ticket.Status.SOLVED)
    survey = CSATSurveyFactory(ticket=ticket, agent=agent, sent_at=timezone.now())
    answered = Client().post(reverse("csat_survey", args=[survey.token]), {"rating": "5", "comment": "Thanks!"})
    assert answered.status_code in (200, 302), answered.status_code

    # someone guesses the agent's password until the account locks
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        Client().post(reverse("login"), {"username": "agent", "password": f"guess-{attempt}-Qw9"})

    # then no log record holds a secret or a personal value
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''} {json.dumps(record.args, default=str)}"
        for record in caplog.records
    )
    assert caplog.records, "the flow logged nothing at all: the check would prove nothing"
    secrets = {
        "agent password": "pw-agent",
        "a guessed password": "not-my-pw-Zx81",
        "a guessed password (lockout)": "guess-0-Qw9",
        "API key": key,
        "webhook secret": WEBHOOK_SECRET,
        "webhook signature": signature.split("=", 1)[1],
        "session key": session_key,
        "chat visitor token": token,
        "survey link token": survey.token,
        "SECRET_KEY": django_settings.SECRET_KEY,
    }
    personal = {
        "last name": CUSTOMER["last_name"],
        "email": CUSTOMER["email"],
        "email local part": CUSTOMER["email"].split("@")[0],
        "phone": "611987654",
        "phone as typed": CUSTOMER["phone"],
        "street address": "Calle Mayor",
        "mail subject": "charged twice",
        "message body": "Refunded, Philippa",
    }
    leaks = {what: value for what, value in {**secrets, **personal}.items() if value and value in logged}
    assert not leaks, f"found in the logs: {sorted(leaks)}\n{logged[:3000]}"
