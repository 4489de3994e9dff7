"""The tickets app's suggestion rules (pure, over hand-built facts), its context loader, the
action renderer and the churn signals (with the database)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Channel, SuggestionFeedback
from customers.suggestions.context import context_build
from customers.suggestions.registry import action_render, suggestion_registry
from tests.customers.test_suggestions_rules import NOW, make_context, make_customer
from tests.factories import (
    ContactPointFactory,
    CSATSurveyFactory,
    CustomerFactory,
    MessageFactory,
    OrderFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import Message, Ticket
from tickets.suggestion_rules import (
    FirstContact,
    FollowUpSolved,
    LowCsatFollowup,
    MessageFact,
    OpenElsewhere,
    PreferredChannel,
    RepeatContact,
    SlaAtRisk,
    TicketFact,
    TicketFacts,
    churn_signals,
    reply_times,
    suggestion_outcomes,
    tickets_facts,
)

IN, OUT = Message.Direction.INBOUND, Message.Direction.OUTBOUND


def ticket(pk: int, **fields) -> TicketFact:
    values = {
        "id": pk,
        "subject": f"Question {pk}",
        "status": Ticket.Status.OPEN,
        "channel": Channel.EMAIL,
        "created_at": NOW - timedelta(days=1),
        "last_message_at": NOW - timedelta(hours=3),
    }
    values.update(fields)
    return TicketFact(**values)


def with_tickets(tickets, current=None, messages=(), complete=True, **fields):
    facts = TicketFacts(tickets=list(tickets), complete=complete, current=current, messages=list(messages))
    return make_context(extras={"tickets": facts}, ticket_id=current.id if current else None, **fields)


def test_every_rule_of_the_issue_is_registered():
    wanted = {
        "order_delayed",
        "refund_pending",
        "open_elsewhere",
        "repeat_contact",
        "low_csat_followup",
        "cart_abandoned",
        "cross_sell",
        "churn_risk",
        "vip",
        "follow_up_solved",
        "sla_at_risk",
        "preferred_channel",
        "first_contact",
    }
    assert wanted <= set(suggestion_registry.rules)
    assert "tickets" in suggestion_registry.loaders and suggestion_registry.renderer is not None


def test_without_ticket_facts_no_tickets_rule_fires():
    for rule in (OpenElsewhere(), RepeatContact(), LowCsatFollowup(), FollowUpSolved(), SlaAtRisk()):
        assert rule.evaluate(make_context(), "") is None
    assert (
        PreferredChannel().evaluate(make_context(), "") is None and FirstContact().evaluate(make_context(), "") is None
    )


class TestOpenElsewhere:
    def test_fires_for_another_open_ticket_on_another_channel(self):
        here = ticket(1)
        chat = ticket(2, channel=Channel.CHAT, subject="Where is my order", assignee="Sofia Ruiz")
        context = with_tickets([chat, here], current=here)

        suggestion = OpenElsewhere().evaluate(context, "")

        assert suggestion.reason == (
            "Ticket #2 \u201cWhere is my order\u201d is also open on Live chat (last message today, assigned to "
            "Sofia Ruiz), while #1 is on Email."
        )
        assert suggestion.title == "Link or merge with #2 on Live chat"
        assert suggestion.url == "/tickets/2/" and suggestion.subject == "ticket:2"

    def test_does_not_fire_for_the_same_channel_or_solved_tickets(self):
        here = ticket(1)
        same = ticket(2)
        solved = ticket(3, channel=Channel.CHAT, status=Ticket.Status.SOLVED)

        assert OpenElsewhere().evaluate(with_tickets([same, solved, here], current=here), "") is None

    def test_on_the_customer_page_two_open_channels_are_enough(self):
        context = with_tickets([ticket(2, channel=Channel.SOCIAL), ticket(1)])

        assert OpenElsewhere().evaluate(context, "").subject == "ticket:1"


class TestRepeatContact:
    def test_three_conversations_in_seven_days(self):
        tickets = [
            ticket(3, channel=Channel.CHAT, created_at=NOW - timedelta(hours=5)),
            ticket(2, created_at=NOW - timedelta(days=3)),
            ticket(1, channel=Channel.PHONE, created_at=NOW - timedelta(days=6)),
        ]

        suggestion = RepeatContact().evaluate(with_tickets(tickets, current=tickets[0]), "")

        assert suggestion.reason == (
            "3 conversations in the last 7 days: Phone 6 days ago, Email 3 days ago and Live chat today."
        )
        assert suggestion.title == "Escalate and own it end to end"

    def test_a_busy_week_names_the_first_five_and_says_when_there_may_be_more(self):
        # given the latest conversations loaded, all of them from this week (more may be older)
        tickets = [ticket(i, created_at=NOW - timedelta(hours=4 * i)) for i in range(1, 8)]

        # when
        partial = RepeatContact().evaluate(with_tickets(tickets, complete=False), "")
        whole = RepeatContact().evaluate(with_tickets(tickets, complete=True), "")

        # then
        assert partial.reason.startswith("At least 7 conversations in the last 7 days: Email yesterday, ")
        assert partial.reason.endswith(" and 2 more.")
        assert whole.reason.startswith("7 conversations in the last 7 days: ")

    def test_two_in_a_week_or_three_spread_out_do_not(self):
        spread = [ticket(i, created_at=NOW - timedelta(days=3 * i)) for i in range(1, 4)]

        assert RepeatContact().evaluate(with_tickets(spread), "") is None
        assert RepeatContact().evaluate(with_tickets([*spread[:1], ticket(9)]), "") is None


class TestLowCsatFollowup:
    def rated(self, rating, days=2, comment="Took ages and nobody called back"):
        return ticket(
            8,
            subject="Delivery late",
            status=Ticket.Status.SOLVED,
            csat_id=4,
            csat_rating=rating,
            csat_answered_at=NOW - timedelta(days=days),
            csat_comment=comment,
        )

    def test_fires_for_a_recent_rating_of_one_or_two_quoting_the_comment(self):
        suggestion = LowCsatFollowup().evaluate(with_tickets([self.rated(1)]), "")

        assert suggestion.reason == (
            "Rated #8 \u201cDelivery late\u201d 1/5 on 12 May: \u201cTook ages and nobody called back\u201d."
        )
        assert suggestion.subject == "csat:4" and "team lead" in suggestion.action

    def test_only_the_latest_answer_counts(self):
        later_happy = ticket(9, csat_id=5, csat_rating=5, csat_answered_at=NOW - timedelta(days=1))

        assert LowCsatFollowup().evaluate(with_tickets([later_happy, self.rated(2)]), "") is None

    def test_a_three_or_an_old_low_rating_does_not(self):
        assert LowCsatFollowup().evaluate(with_tickets([self.rated(3)]), "") is None
        assert LowCsatFollowup().evaluate(with_tickets([self.rated(1, days=45)]), "") is None


class TestFollowUpSolved:
    def solved(self, days: float) -> TicketFact:
        return ticket(
            5,
            subject="Broken zip",
            status=Ticket.Status.SOLVED,
            created_at=NOW - timedelta(days=days + 1),
            solved_at=NOW - timedelta(days=days),
        )

    def test_solved_four_days_ago_and_silent_since(self):
        suggestion = FollowUpSolved().evaluate(with_tickets([self.solved(4)]), "")

        assert suggestion.reason == (
            "#5 \u201cBroken zip\u201d was solved 4 days ago (10 May) and Maria has not written since."
        )
        assert suggestion.url == "/tickets/5/"

    @pytest.mark.parametrize("days", [2, 8], ids=["too-soon", "too-late"])
    def test_outside_three_to_seven_days_it_does_not(self, days):
        assert FollowUpSolved().evaluate(with_tickets([self.solved(days)]), "") is None

    def test_a_message_or_a_new_ticket_since_stops_it(self):
        wrote = MessageFact(5, Channel.EMAIL, IN, NOW - timedelta(days=1))
        newer = ticket(6, created_at=NOW - timedelta(days=1))

        assert FollowUpSolved().evaluate(with_tickets([self.solved(4)], messages=[wrote]), "") is None
        assert FollowUpSolved().evaluate(with_tickets([newer, self.solved(4)]), "") is None


class TestSlaAtRisk:
    def test_due_within_fifteen_minutes(self):
        here = ticket(3, first_response_due_at=NOW + timedelta(minutes=12))

        suggestion = SlaAtRisk().evaluate(with_tickets([here], current=here), "")

        assert suggestion.reason == "The first response to #3 is due at 12:12, in 12 minutes."
        assert suggestion.title == "Reply now: first response due in 12 minutes" and suggestion.score == 90
        assert suggestion.action.startswith("Hi {{ customer.name }},\n\nThank you for your patience")

    def test_breached(self):
        here = ticket(3, first_response_due_at=NOW - timedelta(minutes=20))

        suggestion = SlaAtRisk().evaluate(with_tickets([here], current=here), "")

        assert suggestion.reason == (
            "The first response to #3 was due at 11:40 (14 May), 20 minutes ago: the target is breached."
        )
        assert suggestion.score == 95

    @pytest.mark.parametrize(
        "fields",
        [
            {"first_response_due_at": NOW + timedelta(minutes=40)},
            {"first_response_due_at": NOW - timedelta(minutes=5), "first_response_at": NOW - timedelta(minutes=30)},
            {"first_response_due_at": NOW - timedelta(minutes=5), "status": Ticket.Status.PENDING},
            {"first_response_due_at": None},
        ],
        ids=["due-later", "answered", "pending", "no-target"],
    )
    def test_not_when_due_later_answered_paused_or_without_target(self, fields):
        here = ticket(3, **fields)

        assert SlaAtRisk().evaluate(with_tickets([here], current=here), "") is None


def exchange(ticket_id: int, channel: str, start, wait: timedelta, count: int) -> list[MessageFact]:
    out = []
    for n in range(count):
        sent = start + timedelta(days=n)
        out += [MessageFact(ticket_id, channel, OUT, sent), MessageFact(ticket_id, channel, IN, sent + wait)]
    return out


class TestPreferredChannel:
    def test_answers_much_faster_on_chat_than_on_email(self):
        here = ticket(1)
        messages = exchange(1, Channel.EMAIL, NOW - timedelta(days=20), timedelta(hours=9), 3)
        messages += exchange(2, Channel.CHAT, NOW - timedelta(days=10), timedelta(minutes=12), 4)
        context = with_tickets([here, ticket(2, channel=Channel.CHAT)], current=here, messages=messages)
        context.reply_channel = Channel.EMAIL

        suggestion = PreferredChannel().evaluate(context, "")

        assert suggestion.reason == (
            "Answers on Live chat in about 12 minutes (median of 4 replies) but on Email in about 9 hours "
            "(median of 3 replies)."
        )
        assert suggestion.channel == Channel.CHAT and suggestion.title == "Switch to Live chat"

    def test_similar_speeds_too_few_replies_or_unreachable_do_not(self):
        here = ticket(1)
        slow = exchange(1, Channel.EMAIL, NOW - timedelta(days=20), timedelta(hours=9), 3)
        close = slow + exchange(2, Channel.CHAT, NOW - timedelta(days=10), timedelta(hours=6), 3)
        once = slow + exchange(2, Channel.CHAT, NOW - timedelta(days=10), timedelta(minutes=5), 1)
        fast = slow + exchange(2, Channel.CHAT, NOW - timedelta(days=10), timedelta(minutes=5), 3)
        for messages, reachable in [(close, None), (once, None), (fast, frozenset({Channel.EMAIL}))]:
            extra = {"reachable": reachable} if reachable else {}
            context = with_tickets([here], current=here, messages=messages, **extra)
            context.reply_channel = Channel.EMAIL
            assert PreferredChannel().evaluate(context, "") is None

    def test_reply_times_pair_an_answer_with_our_message_before_it(self):
        start = NOW - timedelta(days=1)
        messages = [
            MessageFact(1, Channel.EMAIL, IN, start),
            MessageFact(1, Channel.EMAIL, OUT, start + timedelta(hours=1)),
            MessageFact(2, Channel.CHAT, OUT, start + timedelta(hours=1, minutes=5)),
            MessageFact(1, Channel.EMAIL, IN, start + timedelta(hours=3)),
            MessageFact(1, Channel.EMAIL, IN, start + timedelta(hours=4)),
        ]

        assert reply_times(messages) == {Channel.EMAIL: [timedelta(hours=2)]}


class TestFirstContact:
    def test_the_only_ticket_ever(self):
        only = ticket(4, created_at=NOW - timedelta(minutes=40))
        context = with_tickets([only], current=only, customer=make_customer(created_at=NOW - timedelta(hours=3)))

        suggestion = FirstContact().evaluate(context, "")

        assert suggestion.reason == (
            "#4 is the first conversation Maria ever opened with us (customer since 14 May, no orders yet)."
        )
        assert "Welcome" in suggestion.action

    def test_not_with_an_earlier_conversation_or_an_incomplete_list(self):
        first, second = ticket(1, created_at=NOW - timedelta(days=30)), ticket(2)

        assert FirstContact().evaluate(with_tickets([second, first], current=second), "") is None
        assert FirstContact().evaluate(with_tickets([second], current=second, complete=False), "") is None


# With the database ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestLoader:
    def test_loads_tickets_csat_and_messages_and_sets_the_reply_channel(self, django_assert_num_queries):
        customer = CustomerFactory()
        old = TicketFactory(customer=customer, channel=Channel.EMAIL, status=Ticket.Status.SOLVED)
        CSATSurveyFactory(ticket=old, rating=2, answered_at=timezone.now(), comment="slow")
        current = TicketFactory(customer=customer, channel=Channel.EMAIL)
        MessageFactory(ticket=current, channel=Channel.EMAIL, direction=IN)
        MessageFactory(ticket=current, channel=Channel.CHAT, direction=IN)
        MessageFactory(ticket=current, channel=Channel.CHAT, direction=Message.Direction.NOTE)
        TicketFactory()  # someone else's
        context = make_context(customer=customer, ticket_id=current.pk)

        with django_assert_num_queries(2):
            facts = tickets_facts(context)

        assert [t.id for t in facts.tickets] == [current.pk, old.pk] and facts.complete
        assert facts.current.id == current.pk
        assert next(t for t in facts.tickets if t.id == old.pk).csat_rating == 2
        assert [m.direction for m in facts.messages] == [IN, IN]
        assert context.reply_channel == Channel.CHAT

    def test_a_ticket_of_another_customer_is_not_the_current_one(self):
        customer = CustomerFactory()
        TicketFactory(customer=customer)
        foreign = TicketFactory()

        facts = tickets_facts(make_context(customer=customer, ticket_id=foreign.pk))

        assert facts.current is None

    def test_context_build_runs_the_loader(self):
        customer = CustomerFactory()
        here = TicketFactory(customer=customer, channel=Channel.PHONE)

        context = context_build(customer=customer, ticket=here)

        assert context.extras["tickets"].current.id == here.pk and context.channel == Channel.PHONE


@pytest.mark.django_db
def test_the_renderer_fills_placeholders_and_flags_what_it_cannot():
    customer = CustomerFactory(first_name="Maria", preferred_name="")
    ContactPointFactory(customer=customer, value="maria@example.com")
    OrderFactory(customer=customer, number="1042")
    agent = UserFactory(first_name="Sam")

    text, problems = action_render(
        text="Hi {{ customer.name }}, order {{ order.number }}. {{ agent.first_name }} {{ nope }}",
        customer=customer,
        agent=agent,
    )

    assert text == "Hi Maria, order 1042. Sam {{ nope }}"
    assert problems == ["Unknown placeholder {{ nope }} — it is not one the desk can fill."]


@pytest.mark.django_db
def test_churn_signals_count_recent_conversations_and_the_last_answer():
    now = timezone.now()
    customer, quiet = CustomerFactory(), CustomerFactory()
    for days in (2, 10, 20):
        TicketFactory(customer=customer, created_at=now - timedelta(days=days))
    TicketFactory(customer=customer, created_at=now - timedelta(days=40))
    rated = TicketFactory(customer=customer, created_at=now - timedelta(days=40))
    CSATSurveyFactory(ticket=rated, rating=2, answered_at=now - timedelta(days=35))

    signals = churn_signals([customer.pk, quiet.pk], now)

    assert signals[customer.pk]["contacts_30d"] == 3
    assert signals[customer.pk]["last_csat"] == 2
    assert quiet.pk not in signals


@pytest.mark.django_db
def test_outcomes_compare_variants_on_acceptance_and_the_csat_that_followed():
    # given two customers in the two variants of churn_risk: one accepted then rated 5 a week
    # later, one accepted then rated 2 (and 1 more after the window), and a dismissal
    now = timezone.now()
    happy, unhappy, other = CustomerFactory(), CustomerFactory(), CustomerFactory()

    def verdict(customer, variant, kind, days_ago):
        return SuggestionFeedback.objects.create(
            customer=customer,
            rule="churn_risk",
            variant=variant,
            verdict=kind,
            created_at=now - timedelta(days=days_ago),
        )

    verdict(happy, "gesture", "accepted", 20)
    verdict(unhappy, "check_in", "accepted", 20)
    verdict(other, "check_in", "dismissed", 3)
    CSATSurveyFactory(ticket=TicketFactory(customer=happy), rating=5, answered_at=now - timedelta(days=13))
    CSATSurveyFactory(ticket=TicketFactory(customer=happy), rating=1, answered_at=now - timedelta(days=25))  # before
    CSATSurveyFactory(ticket=TicketFactory(customer=unhappy), rating=2, answered_at=now - timedelta(days=10))
    CSATSurveyFactory(ticket=TicketFactory(customer=unhappy), rating=1, answered_at=now - timedelta(days=1))  # too late

    # when
    rows = {row.variant: row for row in suggestion_outcomes(since=now - timedelta(days=30), until=now)}

    # then
    gesture, check_in = rows["gesture"], rows["check_in"]
    assert (gesture.accepted, gesture.acceptance, gesture.csat_answers, gesture.csat_score) == (1, 100.0, 1, 100.0)
    assert (check_in.accepted, check_in.dismissed, check_in.acceptance) == (1, 1, 50.0)
    assert (check_in.csat_answers, check_in.csat_score, check_in.csat_average) == (1, 0.0, 2.0)
