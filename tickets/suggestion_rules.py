"""The tickets app's contributions to suggested next actions.

- A context loader (``tickets_facts``): the customer's latest conversations with their CSAT
  answers (one query) and the messages of those conversations (one query), as plain facts.
- Rules over those facts: ``open_elsewhere``, ``repeat_contact``, ``low_csat_followup``,
  ``follow_up_solved``, ``sla_at_risk``, ``preferred_channel``, ``first_contact``.
- The action renderer: an accepted suggestion's reply text goes through the macro renderer, so
  its placeholders are filled safely and anything unfillable is flagged.
- A churn signal provider: conversations in the last 30 days and the last CSAT answer.
- ``suggestion_outcomes``: per rule and A/B variant, agents' verdicts and the CSAT answers that
  followed an accepted suggestion, so variants compare on both.

``register()`` plugs them in; ``TicketsConfig.ready()`` calls it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel, ContactPoint, Customer, Order, SuggestionFeedback
from customers.suggestions.context import CustomerContext
from customers.suggestions.jobs import CONTACT_DAYS, churn_signals_register
from customers.suggestions.registry import Rule, Suggestion, suggestion_registry
from customers.suggestions.rules import SIGN_OFF, channel_label, day, days_ago, listing, name_of, plural

from .macros import MacroContext, macro_render
from .models import CSATSurvey, Message, Ticket

TICKETS_LIMIT = 30
MESSAGES_LIMIT = 200
REPEAT_DAYS = 7
REPEAT_CONTACTS = 3
REPEAT_SHOWN = 5
LOW_CSAT_DAYS = 30
SOLVED_SILENT = (timedelta(days=3), timedelta(days=7))
SLA_SOON = timedelta(minutes=15)
# "Much faster": the other channel's typical reply time is at most this share of the current one's,
# and at least this much quicker in absolute terms, over at least this many replies on each.
FASTER_SHARE = 0.5
FASTER_BY = timedelta(minutes=30)
MIN_REPLIES = 2


@dataclass(frozen=True)
class TicketFact:
    id: int
    subject: str
    status: str
    channel: str
    created_at: datetime
    last_message_at: datetime
    solved_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_due_at: datetime | None = None
    assignee: str = ""
    csat_id: int | None = None
    csat_rating: int | None = None
    csat_answered_at: datetime | None = None
    csat_comment: str = ""

    @property
    def unsolved(self) -> bool:
        return self.status in Ticket.UNSOLVED


@dataclass(frozen=True)
class MessageFact:
    ticket_id: int
    channel: str
    direction: str
    created_at: datetime


@dataclass(frozen=True)
class TicketFacts:
    """The customer's conversations, newest first (``complete``: all of them are here), the
    one the agent is in, and their messages (no internal notes) oldest first."""

    tickets: list[TicketFact] = field(default_factory=list)
    complete: bool = True
    current: TicketFact | None = None
    messages: list[MessageFact] = field(default_factory=list)

    @property
    def last_inbound_at(self) -> datetime | None:
        return max((m.created_at for m in self.messages if m.direction == Message.Direction.INBOUND), default=None)


TICKET_FIELDS = (
    "pk",
    "subject",
    "status",
    "channel",
    "created_at",
    "last_message_at",
    "solved_at",
    "first_response_at",
    "first_response_due_at",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "csat__pk",
    "csat__rating",
    "csat__answered_at",
    "csat__comment",
)


def _fact(row: dict[str, Any]) -> TicketFact:
    answered = row["csat__answered_at"] is not None and row["csat__rating"] is not None
    assignee = " ".join(part for part in (row["assignee__first_name"], row["assignee__last_name"]) if part)
    return TicketFact(
        id=row["pk"],
        subject=row["subject"],
        status=row["status"],
        channel=row["channel"],
        created_at=row["created_at"],
        last_message_at=row["last_message_at"],
        solved_at=row["solved_at"],
        first_response_at=row["first_response_at"],
        first_response_due_at=row["first_response_due_at"],
        assignee=assignee or row["assignee__username"] or "",
        csat_id=row["csat__pk"] if answered else None,
        csat_rating=row["csat__rating"] if answered else None,
        csat_answered_at=row["csat__answered_at"] if answered else None,
        csat_comment=(row["csat__comment"] or "") if answered else "",
    )


# Built once (see customers/suggestions/context.py): per request only the customer's filter is added.
TICKETS_SHAPE = Ticket.objects.order_by("-created_at", "-pk").values(*TICKET_FIELDS)
MESSAGES_SHAPE = (
    Message.objects.exclude(direction=Message.Direction.NOTE)
    .order_by("-created_at", "-pk")
    .values_list("ticket_id", "channel", "direction", "created_at")
)


def tickets_facts(context: CustomerContext) -> TicketFacts:
    """Context loader: two queries (three when the open ticket is older than the latest 30)."""
    tickets = TICKETS_SHAPE.filter(customer_id=context.customer.pk)
    rows = list(tickets[:TICKETS_LIMIT])
    facts = [_fact(row) for row in rows]
    current = next((f for f in facts if f.id == context.ticket_id), None)
    if current is None and context.ticket_id:
        extra = tickets.filter(pk=context.ticket_id).first()
        current = _fact(extra) if extra else None
    ids = [f.id for f in facts]
    if current is not None and current.id not in ids:
        ids.append(current.id)
    messages: list[MessageFact] = []
    if ids:
        rows_m = MESSAGES_SHAPE.filter(ticket_id__in=ids)[:MESSAGES_LIMIT]
        messages = [MessageFact(*row) for row in reversed(list(rows_m))]
    result = TicketFacts(tickets=facts, complete=len(rows) < TICKETS_LIMIT, current=current, messages=messages)
    if current is not None:
        inbound = [m for m in messages if m.ticket_id == current.id and m.direction == Message.Direction.INBOUND]
        context.reply_channel = inbound[-1].channel if inbound else current.channel
    return result


def _facts(context: CustomerContext) -> TicketFacts | None:
    facts = context.extras.get("tickets")
    return facts if isinstance(facts, TicketFacts) else None


def _ticket_url(ticket_id: int) -> str:
    return reverse("tickets:detail", kwargs={"ticket_id": ticket_id})


def _duration(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return plural(minutes, "minute")
    hours = round(minutes / 60)
    if hours < 48:
        return plural(hours, "hour")
    return plural(round(hours / 24), "day")


def _clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


# Rules ----------------------------------------------------------------------------------------


class OpenElsewhere(Rule):
    """Another conversation of this customer is open on a different channel: link or merge."""

    id = "open_elsewhere"
    label = "Open on another channel"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        if facts.current is not None:
            here = facts.current
            others = [t for t in facts.tickets if t.unsolved and t.id != here.id and t.channel != here.channel]
        else:
            open_ = [t for t in facts.tickets if t.unsolved]
            here = open_[0] if open_ else None
            others = [t for t in open_[1:] if here and t.channel != here.channel]
        if here is None or not others:
            return None
        other = max(others, key=lambda t: (t.last_message_at, t.id))
        who = f", assigned to {other.assignee}" if other.assignee else ", unassigned"
        reason = (
            f"Ticket #{other.id} \u201c{other.subject}\u201d is also open on {channel_label(other.channel)} "
            f"(last message {days_ago(other.last_message_at, context.now)}{who}), while #{here.id} is on "
            f"{channel_label(here.channel)}."
        )
        if len(others) > 1:
            reason += f" {plural(len(others) - 1, 'more conversation')} open elsewhere."
        return self.suggest(
            variant,
            title=f"Link or merge with #{other.id} on {channel_label(other.channel)}",
            reason=reason,
            channel=here.channel,
            url=_ticket_url(other.id),
            score=75,
            subject=f"ticket:{other.id}",
        )


class RepeatContact(Rule):
    """Three or more conversations within 7 days: escalate, own it end to end."""

    id = "repeat_contact"
    label = "Repeat contact"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        since = context.now - timedelta(days=REPEAT_DAYS)
        recent = sorted((t for t in facts.tickets if t.created_at >= since), key=lambda t: (t.created_at, t.id))
        if len(recent) < REPEAT_CONTACTS:
            return None
        shown = [f"{channel_label(t.channel)} {days_ago(t.created_at, context.now)}" for t in recent[:REPEAT_SHOWN]]
        contacts = listing(shown, limit=REPEAT_SHOWN, total=len(recent))
        # Only the latest conversations are loaded: when all of them are recent there may be more.
        count = f"At least {len(recent)}" if not facts.complete and len(recent) == len(facts.tickets) else len(recent)
        reason = f"{count} conversations in the last {REPEAT_DAYS} days: {contacts}."
        action = (
            "Hi {{ customer.name }},\n\n"
            "I'm sorry you've had to get in touch several times about this. I'm taking it over personally and will "
            "stay with it until it's fully resolved; you can reply to me directly." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title="Escalate and own it end to end",
            reason=reason,
            channel=context.channel,
            action=action,
            score=78,
        )


class LowCsatFollowup(Rule):
    """The last CSAT answer (within 30 days) was 1 or 2: acknowledge it, offer a lead's follow-up."""

    id = "low_csat_followup"
    label = "Low CSAT follow-up"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        answered = [t for t in facts.tickets if t.csat_rating is not None and t.csat_answered_at is not None]
        if not answered:
            return None
        last = max(answered, key=lambda t: (t.csat_answered_at, t.id))
        low = getattr(settings, "DESK_CSAT_LOW_RATING", 2)
        if last.csat_rating > low or last.csat_answered_at < context.now - timedelta(days=LOW_CSAT_DAYS):
            return None
        comment = " ".join(last.csat_comment.split())
        said = f": \u201c{comment[:140]}{'…' if len(comment) > 140 else ''}\u201d" if comment else ""
        reason = (
            f"Rated #{last.id} \u201c{last.subject}\u201d {last.csat_rating}/5 on "
            f"{day(last.csat_answered_at, context.now)}{said}."
        )
        action = (
            "Hi {{ customer.name }},\n\n"
            "Thank you for telling us how we did last time. I'm sorry we let you down. Would you like a call from "
            "our team lead to put it right?" + SIGN_OFF
        )
        return self.suggest(
            variant,
            title="Acknowledge the low rating and offer a lead's follow-up",
            reason=reason,
            channel=context.channel,
            action=action,
            url=_ticket_url(last.id),
            score=72,
            subject=f"csat:{last.csat_id}",
        )


class FollowUpSolved(Rule):
    """Solved 3 to 7 days ago and the customer has been silent since: check in."""

    id = "follow_up_solved"
    label = "Follow up a solved conversation"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        earliest, latest = context.now - SOLVED_SILENT[1], context.now - SOLVED_SILENT[0]
        solved = [
            t
            for t in facts.tickets
            if t.status in (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
            and t.solved_at is not None
            and earliest <= t.solved_at <= latest
        ]
        if not solved:
            return None
        ticket = max(solved, key=lambda t: (t.solved_at, t.id))
        last_inbound = facts.last_inbound_at
        newer = any(t.created_at > ticket.solved_at for t in facts.tickets if t.id != ticket.id)
        if newer or (last_inbound is not None and last_inbound > ticket.solved_at):
            return None
        reason = (
            f"#{ticket.id} \u201c{ticket.subject}\u201d was solved {days_ago(ticket.solved_at, context.now)} "
            f"({day(ticket.solved_at, context.now)}) and {name_of(context)} has not written since."
        )
        action = (
            "Hi {{ customer.name }},\n\n"
            f"I'm checking in about \u201c{ticket.subject}\u201d: is everything working as it should now? "
            "If anything is still not right, just reply here." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title="Check in on the solved conversation",
            reason=reason,
            channel=ticket.channel,
            action=action,
            url=_ticket_url(ticket.id),
            score=35,
            subject=f"ticket:{ticket.id}",
        )


class SlaAtRisk(Rule):
    """First response due within 15 minutes, or already breached: reply now."""

    id = "sla_at_risk"
    label = "SLA at risk"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        candidates = [facts.current] if facts.current is not None else facts.tickets
        waiting = [
            t
            for t in candidates
            if t is not None
            and t.status in (Ticket.Status.NEW, Ticket.Status.OPEN)
            and t.first_response_at is None
            and t.first_response_due_at is not None
            and t.first_response_due_at <= context.now + SLA_SOON
        ]
        if not waiting:
            return None
        ticket = min(waiting, key=lambda t: (t.first_response_due_at, t.id))
        due = ticket.first_response_due_at
        if due <= context.now:
            reason = (
                f"The first response to #{ticket.id} was due at {_clock(due)} ({day(due, context.now)}), "
                f"{_duration(context.now - due)} ago: the target is breached."
            )
            score, title = 95, f"Reply now: first-response target missed on #{ticket.id}"
        else:
            reason = f"The first response to #{ticket.id} is due at {_clock(due)}, in {_duration(due - context.now)}."
            score, title = 90, f"Reply now: first response due in {_duration(due - context.now)}"
        action = (
            "Hi {{ customer.name }},\n\n"
            "Thank you for your patience, and I'm sorry for the wait. I'm looking into this now and will come "
            "back to you shortly." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title=title,
            reason=reason,
            channel=ticket.channel if facts.current is None else context.channel,
            action=action,
            url="" if facts.current is not None else _ticket_url(ticket.id),
            score=score,
            subject=f"ticket:{ticket.id}",
        )


def reply_times(messages: list[MessageFact]) -> dict[str, list[timedelta]]:
    """How long the customer took to answer us, per channel we wrote on: for each inbound
    message that directly follows an outbound one in the same conversation."""
    times: dict[str, list[timedelta]] = {}
    previous: dict[int, MessageFact] = {}
    for message in messages:
        before = previous.get(message.ticket_id)
        if (
            before is not None
            and before.direction == Message.Direction.OUTBOUND
            and message.direction == Message.Direction.INBOUND
        ):
            times.setdefault(before.channel, []).append(message.created_at - before.created_at)
        previous[message.ticket_id] = message
    return times


class PreferredChannel(Rule):
    """The customer answers much faster on another channel: switch to it."""

    id = "preferred_channel"
    label = "Preferred channel"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None:
            return None
        current = context.channel
        times = {c: t for c, t in reply_times(facts.messages).items() if len(t) >= MIN_REPLIES}
        if current not in times:
            return None
        typical = {channel: median(values) for channel, values in times.items()}
        here = typical[current]
        faster = [
            channel
            for channel, value in typical.items()
            if channel != current
            and channel in context.reachable
            and value <= here * FASTER_SHARE
            and here - value >= FASTER_BY
        ]
        if not faster:
            return None
        best = min(faster, key=lambda c: (typical[c], c))
        reason = (
            f"Answers on {channel_label(best)} in about {_duration(typical[best])} (median of "
            f"{plural(len(times[best]), 'reply', 'replies')}) but on {channel_label(current)} in about "
            f"{_duration(here)} (median of {plural(len(times[current]), 'reply', 'replies')})."
        )
        return self.suggest(
            variant,
            title=f"Switch to {channel_label(best)}",
            reason=reason,
            channel=best,
            score=30,
            subject=f"channel:{best}",
        )


class FirstContact(Rule):
    """The first conversation this customer ever opened: welcome them."""

    id = "first_contact"
    label = "First contact"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        facts = _facts(context)
        if facts is None or not facts.complete or len(facts.tickets) != 1:
            return None
        ticket = facts.tickets[0]
        if facts.current is not None and facts.current.id != ticket.id:
            return None
        orders = context.customer.order_count
        history = f"{plural(orders, 'order')} so far" if orders else "no orders yet"
        reason = (
            f"#{ticket.id} is the first conversation {name_of(context)} ever opened with us "
            f"(customer since {day(context.customer.created_at, context.now)}, {history})."
        )
        action = (
            "Hi {{ customer.name }},\n\n"
            "Welcome, and thanks for getting in touch! I'm here to help and will make sure you get an answer "
            "quickly." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title="Welcome a first-time contact",
            reason=reason,
            channel=context.channel,
            action=action,
            score=40,
            subject=f"ticket:{ticket.id}",
        )


TICKET_RULES: list[Rule] = [
    OpenElsewhere(),
    RepeatContact(),
    LowCsatFollowup(),
    FollowUpSolved(),
    SlaAtRisk(),
    PreferredChannel(),
    FirstContact(),
]


# Renderer and churn signals -------------------------------------------------------------------


def action_render(
    text: str, customer: Customer, ticket_id: int | None, agent: AbstractBaseUser | None
) -> tuple[str, list[str]]:
    """An accepted suggestion's reply text through the macro renderer (two queries)."""
    ticket = Ticket.objects.filter(pk=ticket_id, customer=customer).first() if ticket_id else None
    order = Order.objects.filter(customer=customer).order_by("-placed_at", "-pk").first()
    email = (
        ContactPoint.objects.filter(customer=customer, channel=Channel.EMAIL)
        .order_by("-is_primary", "pk")
        .values_list("value", flat=True)
        .first()
    )
    context = MacroContext(customer=customer, ticket=ticket, agent=agent, order=order, email=email or "")
    rendered = macro_render(body=text, context=context)
    return rendered.text, rendered.problems


def churn_signals(customer_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Conversations started in the last 30 days and the last CSAT answer, per customer."""
    since = now - timedelta(days=CONTACT_DAYS)
    counts = dict(
        Ticket.objects.filter(customer_id__in=customer_ids, created_at__gte=since)
        .values("customer_id")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    answered = CSATSurvey.objects.filter(
        customer_id=OuterRef("pk"), answered_at__isnull=False, rating__isnull=False
    ).order_by("-answered_at", "-pk")
    last = Customer.objects.filter(pk__in=customer_ids).annotate(
        last_csat=Subquery(answered.values("rating")[:1]), last_csat_at=Subquery(answered.values("answered_at")[:1])
    )
    out: dict[int, dict[str, Any]] = {}
    for customer_id, rating, at in last.filter(Q(last_csat__isnull=False)).values_list(
        "pk", "last_csat", "last_csat_at"
    ):
        out[customer_id] = {"last_csat": rating, "last_csat_at": at}
    for customer_id, n in counts.items():
        out.setdefault(customer_id, {})["contacts_30d"] = n
    return out


def register() -> None:
    suggestion_registry.register(*TICKET_RULES)
    suggestion_registry.loader_register("tickets", tickets_facts)
    suggestion_registry.renderer_register(action_render)
    churn_signals_register("tickets", churn_signals)


# Outcomes per variant ---------------------------------------------------------------------------

LATER_CSAT_DAYS = 14


@dataclass(frozen=True)
class VariantOutcome:
    """How one variant of a rule fared: agents' verdicts, and the CSAT answers customers gave
    within ``LATER_CSAT_DAYS`` after an agent accepted it (the first answer after each)."""

    rule: str
    variant: str
    accepted: int = 0
    dismissed: int = 0
    snoozed: int = 0
    csat_answers: int = 0
    csat_positive: int = 0
    csat_average: float | None = None

    @property
    def acceptance(self) -> float | None:
        """Accepted / (accepted + dismissed), in per cent, as the lead dashboards count it."""
        decided = self.accepted + self.dismissed
        return round(100 * self.accepted / decided, 1) if decided else None

    @property
    def csat_score(self) -> float | None:
        """Answers rated 4 or 5 / all answers, in per cent (the desk's CSAT definition)."""
        return round(100 * self.csat_positive / self.csat_answers, 1) if self.csat_answers else None


def suggestion_outcomes(*, since: datetime, until: datetime) -> list[VariantOutcome]:
    """Verdicts given in [since, until) per rule and variant, with the later CSAT of the
    accepted ones, in one aggregate query, so variants of a rule compare side by side."""
    verdict = SuggestionFeedback.Verdict
    later = (
        CSATSurvey.objects.filter(
            customer_id=OuterRef("customer_id"),
            rating__isnull=False,
            answered_at__gt=OuterRef("created_at"),
            answered_at__lte=OuterRef("created_at") + timedelta(days=LATER_CSAT_DAYS),
        )
        .order_by("answered_at", "pk")
        .values("rating")[:1]
    )
    accepted = Q(verdict=verdict.ACCEPTED)
    rows = (
        SuggestionFeedback.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(later_rating=Subquery(later))
        .values("rule", "variant")
        .order_by("rule", "variant")
        .annotate(
            accepted=Count("pk", filter=accepted),
            dismissed=Count("pk", filter=Q(verdict=verdict.DISMISSED)),
            snoozed=Count("pk", filter=Q(verdict=verdict.SNOOZED)),
            csat_answers=Count("later_rating", filter=accepted),
            csat_positive=Count("pk", filter=accepted & Q(later_rating__gte=4)),
            csat_average=Avg("later_rating", filter=accepted),
        )
    )
    return [
        VariantOutcome(
            **{**row, "csat_average": round(row["csat_average"], 2) if row["csat_average"] is not None else None}
        )
        for row in rows
    ]
