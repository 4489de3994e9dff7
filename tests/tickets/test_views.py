import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.consent import BEHAVIORAL_TRACKING
from customers.models import AuditEvent, Channel, ConsentPurpose, ConsentRecord, Event
from customers.services import customer_figures_refresh
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    EventFactory,
    MacroFactory,
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    RefundFactory,
    TeamFactory,
    TicketFactory,
)
from tickets.models import Attachment, Message, Tag, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# Query budgets: they hold whatever the size of the history.
INBOX_BUDGET = 12
TICKET_PAGE_BUDGET = 15
CUSTOMER_PAGE_BUDGET = 15


def _customer_with_history(tickets: int, messages: int):
    """A customer with ``tickets`` conversations, ``messages`` messages (some notes, some with
    attachments), orders with lines and refunds, CSAT answers and browsing events."""
    customer = CustomerFactory(first_name="Maria")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=f"maria{tickets}{messages}@example.com")
    for _ in range(3):
        order = OrderFactory(customer=customer)
        OrderLineFactory(order=order)
        RefundFactory(order=order)
    ticket = TicketFactory(customer=customer)
    MessageFactory.create_batch(messages, ticket=ticket)
    MessageFactory(ticket=ticket, direction=Message.Direction.NOTE, body="Internal")
    attached = MessageFactory(ticket=ticket)
    Attachment.objects.create(message=attached, filename="photo.jpg", file=ContentFile(b"x", name="photo.jpg"))
    ticket.tags.add(Tag.objects.create(name=f"vip-{tickets}"))
    for other in TicketFactory.create_batch(tickets - 1, customer=customer):
        CSATSurveyFactory(ticket=other, rating=5, answered_at=timezone.now())
    # Browsing events show only with tracking consent: grant it, so the timeline reads them too.
    ConsentRecord.objects.create(
        customer=customer,
        purpose=ConsentPurpose.objects.get(code=BEHAVIORAL_TRACKING),
        granted=True,
        source=ConsentRecord.Source.CUSTOMER,
    )
    EventFactory.create_batch(messages, customer=customer)
    return customer, ticket


@pytest.mark.parametrize("size", [30, 200])
def test_inbox_lists_open_tickets_within_budget(agent_client, django_assert_max_num_queries, size):
    team = TeamFactory()
    for ticket in TicketFactory.create_batch(size, team=team):
        ticket.tags.add(Tag.objects.get_or_create(name=f"tag{ticket.pk % 5}")[0])

    with django_assert_max_num_queries(INBOX_BUDGET):
        response = agent_client.get(reverse("tickets:inbox"), {"sla": "ok", "sort": "priority"})

    assert response.status_code == 200
    assert len(response.context["page"]) == 25


def test_inbox_pages_keep_the_filters(agent_client):
    # given 30 open email tickets and one chat ticket
    TicketFactory.create_batch(30, channel=Channel.EMAIL)
    TicketFactory(channel=Channel.CHAT, subject="On chat")

    # when the agent filters on email and goes to the second page
    first = agent_client.get(reverse("tickets:inbox"), {"channel": "email"})
    second = agent_client.get(reverse("tickets:inbox"), {"channel": "email", "page": 2})

    # then the pages split the 30 as 25 and 5, and the next-page link keeps the filter
    assert (len(first.context["page"]), len(second.context["page"])) == (25, 5)
    next_link = re.search(r'href="(\?page=2[^"]*)" rel="next"', first.content.decode()).group(1)
    assert "channel=email" in next_link
    assert "On chat" not in second.content.decode()


def test_inbox_views_filter_mine_and_unassigned(agent_client, agent):
    mine = TicketFactory(assignee=agent, subject="Assigned to me")
    TicketFactory(subject="Nobody's yet")

    mine_page = agent_client.get(reverse("tickets:inbox"), {"view": "mine"}).content.decode()
    unassigned_page = agent_client.get(reverse("tickets:inbox"), {"view": "unassigned"}).content.decode()

    assert mine.subject in mine_page and "Nobody&#x27;s yet" not in mine_page
    assert "Nobody&#x27;s yet" in unassigned_page and mine.subject not in unassigned_page


@pytest.mark.parametrize("history", [1, 200])
def test_ticket_page_query_budget_does_not_grow_with_history(agent_client, django_assert_max_num_queries, history):
    _, ticket = _customer_with_history(tickets=history, messages=history)

    with django_assert_max_num_queries(TICKET_PAGE_BUDGET):
        response = agent_client.get(reverse("tickets:detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert "Maria" in response.content.decode()


@pytest.mark.parametrize("history", [1, 200])
def test_customer_page_query_budget_does_not_grow_with_history(agent_client, django_assert_max_num_queries, history):
    customer, _ = _customer_with_history(tickets=history, messages=history)

    with django_assert_max_num_queries(CUSTOMER_PAGE_BUDGET):
        response = agent_client.get(reverse("customers:detail", args=[customer.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "tl-event" in html  # with tracking consent, the timeline reads browsing events too


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_workspace_pages_take_the_same_queries_with_1_and_200_history_items(agent_client):
    # given a customer with one item of each kind of history, and one with 200
    small_customer, small_ticket = _customer_with_history(tickets=1, messages=1)
    big_customer, big_ticket = _customer_with_history(tickets=200, messages=200)

    # when both ticket pages and both customer views are opened
    ticket_pages = [
        _queries_for(agent_client, reverse("tickets:detail", args=[t.pk])) for t in (small_ticket, big_ticket)
    ]
    customer_pages = [
        _queries_for(agent_client, reverse("customers:detail", args=[c.pk])) for c in (small_customer, big_customer)
    ]

    # then the counts are flat, not merely under the budget
    assert ticket_pages[0] == ticket_pages[1] <= TICKET_PAGE_BUDGET
    assert customer_pages[0] == customer_pages[1] <= CUSTOMER_PAGE_BUDGET


def test_opening_a_profile_is_audited(agent_client, agent):
    customer = CustomerFactory()

    agent_client.get(reverse("customers:detail", args=[customer.pk]))

    audit = AuditEvent.objects.get(action=AuditEvent.Action.PROFILE_VIEWED)
    assert (audit.customer, audit.actor) == (customer, agent)


def test_customer_text_is_escaped(agent_client):
    customer = CustomerFactory(first_name="<script>alert(1)</script>")
    ticket = TicketFactory(customer=customer, subject="<img src=x onerror=alert(2)>")
    MessageFactory(ticket=ticket, body="<script>alert(3)</script>")

    html = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html


def test_replying_from_the_ticket_page(agent_client, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="c@example.com")
    ticket = TicketFactory(customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "On its way!", "channel": "email"}
        )

    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket)
    assert (message.body, message.delivery) == ("On its way!", Message.Delivery.SENT)


def test_a_reply_on_the_phone_is_recorded_as_made_not_sent(agent_client, django_capture_on_commit_callbacks):
    # given a customer reached by phone
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.PHONE, value="+34612345678")
    ticket = TicketFactory(customer=customer, channel=Channel.PHONE)

    # when the agent records the call they made
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]),
            {"body": "Called back: a new one is on its way.", "channel": "phone"},
        )
    html = agent_client.get(response["Location"]).content.decode()

    # then the page says it was made outside the desk and logged, not delivered by it
    assert "Recorded as made on Phone." in html
    assert (
        '<span class="delivery delivery-sent" title="Made outside the desk and logged here">Logged as made</span>'
        in html
    )
    assert Message.objects.get(ticket=ticket).delivery == Message.Delivery.SENT
    history = agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert '<span class="badge">Logged as made</span>' in history


def test_an_empty_reply_re_renders_with_the_error_and_keeps_nothing(agent_client):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="c@example.com")
    ticket = TicketFactory(customer=customer)

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "", "channel": "email"})

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Message.objects.exists()


def test_a_reply_on_an_unreachable_channel_is_refused_with_a_message(agent_client):
    ticket = TicketFactory()
    ContactPointFactory(customer=ticket.customer, channel=Channel.EMAIL, value="c@example.com")

    response = agent_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Hi", "channel": "phone"})

    assert response.status_code == 400
    assert "phone is not one of the available choices" in response.content.decode()


def test_updating_status_and_assignee(agent_client, agent):
    ticket = TicketFactory()

    agent_client.post(
        reverse("tickets:update", args=[ticket.pk]),
        {"status": "solved", "priority": "high", "assignee": agent.pk},
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.solved_by) == ("solved", "high", agent, agent)


# Inbox ------------------------------------------------------------------------------------------


def test_inbox_filters_come_from_the_query_string_and_unknown_values_are_ignored(agent_client):
    chat = TicketFactory(channel=Channel.CHAT, subject="Chat about boots")
    TicketFactory(channel=Channel.EMAIL, subject="Email about tents")

    html = agent_client.get(reverse("tickets:inbox"), {"channel": "chat", "sort": "'; drop"}).content.decode()

    assert chat.subject in html and "Email about tents" not in html


def test_inbox_views_show_their_counts_and_teams(agent_client, agent):
    team = TeamFactory(name="Billing")
    TicketFactory(assignee=agent)
    TicketFactory(team=team, subject="For billing")

    html = agent_client.get(reverse("tickets:inbox"), {"view": "team", "team": team.pk}).content.decode()

    assert "For billing" in html
    assert 'Billing <span class="count">1</span>' in html
    assert 'Mine <span class="count">1</span>' in html


def test_inbox_polling_answers_204_until_something_changes(agent_client):
    TicketFactory()
    htmx = {"HX-Request": "true", "HX-Target": "inbox-live"}
    first = agent_client.get(reverse("tickets:inbox"), headers=htmx)
    since = first.context["fingerprint"]

    unchanged = agent_client.get(reverse("tickets:inbox"), {"since": since}, headers=htmx)
    TicketFactory(subject="A brand new ticket")
    changed = agent_client.get(reverse("tickets:inbox"), {"since": since}, headers=htmx)

    assert first.status_code == 200 and "<html" not in first.content.decode()
    assert unchanged.status_code == 204
    assert changed.status_code == 200 and "A brand new ticket" in changed.content.decode()


# Ticket page ------------------------------------------------------------------------------------


def test_the_ticket_page_greets_the_customer_and_shows_the_profile(agent_client):
    customer = CustomerFactory(first_name="Maria", locale="es", timezone="Europe/Madrid")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    OrderFactory(customer=customer, number="1042", promised_delivery=timezone.localdate() - timedelta(days=2))
    customer_figures_refresh(customer=customer)
    ticket = TicketFactory(customer=customer)

    html = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Maria" in html and ("Buenos días" in html or "Buenas tardes" in html or "Buenas noches" in html)
    assert "qué gusto saludarle de nuevo" in html  # she has ordered before
    assert "Order #1042" in html and ">Late<" in html
    assert 'id="suggestions"' in html


def test_opening_a_ticket_audits_the_profile_view_once_and_polling_does_not(agent_client, agent):
    ticket = TicketFactory()

    agent_client.get(reverse("tickets:detail", args=[ticket.pk]))
    agent_client.get(reverse("tickets:thread", args=[ticket.pk]))
    agent_client.get(reverse("tickets:history", args=[ticket.pk]))

    audits = AuditEvent.objects.filter(action=AuditEvent.Action.PROFILE_VIEWED)
    assert [(a.customer_id, a.actor) for a in audits] == [(ticket.customer_id, agent)]


def test_the_thread_poll_answers_204_until_a_message_arrives(agent_client):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket)
    page = agent_client.get(reverse("tickets:detail", args=[ticket.pk]))
    since = page.context["thread_fingerprint"]
    url = reverse("tickets:thread", args=[ticket.pk])

    unchanged = agent_client.get(url, {"since": since})
    MessageFactory(ticket=ticket, body="Any news about my order?")
    changed = agent_client.get(url, {"since": since})

    assert unchanged.status_code == 204
    assert changed.status_code == 200 and "Any news about my order?" in changed.content.decode()


def test_the_thread_marks_channels_and_sets_notes_apart(agent_client):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, channel=Channel.PHONE, body="Called in")
    MessageFactory(ticket=ticket, direction=Message.Direction.NOTE, body="Customer is upset")

    html = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert 'class="message message-note"' in html
    assert "Internal note · the customer never sees this" in html
    assert '<span class="channel channel-phone">Phone</span>' in html


def test_the_composer_defaults_to_the_channel_the_customer_last_wrote_on(agent_client):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="a@example.com")
    ContactPointFactory(customer=customer, channel=Channel.CHAT, value="visitor-9")
    ticket = TicketFactory(customer=customer, channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, channel=Channel.EMAIL)
    MessageFactory(ticket=ticket, channel=Channel.CHAT)

    form = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).context["reply_form"]

    assert form["channel"].value() == Channel.CHAT
    # The web form is answered by email, so it is reachable too; phone and social are not.
    assert [value for value, _ in form.fields["channel"].choices] == [Channel.EMAIL, Channel.WEB, Channel.CHAT]


def test_without_javascript_the_macro_preview_says_the_text_is_in_the_box(agent_client):
    # given a customer reachable by email and a macro
    customer = CustomerFactory(first_name="Maria")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="m@example.com")
    ticket = TicketFactory(customer=customer)
    macro = MacroFactory(name="Hello", body="Hi {{ customer.first_name }}")

    # when the agent previews it with the form's own button (no JavaScript)
    html = agent_client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"action": "preview", "macro_pick": macro.pk, "body": "", "channel": "email"},
    ).content.decode()
    # and when the JavaScript composer asks for the preview partial
    partial = agent_client.get(reverse("tickets:macro_preview", args=[ticket.pk]), {"macro_pick": macro.pk})

    # then the page does not offer a button that needs JavaScript; the partial does
    assert "The text is in the message box below" in html and "data-macro-insert" not in html
    assert "data-macro-insert" in partial.content.decode()


def test_an_internal_note_is_stored_and_never_delivered(agent_client, django_capture_on_commit_callbacks):
    ticket = TicketFactory()

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("tickets:reply", args=[ticket.pk]), {"body": "Check stock", "channel": "email", "internal": "on"}
        )

    note = Message.objects.get()
    assert (note.direction, note.delivery) == (Message.Direction.NOTE, "")


def test_a_failed_delivery_offers_a_retry(agent_client):
    ticket = TicketFactory()
    MessageFactory(
        ticket=ticket, direction=Message.Direction.OUTBOUND, delivery=Message.Delivery.FAILED, delivery_error="SMTP 451"
    )

    html = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Retry delivery" in html and "SMTP 451" in html


def test_the_retry_button_delivers_a_failed_reply_again(agent_client, django_capture_on_commit_callbacks):
    # given a reply whose delivery failed
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="c@example.com")
    ticket = TicketFactory(customer=customer)
    failed = MessageFactory(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Message.Direction.OUTBOUND,
        delivery=Message.Delivery.FAILED,
        delivery_error="SMTP 451",
    )

    # when the agent presses Retry delivery
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("tickets:message_retry", args=[failed.pk]), follow=True)

    # then it is delivered, the error is gone and the page says so
    failed.refresh_from_db()
    assert (failed.delivery, failed.delivery_error) == (Message.Delivery.SENT, "")
    assert "Delivery retried." in response.content.decode()


def test_retrying_a_message_that_did_not_fail_is_refused_with_the_reason(agent_client):
    ticket = TicketFactory()
    sent = MessageFactory(ticket=ticket, direction=Message.Direction.OUTBOUND, delivery=Message.Delivery.SENT)

    response = agent_client.post(reverse("tickets:message_retry", args=[sent.pk]), follow=True)

    assert "Only a failed message can be retried." in response.content.decode()
    sent.refresh_from_db()
    assert sent.delivery == Message.Delivery.SENT


# Editing in place ---------------------------------------------------------------------------------


def test_a_field_editor_loads_in_place_and_saving_returns_the_fields(agent_client, agent):
    team = TeamFactory(name="Billing")
    ticket = TicketFactory()
    htmx = {"HX-Request": "true", "HX-Target": "field-team"}

    editor = agent_client.get(reverse("tickets:edit", args=[ticket.pk]), {"field": "team"}, headers=htmx)
    saved = agent_client.post(reverse("tickets:update", args=[ticket.pk]), {"team": team.pk}, headers=htmx)

    assert 'id="field-team"' in editor.content.decode() and "<html" not in editor.content.decode()
    assert saved.status_code == 200 and 'id="ticket-fields"' in saved.content.decode()
    ticket.refresh_from_db()
    assert ticket.team == team and ticket.status == Ticket.Status.NEW  # only the posted field changed
    assert TicketEvent.objects.get(ticket=ticket).kind == "team"


def test_tags_are_set_from_a_comma_separated_list(agent_client):
    ticket = TicketFactory()

    agent_client.post(reverse("tickets:update", args=[ticket.pk]), {"tags": "VIP, late delivery, vip"})

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["late-delivery", "vip"]


def test_without_javascript_the_edit_page_offers_every_field(agent_client):
    ticket = TicketFactory()

    html = agent_client.get(reverse("tickets:edit", args=[ticket.pk])).content.decode()

    for name in ("status", "priority", "assignee", "team", "tags"):
        assert f'id="id_{name}"' in html


def test_the_assignee_is_chosen_by_name_not_login(agent_client, agent):
    agent.first_name, agent.last_name = "Alex", "Morgan"
    agent.save()
    ticket = TicketFactory()

    html = agent_client.get(
        reverse("tickets:edit", args=[ticket.pk]), {"field": "assignee"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert f'<option value="{agent.pk}">Alex Morgan</option>' in html


def test_an_invalid_value_is_reported_and_changes_nothing(agent_client):
    ticket = TicketFactory()

    response = agent_client.post(
        reverse("tickets:update", args=[ticket.pk]), {"status": "bogus"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400 and "bogus" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_solving_writes_events_and_starts_the_sla_pause(agent_client):
    ticket = TicketFactory()

    agent_client.post(reverse("tickets:update", args=[ticket.pk]), {"status": "pending"})

    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None
    assert TicketEvent.objects.get(ticket=ticket).data == {"from": "new", "to": "pending"}


# Presence ---------------------------------------------------------------------------------------


def test_presence_shows_who_else_is_viewing_or_replying(client, agent, lead):
    cache.clear()
    ticket = TicketFactory()
    client.force_login(lead)
    client.post(reverse("tickets:presence", args=[ticket.pk]), {"state": "replying"})
    client.force_login(agent)

    html = client.post(reverse("tickets:presence", args=[ticket.pk]), {"state": "viewing"}).content.decode()

    assert "Lead is writing a reply" in html


# Customer page ----------------------------------------------------------------------------------


def test_the_customer_page_shows_greeting_orders_timeline_and_slot(agent_client):
    customer, ticket = _customer_with_history(tickets=2, messages=3)

    html = agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "Good" in html and "Maria" in html and "welcome back" in html
    assert 'id="suggestions"' in html
    assert f"#{ticket.pk}" in html and "Internal" in html
    assert "Refund of 10.00" in html


def test_browsing_events_are_hidden_without_tracking_consent(agent_client):
    customer = CustomerFactory()
    Event.objects.create(customer=customer, kind=Event.Kind.PAGE_VIEW, payload={"url": "/secret-page"})

    html = agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "/secret-page" not in html
    assert "customer has not agreed to behavioural tracking" in html


def test_filtering_the_timeline_in_place_is_not_a_new_profile_view(agent_client):
    customer, _ = _customer_with_history(tickets=1, messages=2)
    url = reverse("customers:detail", args=[customer.pk])
    agent_client.get(url)

    partial = agent_client.get(url, {"kind": "order"}, headers={"HX-Request": "true", "HX-Target": "timeline"})

    assert AuditEvent.objects.filter(action=AuditEvent.Action.PROFILE_VIEWED).count() == 1
    assert "<html" not in partial.content.decode() and "Order #" in partial.content.decode()


@pytest.mark.parametrize("history", [1, 200])
def test_the_ticket_history_panel_is_bounded(agent_client, django_assert_max_num_queries, history):
    _, ticket = _customer_with_history(tickets=history, messages=history)

    with django_assert_max_num_queries(10):
        response = agent_client.get(reverse("tickets:history", args=[ticket.pk]))

    assert response.status_code == 200


def test_customer_written_text_is_escaped_everywhere(agent_client):
    customer = CustomerFactory(first_name="<script>alert(1)</script>", preferred_name='"><img src=x onerror=alert(2)>')
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="x@example.com")
    OrderFactory(customer=customer, number="<b>1</b>", tracking_number="T1", tracking_url="javascript:alert(3)")
    ticket = TicketFactory(customer=customer, subject="<img src=x onerror=alert(4)>")
    MessageFactory(ticket=ticket, body="<script>alert(5)</script> onerror=alert(6)")

    pages = [
        agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode(),
        agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode(),
        agent_client.get(reverse("tickets:history", args=[ticket.pk])).content.decode(),
        agent_client.get(reverse("tickets:inbox")).content.decode(),
    ]

    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>1</b>" not in html
        assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(5)&lt;/script&gt; onerror=alert(6)" in pages[0]


def test_users_without_the_agent_role_cannot_open_the_workspace(client, nobody):
    client.force_login(nobody)
    ticket = TicketFactory()

    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 403
    assert client.get(reverse("customers:detail", args=[ticket.customer_id])).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PROFILE_VIEWED).exists()


def test_the_history_beside_a_ticket_leaves_out_the_conversation_on_screen(agent_client):
    # given a customer with an earlier conversation and the one being worked
    customer = CustomerFactory()
    earlier = TicketFactory(customer=customer, subject="Sizing question")
    MessageFactory(ticket=earlier, body="Do the boots run small?")
    ticket = TicketFactory(customer=customer, subject="Where are my boots?")
    MessageFactory(ticket=ticket, body="Order 1042 has not arrived yet.")

    # when the panel beside the ticket loads
    html = agent_client.get(reverse("tickets:history", args=[ticket.pk])).content.decode()

    # then it shows the earlier contact, not the thread already on screen
    assert "Do the boots run small?" in html and "Sizing question" in html
    assert "Order 1042 has not arrived yet." not in html


def test_a_possible_duplicate_is_flagged_beside_the_ticket_and_nothing_shows_without_one(agent_client):
    # given one customer with a namesake in the same country, and one without
    maria = CustomerFactory(first_name="Maura", last_name="Plaza", country="ES")
    twin = CustomerFactory(first_name="Maura", last_name="Plaza", country="ES")
    alone = CustomerFactory(first_name="Unique", last_name="Person")
    ticket = TicketFactory(customer=maria)
    url = reverse("customers:duplicates", args=[maria.pk])

    # when the ticket page loads its duplicates slot
    page = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    flagged = agent_client.get(url, {"beside": "ticket"}).content.decode()
    quiet = agent_client.get(reverse("customers:duplicates", args=[alone.pk]), {"beside": "ticket"})

    # then the ticket page asks for it, the warning names the other record, and a lone customer gets nothing
    assert f'hx-get="{url}?beside=ticket"' in page
    assert "Possible duplicate record" in flagged and f"(#{twin.pk})" in flagged and "same country (ES)" in flagged
    assert quiet.status_code == 200 and quiet.content == b""
