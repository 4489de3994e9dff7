"""A corpus of XSS payloads put where outsiders write — customer names, ticket subjects, the
text and HTML of an inbound mail, chat messages, a search — then opened in Chromium on every
page that shows them. Nothing may run, nothing may be injected as markup, and the browser may
report no Content-Security-Policy violation (the ``page`` fixture fails on console reports;
here the ``securitypolicyviolation`` events are collected as well)."""

import pytest
from playwright.sync_api import expect

from customers.models import Channel
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tickets import services
from tickets.channels.inbound_email import email_ingest
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each calls window.__xss(n) if it ever runs; none reaches beyond 127.0.0.1.
PAYLOADS = [
    "<script>window.__xss(1)</script>",
    '"><img src=x onerror="window.__xss(2)">',
    "'><svg onload=window.__xss(3)>",
    '<a href="javascript:window.__xss(4)">click</a>',
    "</textarea><script>window.__xss(5)</script>",
    '<iframe srcdoc="<script>parent.__xss(6)</script>"></iframe>',
    "{{ 7|add:1 }}{% now 'Y' %}<b>7</b>",
    '<div hx-get="/admin/" hx-trigger="load" hx-on::load="window.__xss(8)">8</div>',
    "javascript:window.__xss(9)//",
    '<style>@import "http://127.0.0.1:1/x.css";</style><img src="http://127.0.0.1:1/x.png">',
]
CORPUS = " ".join(PAYLOADS)

INIT = """
window.__hits = [];
window.__xss = (n) => window.__hits.push(n);
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""
# Markup a payload would have injected if it were rendered rather than shown as text.
INJECTED = (
    "script:not([src]), [onerror], [onload], [href^='javascript:' i], iframe[srcdoc], "
    "[hx-on\\:\\:load], img[src='x'], img[src^='http://127.0.0.1:1'], style"
)


def _inbound_mail(customer_email: str) -> bytes:
    boundary = "b0undary"
    return (
        f'From: "<b onmouseover=window.__xss(15)>Eve</b>" <{customer_email}>\r\n'
        "To: support@desk.example.com\r\n"
        f"Subject: {PAYLOADS[0]} refund\r\n"
        "Message-ID: <xss-corpus@mail.example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{CORPUS}\r\n"
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><body><p>Hello</p>{CORPUS}<form action='http://127.0.0.1:1/'><input name=x></form>"
        f"<a href='javascript:window.__xss(11)'>x</a><img src=x onerror=window.__xss(12)></body></html>\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def _check(page, what: str) -> None:
    # Let polling and htmx settle, then ask the page what happened.
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__hits") == [], f"script ran on {what}"
    assert page.evaluate("window.__violations") == [], f"CSP violation on {what}"
    injected = page.evaluate(f"Array.from(document.querySelectorAll({INJECTED!r})).map(e => e.outerHTML)")
    assert injected == [], f"markup injected on {what}: {injected}"


@pytest.fixture
def corpus(agent):
    customer = CustomerFactory(first_name=PAYLOADS[1], last_name=PAYLOADS[2], preferred_name=PAYLOADS[3])
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="xss.corpus@example.com")
    ticket = TicketFactory(customer=customer, subject=PAYLOADS[0] + PAYLOADS[4], channel=Channel.EMAIL)
    services.ticket_reply(ticket=ticket, author=agent, body=CORPUS, internal=True)
    result = email_ingest(raw=_inbound_mail("xss.corpus@example.com"))
    assert result.status == "stored", result
    mailed = Ticket.objects.get(pk=result.ticket_id)
    return customer, ticket, mailed


def test_payloads_in_names_subjects_mail_and_notes_never_run(page, context, login, corpus, admin_user, lead):
    customer, ticket, mailed = corpus
    context.add_init_script(INIT)
    login("admin", "pw-admin")

    pages = {
        "the inbox": "/?view=all",
        "the ticket": f"/tickets/{ticket.pk}/",
        "the mailed-in ticket": f"/tickets/{mailed.pk}/",
        "the customer": f"/customers/{customer.pk}/",
        "search by name": "/search/?q=" + "%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss(13)%3E",
        "search echoing a payload": "/search/?q=%22%3E%3Csvg%20onload%3Dwindow.__xss(14)%3E",
        "the privacy page of the customer": f"/privacy/customers/{customer.pk}/",
    }
    for what, url in pages.items():
        page.goto(url)
        _check(page, what)
    # the page shows the payloads as text, so the test looked at the right thing
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>window.__xss(1)</script>")


def test_payloads_in_a_chat_never_run_for_the_visitor_or_the_agent(page, context, login, agent, settings):
    settings.DESK_CHAT_POLL_SECONDS = 1
    context.add_init_script(INIT)

    # a visitor writes the corpus in the chat frame, and an agent answers with it
    page.goto("/chat/frame/")
    expect(page.get_by_role("status")).to_contain_text("Connected")
    page.get_by_label("Your message").fill(CORPUS)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat-line.visitor")).to_have_count(1)
    ticket = Ticket.objects.get(channel=Channel.CHAT)
    services.ticket_reply(ticket=ticket, author=agent, body="Agent says " + CORPUS, channel=Channel.CHAT)
    expect(page.locator(".chat-line.agent")).to_contain_text("Agent says", timeout=8_000)
    _check(page, "the chat frame")

    # and the agent opens that conversation
    agent_page = context.new_page()
    login("agent", "pw-agent", page=agent_page)
    agent_page.goto(f"/tickets/{ticket.pk}/")
    expect(agent_page.get_by_role("list", name="Messages, oldest first")).to_contain_text("window.__xss(1)")
    _check(agent_page, "the chat ticket")
