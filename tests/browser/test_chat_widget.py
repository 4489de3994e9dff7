"""The chat widget as a store's visitor meets it: one script tag on a page of another origin,
the chat in the desk's frame, an agent's reply arriving by polling, joining by email."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from customers.models import Channel, ContactPoint
from tests.factories import ContactPointFactory, CustomerFactory
from tickets import services
from tickets.models import ChatSession, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def store(live_server, settings):
    """A store's page on another origin, embedding the widget with the one documented tag."""
    page_html = (
        "<!DOCTYPE html><html lang='en'><head><title>Boots shop</title></head><body>"
        "<h1>Walking boots</h1>"
        f"<script src='{live_server.url}/static/desk/chat-widget.js' async></script>"
        "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_port}"
    settings.DESK_CHAT_FRAME_ANCESTORS = [origin]
    settings.DESK_CHAT_POLL_SECONDS = 1
    yield f"{origin}/products/boots"
    server.shutdown()
    server.server_close()


def _open_chat(page, store):
    page.goto(store)
    page.get_by_role("button", name="Chat with us").click()
    frame = page.frame_locator("#desk-chat-frame")
    expect(frame.get_by_role("status")).to_contain_text("Connected")
    return frame


def test_a_visitor_chats_and_sees_the_agents_reply(page, store, agent):
    frame = _open_chat(page, store)

    frame.get_by_label("Your message").fill("Do you have these boots in size 39?")
    frame.get_by_role("button", name="Send").click()

    expect(frame.locator(".chat-line.visitor")).to_have_text("YouDo you have these boots in size 39?")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.CHAT
    assert ChatSession.objects.get().page_url == store

    services.ticket_reply(ticket=ticket, author=agent, body="Yes, we have size 39 in stock.", channel=Channel.CHAT)

    expect(frame.locator(".chat-line.agent")).to_contain_text("Yes, we have size 39 in stock.", timeout=8_000)
    expect(frame.locator(".chat-line.agent .who")).to_have_text("Agent")


def test_the_visitor_is_known_again_after_a_reload_and_joins_by_email(page, store):
    maria = CustomerFactory(first_name="Maria")
    ContactPointFactory(customer=maria, value="maria@example.com")
    frame = _open_chat(page, store)
    frame.get_by_label("Your message").fill("Hello")
    frame.get_by_role("button", name="Send").click()
    expect(frame.locator(".chat-line.visitor")).to_have_count(1)

    page.reload()
    frame = _open_chat(page, store)
    expect(frame.locator(".chat-line.visitor")).to_have_count(1)

    frame.get_by_label("Name").fill("Maria")
    frame.get_by_label("Email").fill("maria@example.com")
    frame.get_by_role("button", name="Save").click()

    expect(frame.get_by_role("status")).to_contain_text("Thanks")
    assert Ticket.objects.get().customer == maria
    assert ContactPoint.objects.get(channel=Channel.CHAT).customer == maria
    assert ChatSession.objects.count() == 1
