"""/webhooks/email/ and /webhooks/chat/: the same ingest as the command and the widget."""

import base64
import json
from pathlib import Path

import pytest

from customers.models import ContactPoint
from supportdesk.models import WebhookDelivery
from supportdesk.webhook_signatures import signature_headers
from tickets.models import ChatSession, Message, QuarantinedEmail, Ticket

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).parent / "emails"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.DESK_WEBHOOK_SECRETS = {"orders": "o", "email": "email-secret", "chat": "chat-secret"}


def _post(client, url, body: bytes, content_type: str, secret: str, delivery: str = ""):
    headers = signature_headers(secret=secret, body=body, delivery_id=delivery)
    return client.post(url, data=body, content_type=content_type, headers=headers)


def _email(client, body: bytes, content_type="message/rfc822", delivery=""):
    return _post(client, "/webhooks/email/", body, content_type, "email-secret", delivery)


def _chat(client, payload: dict, delivery=""):
    return _post(client, "/webhooks/chat/", json.dumps(payload).encode(), "application/json", "chat-secret", delivery)


class TestEmailWebhook:
    def test_a_raw_message_opens_a_ticket(self, client):
        response = _email(client, (EMAILS / "shift_jis.eml").read_bytes())

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "stored"
        assert Ticket.objects.get(pk=body["ticket"]).subject == "注文の配送について"

    def test_a_json_envelope_with_raw_is_the_same_path(self, client):
        raw = (EMAILS / "plain_utf8.eml").read_text(encoding="utf-8")

        response = _email(client, json.dumps({"raw": raw}).encode(), "application/json")

        assert response.json()["message_id"] == "<CAF7x1+plain-utf8@mail.example.org>"

    def test_raw_base64_keeps_8bit_charsets(self, client):
        raw = (EMAILS / "latin1_quoted_printable.eml").read_bytes()

        response = _email(
            client, json.dumps({"raw_base64": base64.b64encode(raw).decode()}).encode(), "application/json"
        )

        assert "Größe" in Message.objects.get(pk=response.json()["message"]).body

    def test_a_parsed_envelope_threads_and_keeps_attachments(self, client):
        first = _email(client, (EMAILS / "multipart_alternative.eml").read_bytes()).json()
        envelope = {
            "from": "Maria Lopez <maria@example.com>",
            "to": "support@desk.example.com",
            "subject": "Re: Wrong size delivered",
            "text": "Here is the photo.\n\nOn Mon, Desk wrote:\n> old",
            "html": "<p>Here is the photo.</p><script>x()</script>",
            "message_id": "<parsed-1@example.com>",
            "in_reply_to": "<alt-0001@example.com>",
            "attachments": [
                {
                    "filename": "photo.png",
                    "content_type": "image/png",
                    "content_base64": base64.b64encode(b"PNG").decode(),
                }
            ],
        }

        response = _email(client, json.dumps(envelope).encode(), "application/json")

        result = response.json()
        message = Message.objects.get(pk=result["message"])
        assert result["ticket"] == first["ticket"]
        assert message.body_display == "Here is the photo." and "script" not in message.body_html
        assert message.attachments.get().filename == "photo.png"

    def test_spam_headers_in_a_parsed_envelope_quarantine_it(self, client):
        envelope = {"from": "x@spam.example", "text": "Win", "headers": {"X-Spam-Flag": "YES"}, "message_id": "<s@x>"}

        assert _email(client, json.dumps(envelope).encode(), "application/json").json()["status"] == "quarantined"
        assert QuarantinedEmail.objects.get().reason == "spam"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"text": "no sender"}, "from"),
            ({"from": "a@example.com", "attachments": [{"content_base64": "%%%"}]}, "attachments[0].content_base64"),
            ({"raw_base64": "not base64!"}, "raw_base64"),
        ],
    )
    def test_malformed_envelopes_are_400_naming_the_field(self, client, body, field):
        response = _email(client, json.dumps(body).encode(), "application/json")

        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Message.objects.exists() and not WebhookDelivery.objects.exists()

    def test_an_unsupported_content_type_is_a_400(self, client):
        assert _email(client, b"<p>hi</p>", "text/html").status_code == 400

    def test_replays_change_nothing(self, client):
        raw = (EMAILS / "plain_utf8.eml").read_bytes()
        first = _email(client, raw, delivery="m-1")

        again = _email(client, raw, delivery="m-1")

        assert again.json() == first.json() and again["X-Desk-Replay"] == "true"
        assert Message.objects.count() == 1

    def test_a_bad_signature_is_401(self, client):
        body = (EMAILS / "plain_utf8.eml").read_bytes()
        headers = signature_headers(secret="chat-secret", body=body)

        response = client.post("/webhooks/email/", data=body, content_type="message/rfc822", headers=headers)

        assert response.status_code == 401 and not Message.objects.exists()

    def test_too_large_is_refused(self, client, settings):
        settings.DESK_EMAIL_MAX_BYTES = 100

        response = _email(client, (EMAILS / "attachments.eml").read_bytes())

        assert response.status_code == 400
        assert "limit is 100" in response.json()["error"]["message"]
        assert not Message.objects.exists()


class TestChatWebhook:
    def test_a_chat_message_opens_a_chat_ticket_for_the_visitor(self, client):
        response = _chat(client, {"visitor_id": "prov-42", "message_id": "c1", "text": "Do you ship to Canada?"})

        assert response.status_code == 200
        ticket = Ticket.objects.get(pk=response.json()["ticket"])
        assert ticket.channel == "chat"
        assert ChatSession.objects.get(visitor_id="prov-42").ticket == ticket

    def test_an_email_joins_the_visitor_to_the_customer(self, client):
        _chat(client, {"visitor_id": "prov-42", "message_id": "c1", "text": "Hi"})

        second = _chat(
            client,
            {
                "visitor_id": "prov-42",
                "message_id": "c2",
                "text": "I'm Ana",
                "email": "ana@example.com",
                "name": "Ana B",
            },
        ).json()

        owner = ContactPoint.objects.get(channel="email", value="ana@example.com").customer
        assert str(owner.public_id) == second["customer"]
        assert ContactPoint.objects.get(channel="chat", value="prov-42").customer == owner
        assert Ticket.objects.get(pk=second["ticket"]).customer == owner

    def test_the_same_provider_message_twice_is_stored_once(self, client):
        payload = {"visitor_id": "prov-42", "message_id": "c1", "text": "Hi"}
        _chat(client, payload, delivery="x1")
        _chat(client, payload, delivery="x2")

        assert Message.objects.count() == 1

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"message_id": "c1", "text": "Hi"}, "visitor_id"),
            ({"visitor_id": "v", "text": "Hi"}, "message_id"),
            ({"visitor_id": "v", "message_id": "c1", "text": " "}, "text"),
            ({"visitor_id": "v", "message_id": "c1", "text": "Hi", "email": "nope"}, "email"),
            ({"visitor_id": "v", "message_id": "c1", "text": "Hi", "sent_at": "soon"}, "sent_at"),
        ],
    )
    def test_malformed_chat_messages_are_400_naming_the_field(self, client, payload, field):
        response = _chat(client, payload)

        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Message.objects.exists()


# ---------------------------------------------------------------------------------------------
# Outbound webhooks


import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, HTTPServer  # noqa: E402

from supportdesk.models import WebhookSubscription  # noqa: E402
from supportdesk.webhook_signatures import signature_compute  # noqa: E402
from tests.factories import CSATSurveyFactory, TicketFactory  # noqa: E402
from tickets import services as ticket_services  # noqa: E402
from tickets.tasks import webhook_deliver  # noqa: E402
from tickets.webhooks_out import WebhookSendError, webhook_event_publish, webhook_send  # noqa: E402


@pytest.fixture
def receiver():
    """A local endpoint that records what it receives; answers with ``receiver.status``."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        status = 204

        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append({"headers": dict(self.headers), "body": self.rfile.read(length)})
            self.send_response(Handler.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.handler = Handler
    server.url = f"http://127.0.0.1:{server.server_port}/hooks?x=1"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscription(receiver, settings):
    settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = True
    return WebhookSubscription.objects.create(
        url=receiver.url, events=["ticket.created", "ticket.solved", "csat.answered"], secret="sub-secret"
    )


class TestOutbound:
    def test_a_new_ticket_is_posted_signed_after_commit(
        self, subscription, receiver, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            ticket = ticket_services.message_receive(channel="email", sender="ana@example.com", body="Help")

        assert len(callbacks) == 1
        delivery = receiver.received[0]
        payload = json.loads(delivery["body"])
        assert payload["event"] == "ticket.created" and payload["data"]["id"] == ticket.ticket_id
        assert delivery["headers"]["X-Desk-Event"] == "ticket.created"
        assert delivery["headers"]["X-Desk-Delivery"]
        stamp = delivery["headers"]["X-Desk-Timestamp"]
        expected = signature_compute(secret="sub-secret", timestamp=stamp, body=delivery["body"])
        assert delivery["headers"]["X-Desk-Signature"] == expected

    def test_solving_a_ticket_posts_ticket_solved(
        self, subscription, receiver, agent, django_capture_on_commit_callbacks
    ):
        ticket = TicketFactory()

        with django_capture_on_commit_callbacks(execute=True):
            ticket_services.ticket_update(ticket=ticket, actor=agent, status="solved")

        payload = json.loads(receiver.received[-1]["body"])
        assert payload["event"] == "ticket.solved" and payload["data"]["status"] == "solved"

    def test_answering_a_csat_survey_posts_csat_answered(
        self, subscription, receiver, django_capture_on_commit_callbacks
    ):
        from django.utils import timezone

        from tickets.csat import csat_survey_answer

        survey = CSATSurveyFactory(sent_at=timezone.now())
        subscription.events = ["csat.answered"]
        subscription.save()

        with django_capture_on_commit_callbacks(execute=True):
            csat_survey_answer(survey=survey, rating=2, comment="Slow")

        assert len(receiver.received) == 1
        delivery = receiver.received[0]
        payload = json.loads(delivery["body"])
        assert delivery["headers"]["X-Desk-Event"] == "csat.answered"
        assert payload["event"] == "csat.answered"
        assert payload["data"]["id"] == survey.pk
        assert (payload["data"]["rating"], payload["data"]["comment"]) == (2, "Slow")
        assert payload["data"]["customer"] == str(survey.ticket.customer.public_id)

    def test_a_refused_csat_answer_posts_nothing(self, subscription, receiver, django_capture_on_commit_callbacks):
        from django.core.exceptions import ValidationError

        from tickets.csat import csat_survey_answer

        survey = CSATSurveyFactory(sent_at=None)  # never sent: closed to answers

        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            csat_survey_answer(survey=survey, rating=5)

        assert receiver.received == []

    def test_a_csat_answer_can_be_published(self, subscription, receiver, django_capture_on_commit_callbacks):
        survey = CSATSurveyFactory(rating=2, comment="Slow", answered_at="2026-11-01T10:00:00Z")

        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_event_publish(event="csat.answered", survey=survey) == 1

        assert json.loads(receiver.received[-1]["body"])["data"]["rating"] == 2

    def test_only_subscribed_events_are_sent(self, subscription, receiver, django_capture_on_commit_callbacks):
        subscription.events = ["ticket.solved"]
        subscription.save()

        with django_capture_on_commit_callbacks(execute=True):
            TicketFactory()
            ticket_services.message_receive(channel="email", sender="b@example.com", body="Hi")

        assert receiver.received == []

    def test_nothing_is_sent_when_the_transaction_rolls_back(self, subscription, receiver):
        from django.db import transaction

        with pytest.raises(RuntimeError), transaction.atomic():
            ticket_services.message_receive(channel="email", sender="c@example.com", body="Hi")
            raise RuntimeError

        assert receiver.received == []

    def test_a_failing_endpoint_raises_for_a_retry(self, subscription, receiver):
        receiver.handler.status = 503

        with pytest.raises(WebhookSendError) as error:
            webhook_send(subscription_id=subscription.pk, event="ticket.created", payload={}, delivery_id="d")

        assert not error.value.permanent

    def test_the_task_retries_transient_failures_when_run_by_a_worker(self, subscription, receiver, monkeypatch):
        from celery.exceptions import Retry

        receiver.handler.status = 500
        monkeypatch.setattr(webhook_deliver, "retry", lambda **kwargs: Retry("again"))

        webhook_deliver.push_request(retries=0, is_eager=False)
        try:
            with pytest.raises(Retry):
                webhook_deliver.run(subscription.pk, "ticket.created", {}, "d-1")
        finally:
            webhook_deliver.pop_request()

    @pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://169.254.169.254/latest"])
    def test_internal_addresses_are_refused_unless_allowed(self, settings, url):
        settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = False
        subscription = WebhookSubscription.objects.create(url=url, events=["ticket.created"], secret="s")

        with pytest.raises(WebhookSendError) as error:
            webhook_send(subscription_id=subscription.pk, event="ticket.created", payload={}, delivery_id="d")

        assert error.value.permanent and "internal address" in str(error.value)
        assert webhook_deliver.apply(args=[subscription.pk, "ticket.created", {}, "d"]).get().startswith("failed")
