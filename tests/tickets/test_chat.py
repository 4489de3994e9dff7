"""Live chat: the frame, visitor tokens, messages into tickets, agents' replies by polling,
joining a customer by email, rate limits."""

import pytest
from django.core.cache import cache

from customers.models import Channel, ContactPoint, Customer
from tests.factories import ContactPointFactory, CustomerFactory, OrderFactory
from tickets import services
from tickets.chat.services import visitor_from_token, visitor_token
from tickets.models import ChatSession, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _start(client, token: str = "") -> dict:
    headers = {"X-Desk-Visitor": token} if token else {}
    response = client.post(
        "/chat/api/session/",
        {"page_url": "https://shop.example/boots"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def _say(client, token: str, body: str):
    return client.post(
        "/chat/api/messages/", {"body": body}, content_type="application/json", headers={"X-Desk-Visitor": token}
    )


def _poll(client, token: str, after: int = 0) -> list[dict]:
    response = client.get("/chat/api/messages/", {"after": after}, headers={"X-Desk-Visitor": token})
    assert response.status_code == 200
    return response.json()["messages"]


class TestFrame:
    def test_the_frame_may_be_embedded_only_by_configured_stores(self, client, settings):
        settings.DESK_CHAT_FRAME_ANCESTORS = ["https://shop.example"]

        response = client.get("/chat/frame/")

        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://shop.example" in csp
        assert "script-src 'self'" in csp
        assert "X-Frame-Options" not in response
        html = response.content.decode()
        assert "<script>" not in html and "style=" not in html and "desk/chat-frame.js" in html

    def test_other_pages_still_refuse_framing(self, client):
        response = client.get("/accounts/login/")

        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"

    def test_the_widget_script_is_a_static_file(self):
        from django.contrib.staticfiles import finders

        assert finders.find("desk/chat-widget.js") and finders.find("desk/chat-frame.js")


class TestConversation:
    def test_a_visitor_gets_a_signed_token_and_a_cookie(self, client):
        started = _start(client)

        session = ChatSession.objects.get()
        assert started["visitor"] == client.cookies["desk_chat_visitor"].value
        assert started["identified"] is False and started["messages"] == []
        assert session.page_url == "https://shop.example/boots"

    def test_the_token_resumes_the_same_session(self, client):
        token = _start(client)["visitor"]

        assert _start(client, token)["visitor"] == token
        assert ChatSession.objects.count() == 1

    def test_a_forged_token_starts_a_new_session(self, client):
        _start(client)
        client.cookies.clear()

        _start(client, "v_someone_else")

        assert ChatSession.objects.count() == 2

    def test_messages_open_one_chat_ticket_and_continue_it(self, client):
        token = _start(client)["visitor"]

        first = _say(client, token, "Do you have size 39?")
        second = _say(client, token, "In brown?")

        assert first.status_code == second.status_code == 201
        ticket = Ticket.objects.get()
        assert ticket.channel == Channel.CHAT and ticket.messages.count() == 2
        assert ChatSession.objects.get().ticket == ticket

    def test_an_agent_reply_on_chat_appears_when_the_widget_polls(self, client, agent):
        token = _start(client)["visitor"]
        _say(client, token, "Hello?")
        seen = _poll(client, token)
        ticket = Ticket.objects.get()

        services.ticket_reply(ticket=ticket, author=agent, body="Hi! Yes, we have it.", channel=Channel.CHAT)
        services.ticket_reply(ticket=ticket, author=agent, body="VIP customer", internal=True)

        new = _poll(client, token, after=seen[-1]["id"])
        assert [(line["from"], line["author"], line["body"]) for line in new] == [
            ("agent", "Agent", "Hi! Yes, we have it.")
        ]

    def test_the_transcript_comes_back_when_the_frame_reloads(self, client):
        token = _start(client)["visitor"]
        _say(client, token, "First")

        assert [line["body"] for line in _start(client, token)["messages"]] == ["First"]

    def test_messages_need_the_visitor_token(self, client):
        response = client.post("/chat/api/messages/", {"body": "Hi"}, content_type="application/json")

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "visitor_required"

    @pytest.mark.parametrize("body", [{"body": ""}, {"body": "x" * 5001}, {"nope": 1}])
    def test_bad_messages_are_400(self, client, body):
        token = _start(client)["visitor"]

        response = client.post(
            "/chat/api/messages/", body, content_type="application/json", headers={"X-Desk-Visitor": token}
        )

        assert response.status_code == 400
        assert not Message.objects.exists()

    def test_a_solved_chat_is_not_reopened_by_a_new_chat(self, client, agent):
        token = _start(client)["visitor"]
        _say(client, token, "Question one")
        first = Ticket.objects.get()
        services.ticket_update(ticket=first, actor=agent, status=Ticket.Status.SOLVED)

        _say(client, token, "A new question")

        assert Ticket.objects.count() == 2
        assert Ticket.objects.get(pk=first.pk).status == Ticket.Status.SOLVED


class TestIdentify:
    def test_giving_an_email_joins_a_known_customer_and_moves_the_chat(self, client):
        maria = CustomerFactory(first_name="Maria")
        ContactPointFactory(customer=maria, value="maria@example.com")
        OrderFactory(customer=maria)
        token = _start(client)["visitor"]
        _say(client, token, "Where is my order?")
        placeholder = Ticket.objects.get().customer

        response = client.post(
            "/chat/api/identify/",
            {"email": "Maria@Example.com", "name": "Maria"},
            content_type="application/json",
            headers={"X-Desk-Visitor": token},
        )

        assert response.status_code == 200
        assert Ticket.objects.get().customer == maria
        assert ContactPoint.objects.get(channel=Channel.CHAT).customer == maria
        assert Customer.objects.get(pk=placeholder.pk).merged_into == maria
        assert _start(client, token)["identified"] is True
        _say(client, token, "Thanks")
        assert Ticket.objects.count() == 1 and Ticket.objects.get().customer == maria

    def test_a_new_email_creates_the_customer_with_a_name(self, client):
        token = _start(client)["visitor"]

        client.post(
            "/chat/api/identify/",
            {"email": "new@example.com", "name": "Nora Jones"},
            content_type="application/json",
            headers={"X-Desk-Visitor": token},
        )
        _say(client, token, "Hi")

        customer = Ticket.objects.get().customer
        assert (customer.first_name, customer.last_name) == ("Nora", "Jones")
        assert customer.contact_points.filter(channel=Channel.EMAIL, value="new@example.com").exists()

    def test_a_bad_email_is_a_400_on_email(self, client):
        token = _start(client)["visitor"]

        response = client.post(
            "/chat/api/identify/", {"email": "nope"}, content_type="application/json", headers={"X-Desk-Visitor": token}
        )

        assert response.status_code == 400 and "email" in response.json()["error"]["fields"]


class TestRateLimits:
    def test_a_visitor_sending_too_fast_gets_429(self, client, settings):
        settings.DESK_CHAT_RATE_LIMIT = "3/60"
        token = _start(client)["visitor"]

        codes = [_say(client, token, f"spam {i}").status_code for i in range(5)]

        assert codes == [201, 201, 201, 429, 429]
        limited = _say(client, token, "again")
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited["Retry-After"]) > 0
        assert Message.objects.count() == 3

    def test_session_starts_are_limited_per_address(self, client, settings):
        settings.DESK_CHAT_RATE_LIMIT = "1/60"

        codes = [client.post("/chat/api/session/", {}, content_type="application/json").status_code for _ in range(4)]

        assert codes == [200, 200, 200, 429]


def test_visitor_tokens_are_signed():
    token = visitor_token("v_abc")

    assert visitor_from_token(token) == "v_abc"
    assert visitor_from_token(token[:-2] + "xx") is None
