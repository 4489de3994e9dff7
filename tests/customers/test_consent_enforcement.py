"""Consent is enforced in one place (customers/consent.py) and asked at every use.

Property tests: for any sequence of decisions, the state is the latest decision else the
purpose's default, and no blocked use happens — no event stored, no purpose-bound reply or
macro sent, no survey sent, no marketing suggestion without ``marketing``, no history-based
suggestion without ``personalization``, and a blocked suggestion cannot be accepted. The expected
state is worked out here from the decisions themselves, never by asking ``customers.consent``.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import consent
from customers.models import Channel, ConsentPurpose, Customer, Event, ProductAffinity
from customers.services import EventInput, consent_record, events_record
from customers.suggestions.feedback import suggestion_accept
from customers.suggestions.selectors import suggestion_panel
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    MacroFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    TicketFactory,
    UserFactory,
)
from tickets.csat import csat_survey_send
from tickets.macros import macro_preview
from tickets.models import Message, Ticket
from tickets.services import ticket_reply

pytestmark = pytest.mark.django_db

PURPOSES = ["personalization", "marketing", "behavioral_tracking", "surveys"]
SOURCES = ["customer", "agent", "admin", "api", "import"]
PROPERTY = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

decisions = st.lists(
    st.tuples(
        st.sampled_from(PURPOSES), st.booleans(), st.integers(min_value=0, max_value=5), st.sampled_from(SOURCES)
    ),
    max_size=12,
)
defaults = st.fixed_dictionaries({code: st.booleans() for code in PURPOSES})


def _given_state(customer: Customer, history, default_for) -> dict[str, bool]:
    """Record ``history`` (purpose, granted, days ago, source) and return what the state must be."""
    ConsentPurpose.objects.filter(code__in=PURPOSES).update(default_granted=False)
    for code, granted in default_for.items():
        ConsentPurpose.objects.filter(code=code).update(default_granted=granted)
    now = timezone.now()
    latest: dict[str, tuple[int, int, bool]] = {}
    for index, (code, granted, days_ago, source) in enumerate(history):
        consent_record(
            customer=customer,
            purpose=code,
            granted=granted,
            source=source,
            recorded_at=now - timedelta(days=days_ago),
        )
        # The latest by time wins; between equal times, the one recorded last.
        key = (-days_ago, index, granted)
        if code not in latest or key[:2] > latest[code][:2]:
            latest[code] = key
    return {code: latest[code][2] if code in latest else default_for[code] for code in PURPOSES}


@PROPERTY
@given(history=decisions, default_for=defaults)
def test_the_state_is_the_latest_decision_else_the_default(history, default_for):
    customer = CustomerFactory()
    expected = _given_state(customer, history, default_for)

    assert {code: consent.allows(customer, code) for code in PURPOSES} == expected
    assert consent.allowed_purposes(customer) == frozenset(code for code, on in expected.items() if on)
    states = consent.consent_states(customer)
    assert all(states[code].is_default == (code not in {h[0] for h in history}) for code in PURPOSES)


@PROPERTY
@given(history=decisions, default_for=defaults, required=st.lists(st.sampled_from(PURPOSES), max_size=4))
def test_purposes_missing_names_exactly_what_is_not_granted(history, default_for, required):
    customer = CustomerFactory()
    expected = _given_state(customer, history, default_for)

    missing = consent.purposes_missing(customer, required)

    assert missing == [code for code in dict.fromkeys(required) if not expected[code]]
    for code in PURPOSES:
        assert (consent.blocked_reason(customer, code) == "") == expected[code]


@PROPERTY
@given(history=decisions, default_for=defaults, batch=st.integers(min_value=1, max_value=5))
def test_no_event_is_stored_without_tracking_consent(history, default_for, batch):
    customer = CustomerFactory()
    expected = _given_state(customer, history, default_for)
    events = [
        EventInput(customer=customer, kind="page_view", occurred_at=timezone.now(), payload={"n": n})
        for n in range(batch)
    ]

    result = events_record(events=events)

    stored = Event.objects.filter(customer=customer).count()
    if expected["behavioral_tracking"]:
        assert (result.accepted, result.dropped, stored) == (batch, 0, batch)
    else:
        assert (result.accepted, result.dropped, stored) == (0, batch, 0)


@PROPERTY
@given(history=decisions, default_for=defaults, purpose=st.sampled_from(PURPOSES))
def test_no_purpose_bound_reply_is_sent_without_that_purpose(history, default_for, purpose):
    ticket = TicketFactory(channel=Channel.EMAIL)
    ContactPointFactory(customer=ticket.customer, channel=Channel.EMAIL)
    author = UserFactory(username="enforcement-agent")
    expected = _given_state(ticket.customer, history, default_for)
    before = Message.objects.filter(ticket=ticket).count()

    if expected[purpose]:
        ticket_reply(ticket=ticket, author=author, body="An offer for you", purpose=purpose)
        assert Message.objects.filter(ticket=ticket).count() == before + 1
    else:
        with pytest.raises(ValidationError, match="has not agreed"):
            ticket_reply(ticket=ticket, author=author, body="An offer for you", purpose=purpose)
        assert Message.objects.filter(ticket=ticket).count() == before


@PROPERTY
@given(history=decisions, default_for=defaults)
def test_no_survey_is_sent_without_surveys_consent(history, default_for):
    ticket = TicketFactory(channel=Channel.EMAIL, status=Ticket.Status.SOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() - timedelta(days=2))
    ContactPointFactory(customer=ticket.customer, channel=Channel.EMAIL)
    expected = _given_state(ticket.customer, history, default_for)

    survey = csat_survey_send(ticket_id=ticket.pk)

    assert (survey.sent_at is not None) == expected["surveys"]
    sent = Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND).exists()
    assert sent == expected["surveys"]


def _customer_every_rule_fires_for() -> Customer:
    """A customer with a high churn score, a cart left behind and a product bought with another:
    the churn, cross-sell (personalization) and abandoned-cart (marketing) rules all fire."""
    customer = CustomerFactory(churn_risk=0.9, churn_factors={"Recency": "No order for 90 days"}, order_count=2)
    ContactPointFactory(customer=customer, channel=Channel.EMAIL)
    bought = OrderLineFactory(order=OrderFactory(customer=customer), product=ProductFactory(name="Boots"))
    ProductAffinity.objects.create(
        product=bought.product, other=ProductFactory(name="Socks"), together=9, confidence=0.8
    )
    Customer.objects.filter(pk=customer.pk).update(last_order_at=timezone.now() - timedelta(days=30))
    Event.objects.create(customer=customer, kind=Event.Kind.CART_ABANDONED, payload={"items": ["Hat"]})
    customer.refresh_from_db()
    return customer


HISTORY_RULES = {"churn_risk", "cross_sell"}  # read purchase history: need personalization
MARKETING_RULES = {"cart_abandoned"}  # an offer or reminder: needs marketing


def test_the_suggestion_fixture_fires_the_history_and_marketing_rules_when_allowed():
    # given everything granted (so the property below is not vacuous)
    customer = _customer_every_rule_fires_for()
    for code in PURPOSES:
        consent_record(customer=customer, purpose=code, granted=True, source="admin")
    cache.clear()

    shown = {s.rule for s in suggestion_panel(customer=customer, limit=20).suggestions}

    assert shown >= HISTORY_RULES | MARKETING_RULES


@PROPERTY
@given(history=decisions, default_for=defaults)
def test_no_suggestion_is_shown_or_accepted_without_its_purposes(history, default_for):
    customer = _customer_every_rule_fires_for()
    expected = _given_state(customer, history, default_for)
    cache.clear()

    panel = suggestion_panel(customer=customer, limit=20)

    shown = {s.rule for s in panel.suggestions}
    granted = {code for code, on in expected.items() if on}
    assert all(set(s.purposes) <= granted for s in panel.suggestions)
    if not expected["marketing"]:
        assert not shown & MARKETING_RULES
    if not expected["personalization"]:
        assert not shown & HISTORY_RULES
    # the agent sees why each held-back suggestion is missing, and cannot accept it anyway
    for blocked in panel.blocked:
        assert blocked.why and "not granted" in blocked.why
        with pytest.raises(ValidationError, match="cannot be used"):
            suggestion_accept(ref=blocked.suggestion.ref, agent=None)


@PROPERTY
@given(history=decisions, default_for=defaults, purpose=st.sampled_from(PURPOSES))
def test_no_macro_serving_a_purpose_renders_as_sendable_without_it(history, default_for, purpose):
    ticket = TicketFactory(channel=Channel.EMAIL)
    macro = MacroFactory(body="A 10% discount for you, {{ customer.first_name }}", purpose=purpose)
    expected = _given_state(ticket.customer, history, default_for)

    rendered = macro_preview(macro=macro, ticket=ticket, agent=None)

    assert (rendered.refusal == "") == expected[purpose]
    if not expected[purpose]:  # the agent reads why, e.g. "(withdrawn 3 May via preference centre)"
        state = consent.consent_states(ticket.customer)[purpose]
        assert f"{state.purpose.name} not granted ({state.explanation})" in rendered.refusal


def test_an_agent_sees_why_marketing_is_blocked():
    # given a customer who withdrew marketing in the preference centre on 3 May this year
    customer = CustomerFactory()
    withdrawn_at = timezone.now().replace(month=5, day=3, hour=12)
    if withdrawn_at > timezone.now():
        withdrawn_at = withdrawn_at.replace(year=withdrawn_at.year - 1)
    consent_record(customer=customer, purpose="marketing", granted=False, source="customer", recorded_at=withdrawn_at)

    reason = consent.blocked_reason(customer, "marketing")

    year = "" if withdrawn_at.year == timezone.now().year else f" {withdrawn_at.year}"
    assert reason == f"Offers and reminders not granted (withdrawn 3 May{year} via preference centre)"
    assert consent.purposes_missing(customer, ["personalization", "marketing"]) == ["marketing"]


def test_blocked_reasons_for_defaults_inactive_and_unknown_purposes():
    customer = CustomerFactory()
    assert consent.blocked_reason(customer, "marketing") == "Offers and reminders not granted (not granted by default)"
    assert consent.blocked_reason(customer, "personalization") == ""
    ConsentPurpose.objects.filter(code="surveys").update(active=False)
    assert "inactive" in consent.blocked_reason(customer, "surveys")
    assert consent.purposes_missing(customer, ["surveys"]) == ["surveys"]
    assert "Unknown" in consent.blocked_reason(customer, "telepathy")


def test_a_task_asks_again_when_it_runs():
    # given a survey due for a customer who granted surveys when the ticket was solved
    ticket = TicketFactory(channel=Channel.EMAIL, status=Ticket.Status.SOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() - timedelta(days=2))
    ContactPointFactory(customer=ticket.customer, channel=Channel.EMAIL)
    # when they withdraw before the task runs
    consent_record(customer=ticket.customer, purpose="surveys", granted=False, source="customer")
    # then the task does not send it
    assert csat_survey_send(ticket_id=ticket.pk).sent_at is None


@PROPERTY
@given(
    histories=st.lists(decisions, min_size=1, max_size=4),
    default_for=defaults,
    purpose=st.sampled_from(PURPOSES),
)
def test_the_batch_answer_is_the_one_answer_for_each_customer(histories, default_for, purpose):
    # given several customers, each with their own history
    customers = [CustomerFactory() for _ in histories]
    expected = {
        customer.pk: _given_state(customer, history, default_for)[purpose]
        for customer, history in zip(customers, histories, strict=True)
    }

    # then the batch check (used by event ingest) says the same as the state of each
    assert consent.allows_each(customers=customers, purpose=purpose) == expected
