"""/api/v1/tickets/, /api/v1/tickets/{id}/messages/ and /api/v1/csat/."""

import pytest
from django.utils import timezone

from customers.models import Channel
from tests.api.conftest import error_of
from tests.factories import ContactPointFactory, CSATSurveyFactory, MessageFactory, TicketFactory, UserFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def _inbound(**extra) -> dict:
    body = {
        "channel": "email",
        "sender": "Ana@Example.com",
        "subject": "Where is my order?",
        "body": "Hello, order 1001 has not arrived.",
        "external_id": "<abc@mail.example.com>",
        "first_name": "Ana",
    }
    body.update(extra)
    return body


class TestInbound:
    def test_an_inbound_message_opens_a_ticket(self, api):
        response = api.post("/api/v1/tickets/", _inbound(), format="json")

        assert response.status_code == 201
        body = response.json()
        assert body["ticket"]["subject"] == "Where is my order?" and body["ticket"]["status"] == "new"
        assert body["message"]["direction"] == "inbound" and body["message"]["external_id"] == "<abc@mail.example.com>"

    def test_a_replay_answers_200_with_the_same_message(self, api):
        first = api.post("/api/v1/tickets/", _inbound(), format="json").json()

        again = api.post("/api/v1/tickets/", _inbound(), format="json")

        assert again.status_code == 200
        assert again.json()["message"]["id"] == first["message"]["id"]
        assert Message.objects.count() == 1

    def test_a_second_message_continues_the_ticket(self, api):
        first = api.post("/api/v1/tickets/", _inbound(channel="chat", sender="visitor-9"), format="json").json()

        second = api.post(
            "/api/v1/tickets/",
            _inbound(channel="chat", sender="visitor-9", external_id="m2", body="Still there?"),
            format="json",
        ).json()

        assert second["ticket"]["id"] == first["ticket"]["id"]

    def test_html_is_sanitised_and_gives_the_text_body(self, api):
        html = '<p onclick="x()">Hi <b>there</b></p><script>alert(1)</script><img src="http://t.example/p.gif">'

        body = api.post("/api/v1/tickets/", _inbound(body="", body_html=html), format="json").json()

        assert body["message"]["body"] == "Hi there"
        assert "script" not in body["message"]["body_html"] and "onclick" not in body["message"]["body_html"]
        assert "<b>there</b>" in body["message"]["body_html"]

    @pytest.mark.parametrize(
        ("patch", "field"),
        [
            ({"channel": "pigeon"}, "channel"),
            ({"body": "", "body_html": ""}, "body"),
            ({"sender": ""}, "sender"),
            ({"sender": "not an email"}, "sender"),
            ({"ticket": 999999}, "ticket"),
        ],
    )
    def test_bad_input_names_the_field(self, api, patch, field):
        response = api.post("/api/v1/tickets/", _inbound(**patch), format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"] or field in error_of(response)["message"]


class TestTicketList:
    def test_list_and_read(self, api):
        ticket = TicketFactory(status="open", priority="high")

        listed = api.get("/api/v1/tickets/", {"priority": "high", "unsolved": "true"}).json()["results"]
        detail = api.get(f"/api/v1/tickets/{ticket.pk}/").json()

        assert [t["id"] for t in listed] == [ticket.pk]
        assert detail["customer"] == str(ticket.customer.public_id)

    def test_unassigned_and_assignee_filters(self, api, agent):
        mine = TicketFactory(assignee=agent)
        free = TicketFactory()

        assert [t["id"] for t in api.get("/api/v1/tickets/", {"assignee": "agent"}).json()["results"]] == [mine.pk]
        assert [t["id"] for t in api.get("/api/v1/tickets/", {"unassigned": "yes"}).json()["results"]] == [free.pk]


class TestMessages:
    def test_list_a_tickets_messages_oldest_first(self, api):
        ticket = TicketFactory()
        first = MessageFactory(ticket=ticket, created_at=timezone.now() - timezone.timedelta(hours=1))
        second = MessageFactory(ticket=ticket)

        results = api.get(f"/api/v1/tickets/{ticket.pk}/messages/").json()["results"]

        assert [m["id"] for m in results] == [first.pk, second.pk]

    def test_a_key_replies_on_behalf_of_a_named_agent(self, api, agent, mailoutbox, django_capture_on_commit_callbacks):
        ticket = TicketFactory()
        ContactPointFactory(customer=ticket.customer, value="ana@example.com")

        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "It ships today.", "author": "agent"}, format="json"
            )

        assert response.status_code == 201
        assert response.json()["author"] == "agent" and response.json()["direction"] == "outbound"
        assert mailoutbox[0].to == ["ana@example.com"]
        assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None

    def test_an_internal_note_is_not_sent(self, api, agent, mailoutbox):
        ticket = TicketFactory()

        response = api.post(
            f"/api/v1/tickets/{ticket.pk}/messages/",
            {"body": "Customer is VIP", "internal": True, "author": "agent"},
            format="json",
        )

        assert response.status_code == 201 and response.json()["direction"] == "note"
        assert mailoutbox == []

    def test_an_agent_session_replies_as_itself(self, agent_client):
        ticket = TicketFactory(channel=Channel.CHAT)
        ContactPointFactory(customer=ticket.customer, channel=Channel.CHAT, value="visitor-1")

        response = agent_client.post(
            f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "Hi!"}, content_type="application/json"
        )

        assert response.status_code == 201 and response.json()["author"] == "agent"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"body": "Hi"}, "author"),
            ({"body": "Hi", "author": "ghost"}, "author"),
            ({"body": "", "author": "agent"}, "body"),
            ({"body": "Hi", "author": "agent", "channel": "phone"}, "channel"),
        ],
    )
    def test_bad_replies_name_the_field(self, api, agent, body, field):
        ticket = TicketFactory()
        ContactPointFactory(customer=ticket.customer)

        response = api.post(f"/api/v1/tickets/{ticket.pk}/messages/", body, format="json")

        assert response.status_code == 400
        assert field in error_of(response)["fields"]

    def test_a_user_without_reply_permission_cannot_be_named(self, api):
        UserFactory(username="viewer")
        ticket = TicketFactory()

        response = api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "Hi", "author": "viewer"}, format="json")

        assert response.status_code == 400

    def test_unknown_ticket_is_404(self, api):
        assert api.get("/api/v1/tickets/999999/messages/").status_code == 404


class TestCsat:
    def test_answers_are_listed_with_their_agent(self, api, agent):
        answered = CSATSurveyFactory(agent=agent, rating=5, comment="Great", answered_at=timezone.now())
        CSATSurveyFactory()  # sent, not answered

        results = api.get("/api/v1/csat/", {"rating": "5"}).json()["results"]

        assert [(r["id"], r["agent"], r["comment"]) for r in results] == [(answered.pk, "agent", "Great")]

    def test_a_bad_rating_filter_is_a_400(self, api):
        response = api.get("/api/v1/csat/", {"rating": "9"})

        assert response.status_code == 400
        assert "rating" in error_of(response)["fields"]
