"""Demo conversations: tickets on every channel with their messages, notes, SLA clocks and CSAT.

A ticket is planned as a ``TicketSpec`` (what it is about, where, in which state) and written by
``ticket_write``, which turns the plan into a thread that reads like the real thing: the customer
writes in their language about their order, an agent answers, the customer replies, and so on.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from django.conf import settings

from customers.models import Channel, Refund
from tickets.models import Message, Ticket
from tickets.sla import NEVER, business_add

from . import phrasebook as pb
from .catalogue import Item
from .people import OrderPlan, Person, refund_add
from .world import Agent, World

OUTBOUND, INBOUND, NOTE = Message.Direction.OUTBOUND, Message.Direction.INBOUND, Message.Direction.NOTE
SOLVED = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
TOPIC_TAGS = {
    "where_is_order": "shipping",
    "refund": "refund",
    "damaged": "damaged",
    "exchange": "exchange",
    "product_question": "pre-sales",
    "account": "account",
    "invoice": "billing",
}
TOPIC_WEIGHTS = {
    "where_is_order": 30,
    "refund": 15,
    "damaged": 10,
    "exchange": 12,
    "invoice": 8,
    "product_question": 15,
    "account": 10,
}
CHANNEL_WEIGHTS = {"email": 40, "web": 10, "chat": 25, "phone": 15, "social": 15}
RATING_WEIGHTS = {True: (3, 4, 9, 28, 56), False: (12, 14, 24, 28, 22)}  # by "first reply on time"
# Weights of new, open, pending, solved, closed by the ticket's age in days: old ones are done.
STATUS_BY_AGE = (
    (0.5, (45, 35, 10, 10, 0)),
    (3, (10, 30, 20, 40, 0)),
    (10, (0, 8, 7, 60, 25)),
    (1e9, (0, 2, 2, 30, 66)),
)
# Weights of low, normal, high, urgent.
PRIORITY_WEIGHTS = {"late": (0, 30, 55, 15), "minor": (25, 60, 12, 3), "usual": (8, 62, 24, 6)}


@dataclass(slots=True)
class TicketSpec:
    channel: str
    status: str
    topic: str
    created_at: datetime
    priority: str = "normal"
    order: OrderPlan | None = None
    product: tuple[int, Item] | None = None
    assignee: Agent | None = None
    team: str | None = "Tier 1"
    rating: int | None = None  # a CSAT answer this ticket must have
    span: timedelta | None = None  # from opening to the last message, when it matters
    notes: tuple[str, ...] = ()  # keys of phrasebook.EXTRA_NOTES
    tags: tuple[str, ...] = ()
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # placeholder values per language


def reachable(person: Person) -> dict[str, int]:
    """Channel weights among those the customer can be reached on (web forms need an email)."""
    have = set(person.contacts) | ({"web"} if "email" in person.contacts else set())
    return {channel: weight for channel, weight in CHANNEL_WEIGHTS.items() if channel in have}


def daytime(world: World, person: Person, days_ago: float) -> datetime:
    """A moment about ``days_ago`` ago, during the customer's waking hours, never in the future."""
    rng = world.rng
    day = (world.now - timedelta(days=days_ago)).astimezone(person.zone).date()
    local = datetime(
        day.year, day.month, day.day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59), tzinfo=person.zone
    )
    latest = world.now - timedelta(minutes=20)
    return local if local <= latest else latest - timedelta(minutes=rng.uniform(0, 90))


def tickets_random(world: World, person: Person, count: int) -> list[TicketSpec]:
    rng, now = world.rng, world.now
    channels = reachable(person)
    oldest = min(120.0, (now - person.created_at).total_seconds() / 86400)
    specs = []
    for _ in range(count):
        age = oldest * rng.random() ** 1.6
        created = max(daytime(world, person, age), person.created_at + timedelta(minutes=5))
        age = (now - created).total_seconds() / 86400
        weights = next(weights for limit, weights in STATUS_BY_AGE if age < limit)
        status = rng.choices(Ticket.Status.values, weights=weights)[0]
        channel = rng.choices(list(channels), weights=list(channels.values()))[0]
        spec = TicketSpec(channel, status, "account", created)
        topic_pick(world, person, spec)
        staff_pick(world, spec)
        specs.append(spec)
    return specs


def topic_pick(world: World, person: Person, spec: TicketSpec) -> None:
    """What the ticket is about, given the orders the customer had placed by then."""
    rng, at = world.rng, spec.created_at
    placed = [o for o in person.orders if o.placed_at < at - timedelta(days=1)]
    candidates: dict[str, list[OrderPlan]] = {
        "where_is_order": [
            o for o in placed if o.status != "cancelled" and (o.delivered_at is None or o.delivered_at > at)
        ],
        "refund": [o for o in placed if o.delivered_at and o.delivered_at < at],
        "damaged": [o for o in placed if o.delivered_at and o.delivered_at < at],
        "exchange": [
            o for o in placed if o.delivered_at and o.delivered_at < at and any(i.sized for _, i, _ in o.lines)
        ],
        "invoice": [o for o in placed if o.status != "cancelled"],
    }
    for topic, orders in candidates.items():
        candidates[topic] = [o for o in orders if (topic, o.id) not in person.discussed]
    topics = [t for t in TOPIC_WEIGHTS if t not in candidates or candidates[t]]
    spec.topic = rng.choices(topics, weights=[TOPIC_WEIGHTS[t] for t in topics])[0]
    if spec.topic in candidates:
        spec.order = max(candidates[spec.topic], key=lambda o: (o.is_late(at.date()), rng.random()))
        person.discussed.add((spec.topic, spec.order.id))
    else:
        spec.product = rng.choice(world.products)
    late = spec.order is not None and spec.topic == "where_is_order" and spec.order.promised < at.date()
    kind = "late" if late else "minor" if spec.topic in ("account", "invoice") else "usual"
    spec.priority = rng.choices(("low", "normal", "high", "urgent"), weights=PRIORITY_WEIGHTS[kind])[0]
    spec.tags = (TOPIC_TAGS[spec.topic], *(("late-delivery",) if late else ()))
    spec.team = "Billing" if spec.topic in ("refund", "invoice") else "Tier 1"
    if rng.random() < 0.1:
        spec.team = None
    if spec.topic == "refund" and spec.order is not None and not spec.order.refunds:
        status = (
            rng.choice((Refund.Status.COMPLETED, Refund.Status.COMPLETED, Refund.Status.REJECTED))
            if spec.status in SOLVED
            else rng.choice((Refund.Status.REQUESTED, Refund.Status.APPROVED))
        )
        refund_add(world, spec.order, status, requested_at=at - timedelta(hours=rng.uniform(2, 48)))


def staff_pick(world: World, spec: TicketSpec) -> None:
    """New tickets mostly wait unassigned; everything an agent answered has an assignee."""
    rng = world.rng
    if spec.status == Ticket.Status.NEW and rng.random() < 0.7:
        spec.assignee = None
        if rng.random() < 0.5:
            spec.team = None
    elif rng.random() < 0.4:
        spec.assignee = world.agent("agent")
    else:
        spec.assignee = rng.choice(world.agents)


@dataclass(slots=True)
class Turn:
    direction: str
    kind: str  # a phrasebook line, or "note"
    gap: float  # seconds after the previous turn


def _turns(world: World, spec: TicketSpec, first_reply_seconds: float) -> list[Turn]:
    rng, channel = world.rng, spec.channel
    quick = channel == Channel.CHAT
    social = channel == Channel.SOCIAL

    def wait(chat: tuple[float, float], other: tuple[float, float]) -> float:
        return rng.uniform(*(chat if quick else other))

    reply_gap = wait((60, 300), (600, 14400) if social else (0.1 * first_reply_seconds, 1.15 * first_reply_seconds))
    turns = [Turn(INBOUND, "opening", rng.uniform(2, 40))]
    if spec.assignee is not None and (rng.random() < 0.35 or spec.notes):
        turns.append(Turn(NOTE, "note", wait((10, 60), (120, 1800))))
    if spec.status == Ticket.Status.NEW:
        return turns
    if quick:
        turns.append(Turn(OUTBOUND, "hold", rng.uniform(20, 90)))
    if spec.status == Ticket.Status.PENDING:
        return [*turns, Turn(OUTBOUND, "pending", reply_gap)]
    turns.append(Turn(OUTBOUND, "reply", reply_gap))
    if spec.status == Ticket.Status.OPEN:
        return [*turns, Turn(INBOUND, "followup", wait((30, 180), (3600, 93600)))]
    if channel != Channel.PHONE:
        turns.append(Turn(INBOUND, "thanks", wait((20, 120), (1200, 72000))))
        turns.append(Turn(OUTBOUND, "closing", wait((20, 120), (300, 10800))))
    return turns


def _words(world: World, person: Person, spec: TicketSpec, agent: Agent | None, locale: str) -> dict[str, str]:
    if locale not in spec.words:
        spec.words[locale] = _words_new(person, spec, agent, locale)
    return spec.words[locale]


def _words_new(person: Person, spec: TicketSpec, agent: Agent | None, locale: str) -> dict[str, str]:
    order = spec.order
    refund = order.refunds[-1] if order is not None and order.refunds else None
    words = {
        "first": person.address_name,
        "name": f"{person.first} {person.last}",
        "agent": agent.first_name if agent else "",
        "order": "",
        "product": _product_name(spec),
        "placed": "",
        "date": "",
        "carrier": "",
        "tracking": "",
        "amount": "",
    }
    if order is not None:
        local = order.placed_at.astimezone(person.zone)
        words.update(
            order=order.number,
            product=_product_name(spec),
            placed=pb.date_words(locale, local.day, local.month),
            date=pb.date_words(locale, order.promised.day, order.promised.month),
            carrier=order.carrier,
            tracking=order.tracking,
            amount=pb.money_words(locale, refund.amount if refund and spec.topic == "refund" else order.total),
        )
    return words


def _body(world: World, person: Person, spec: TicketSpec, turn: Turn, channel: str, agent: Agent | None) -> str:
    locale = person.locale
    if turn.kind == "note":
        key = spec.notes[0] if spec.notes else spec.topic
        template = pb.EXTRA_NOTES.get(key) or pb.INTERNAL_NOTES[spec.topic]
        return template.format(**_words(world, person, spec, agent, "en"))
    if channel == Channel.PHONE:
        words = _words(world, person, spec, agent, "en")
        if turn.direction == INBOUND:
            text = pb.CALL_NOTES[spec.topic] if turn.kind == "opening" else "Customer called again for an update."
            return text.format(**words)
        return (pb.CALL_BACK + _line("en", spec, turn.kind)).format(**words)
    words = _words(world, person, spec, agent, locale)
    text = _line(locale, spec, turn.kind).format(**words)
    if channel != Channel.EMAIL:
        return text
    lines = pb.LINES[locale]
    if turn.direction == INBOUND:
        opener = f"{lines['hello']}\n\n" if turn.kind == "opening" else ""
        return f"{opener}{text}\n\n{person.address_name}"
    return f"{lines['greeting'].format(**words)}\n\n{text}\n\n{lines['signoff'].format(**words)}"


def _line(locale: str, spec: TicketSpec, kind: str) -> str:
    lines = pb.LINES[locale]
    if kind in ("opening", "reply"):
        key = f"{spec.topic}.{kind}"
        if spec.topic == "where_is_order" and kind == "reply" and spec.order is not None and not spec.order.carrier:
            key += "_unshipped"
        return lines[key]
    if kind == "pending":
        return f"{_line(locale, spec, 'reply')}\n\n{lines['pending']}"
    return lines[kind]


def ticket_write(world: World, person: Person, spec: TicketSpec) -> tuple[int, str, datetime, datetime]:
    """Write the ticket, its thread, SLA state, tags and survey. Returns (id, channel, opened, last message)."""
    rng, now = world.rng, world.now
    ticket_id = world.next_id("ticket")
    policy = world.sla.get(spec.priority)
    turns = _turns(world, spec, (policy[0] if policy else 240) * 60)
    solve_gap = rng.uniform(60, 1200) if spec.status in SOLVED else 0.0
    total = sum(t.gap for t in turns) + solve_gap
    room = (now - timedelta(minutes=2) - spec.created_at).total_seconds()
    scale = spec.span.total_seconds() / total if spec.span else min(1.0, room / total)
    times: list[datetime] = []
    at = spec.created_at
    for turn in turns:
        at += timedelta(seconds=turn.gap * scale)
        times.append(at)
    first_response = next((t for t, turn in zip(times, turns, strict=True) if turn.direction == OUTBOUND), None)
    last_message = max(t for t, turn in zip(times, turns, strict=True) if turn.direction != NOTE)
    solved_at = times[-1] + timedelta(seconds=solve_gap * scale) if spec.status in SOLVED else None
    paused_at = solved_at or (times[-1] if spec.status == Ticket.Status.PENDING else None)
    team_id = world.teams[spec.team] if spec.team else None
    calendar = world.calendars[team_id]

    def due(target: int, stop: datetime | None) -> datetime | None:
        # As tickets.sla.ticket_sla_recompute: a pause counts only if it began before the target was met.
        if policy is None:
            return None
        pauses = [(paused_at, NEVER)] if paused_at and (stop is None or paused_at < stop) else []
        return business_add(start=spec.created_at, seconds=policy[target] * 60, calendar=calendar, pauses=pauses)

    first_due = due(0, first_response or solved_at)
    # How the customer feels about it decides both their last words and their CSAT answer.
    on_time = first_due is None or (first_response or solved_at or now) <= first_due
    rating = spec.rating or rng.choices((1, 2, 3, 4, 5), weights=RATING_WEIGHTS[on_time])[0]
    for index, (turn, at) in enumerate(zip(turns, times, strict=True), start=1):
        if turn.kind == "thanks" and rating <= 2:
            turn.kind = "unhappy"
        _message_write(world, person, spec, ticket_id, turn, at, index=index)
        if turn.direction == INBOUND:
            person.last_contact = max(person.last_contact or at, at)
    agent = spec.assignee
    solver = agent.id if agent and solved_at else None
    world.tables.tickets.add(
        ticket_id,
        person.id,
        _subject(person, spec),
        spec.status,
        spec.priority,
        spec.channel,
        agent.id if agent else None,
        team_id,
        spec.created_at,
        solved_at or times[-1],
        last_message,
        first_response,
        solved_at,
        solver,
        first_due,
        due(1, solved_at),
        paused_at,
    )
    for tag in dict.fromkeys(spec.tags):
        world.tables.ticket_tags.add(ticket_id, world.tags[tag])
    if paused_at:
        world.tables.pauses.add(ticket_id, paused_at)
    if solved_at is None:
        person.unresolved += 1
    else:
        _survey(world, person, spec, ticket_id=ticket_id, solved_at=solved_at, rating=rating)
    return ticket_id, spec.channel, spec.created_at, last_message


def _message_write(
    world: World, person: Person, spec: TicketSpec, ticket_id: int, turn: Turn, at: datetime, *, index: int
) -> None:
    channel = Channel.EMAIL if spec.channel == Channel.WEB and index > 1 else spec.channel
    agent = spec.assignee
    body = _body(world, person, spec, turn, channel, agent)
    author = agent.id if agent and (turn.direction != INBOUND or channel == Channel.PHONE) else None
    contact = person.contacts.get("email" if channel in (Channel.EMAIL, Channel.WEB) else channel, "")
    sender = contact if turn.direction == INBOUND else ""
    html, external_id, delivery, attempts, sent_at = "", "", "", 0, None
    if channel == Channel.EMAIL and turn.direction == INBOUND:
        html = "".join(f"<p>{escape(part).replace(chr(10), '<br>')}</p>" for part in body.split("\n\n"))
        external_id = f"<demo.{ticket_id}.{index}@{contact.partition('@')[2] or 'mail.example'}>"
    if turn.direction == OUTBOUND:
        delivery, attempts, sent_at = Message.Delivery.SENT, 1, at + timedelta(seconds=2)
        if channel == Channel.EMAIL:
            external_id = f"<demo.{ticket_id}.{index}@desk.example>"
    world.tables.messages.add(
        ticket_id, channel, turn.direction, author, sender, body, html, external_id, delivery, attempts, sent_at, at
    )


def _product_name(spec: TicketSpec) -> str:
    """The product the conversation is about: the one asked about, else the order's first line
    (for an exchange, its first line that comes in sizes)."""
    if spec.product:
        return spec.product[1].name
    if spec.order is None:
        return ""
    lines = [item for _, item, _ in spec.order.lines]
    sized = [item for item in lines if item.sized] if spec.topic == "exchange" else []
    return (sized or lines)[0].name


def _subject(person: Person, spec: TicketSpec) -> str:
    locale = person.locale if spec.channel != Channel.PHONE else "en"  # agents title their call notes
    words = {"order": spec.order.number if spec.order else "", "product": _product_name(spec)}
    return pb.LINES[locale][f"{spec.topic}.subject"].format(**words)[:255]


def _survey(
    world: World, person: Person, spec: TicketSpec, *, ticket_id: int, solved_at: datetime, rating: int
) -> None:
    """The CSAT survey the sweep would have sent a day after solving, credited to the agent who
    solved the ticket and their team; answered (with ``rating``) or not."""
    rng, now = world.rng, world.now
    created = solved_at + timedelta(hours=settings.DESK_CSAT_DELAY_HOURS)
    if created > now:
        return  # not due yet: the CSAT sweep sends it
    reachable_by = "email" in person.contacts or spec.channel == Channel.CHAT
    sent = created if person.consent.get("surveys") and reachable_by else None
    expires = sent + timedelta(days=settings.DESK_CSAT_EXPIRY_DAYS) if sent else None
    answered, comment = None, ""
    if sent and (spec.rating or (rng.random() < 0.6 and now - sent < timedelta(days=90))):
        answered = sent + timedelta(minutes=rng.uniform(10, 600 if spec.rating else 4000))
    if answered and answered < now:
        if rng.random() < 0.6 or spec.rating:
            comment = rng.choice(pb.CSAT_COMMENTS[person.locale][rating])
        if person.last_csat is None or person.last_csat[0] < answered:
            person.last_csat = (answered, rating)
    else:
        answered = None
    world.tables.surveys.add(
        ticket_id,
        spec.assignee.id if spec.assignee else None,
        world.teams[spec.team] if spec.team else None,
        spec.channel,
        created,
        sent,
        expires,
        answered,
        rating if answered else None,
        comment,
    )


def chat_sessions_write(world: World, person: Person, written: list[tuple[int, str, datetime, datetime]]) -> None:
    """The widget's record of a chat visitor, joined to the customer and their latest chat."""
    chats = [w for w in written if w[1] == Channel.CHAT]
    visitor = person.contacts.get("chat")
    if not chats or not visitor:
        return
    latest = max(chats, key=lambda w: w[3])
    page = world.rng.choice(world.products)[1].url
    world.tables.chats.add(visitor, person.id, latest[0], page, min(w[2] for w in chats), latest[3])
