"""What every demo generator shares: the seeded randomness, the clock, the reference rows already
in the database, the id counters and the tables being filled."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from customers.models import (
    AuditEvent,
    ConsentRecord,
    ContactPoint,
    Customer,
    Event,
    Order,
    OrderLine,
    Refund,
)
from tickets.models import ChatSession, CSATSurvey, Message, SLAPause, Ticket
from tickets.sla import Calendar

from .catalogue import Item
from .load import Table


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    first_name: str


# Each buffer: the model and the fields its rows give, in order. Parents come before children.
LAYOUT = (
    ("customers", Customer, "id public_id first_name last_name preferred_name locale timezone country created_at "
     "lifetime_value order_count last_order_at last_contact_at churn_risk churn_factors"),
    ("contacts", ContactPoint, "customer_id channel value is_primary verified created_at"),
    ("consents", ConsentRecord, "customer_id purpose_id granted source actor_id wording_id note recorded_at"),
    ("audits", AuditEvent, "actor_id actor_label action customer_id occurred_at details"),
    ("orders", Order, "id customer_id source external_id number status currency total placed_at promised_delivery "
     "shipped_at delivered_at carrier tracking_number tracking_url"),
    ("lines", OrderLine, "order_id position product_id sku name quantity unit_price"),
    ("refunds", Refund, "order_id source external_id kind status amount reason requested_at completed_at"),
    ("events", Event, "customer_id kind occurred_at payload"),
    ("tickets", Ticket, "id customer_id subject status priority channel assignee_id team_id created_at updated_at "
     "last_message_at first_response_at solved_at solved_by_id first_response_due_at resolution_due_at "
     "sla_paused_at"),
    ("ticket_tags", Ticket.tags.through, "ticket_id tag_id"),
    ("messages", Message, "ticket_id channel direction author_id sender body body_html external_id delivery "
     "delivery_attempts sent_at created_at"),
    ("pauses", SLAPause, "ticket_id started_at"),
    ("surveys", CSATSurvey, "ticket_id agent_id team_id channel created_at sent_at expires_at answered_at rating "
     "comment"),
    ("chats", ChatSession, "visitor_id customer_id ticket_id page_url created_at last_seen_at"),
)  # fmt: skip


class Tables:
    """One buffer per table (see ``LAYOUT``), flushed parents first."""

    customers: Table
    contacts: Table
    consents: Table
    audits: Table
    orders: Table
    lines: Table
    refunds: Table
    events: Table
    tickets: Table
    ticket_tags: Table
    messages: Table
    pauses: Table
    surveys: Table
    chats: Table

    def __init__(self, now: datetime) -> None:
        self.order: list[Table] = []
        for name, model, fields in LAYOUT:
            table = Table(model, fields.split(), now)
            setattr(self, name, table)
            self.order.append(table)

    def flush(self) -> None:
        for table in self.order:
            table.flush()

    def counts(self) -> dict[str, int]:
        return {table.model._meta.verbose_name_plural: table.written for table in self.order}


@dataclass
class World:
    rng: random.Random
    now: datetime
    today: date
    names: dict[str, tuple[list[str], list[str]]]
    products: list[tuple[int, Item]]
    agents: list[Agent]
    teams: dict[str, int]
    tags: dict[str, int]
    # purpose code -> (purpose id, current wording id, granted by default)
    purposes: dict[str, tuple[int, int, bool]]
    # priority -> (first response minutes, resolution minutes), from the active SLA policies
    sla: dict[str, tuple[int, int]]
    calendars: dict[int | None, Calendar | None]
    tables: Tables
    ids: dict[str, int]
    used_contacts: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        value = self.ids[kind]
        self.ids[kind] = value + 1
        return value

    def sequence(self, name: str) -> int:
        """A counter that cycles choices evenly (e.g. consent sources), so small demos see them all."""
        value = self.counters.get(name, 0)
        self.counters[name] = value + 1
        return value

    def agent(self, username: str) -> Agent:
        return next(a for a in self.agents if a.username == username)
