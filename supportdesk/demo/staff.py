"""The people and the setup around the demo data: desk users, teams, tags, macros, the catalogue,
and the reset that removes all of it again."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from customers.consent import ledger_unlocked
from customers.models import (
    AuditEvent,
    ConsentRecord,
    ContactPoint,
    Customer,
    CustomerMerge,
    Event,
    Job,
    Order,
    OrderLine,
    Product,
    ProductAffinity,
    Refund,
    SuggestionFeedback,
)
from supportdesk import roles
from tickets.models import (
    Attachment,
    ChatSession,
    CSATSurvey,
    Macro,
    Message,
    Notification,
    SLABreach,
    SLAPause,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)

from .catalogue import ITEMS, Item
from .load import checks_deferred, table_wipe


@dataclass(frozen=True)
class Member:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[str, ...]


STAFF = (
    Member("agent", "Alex", "Morgan", roles.AGENT, ("Tier 1", "Billing")),
    Member("lead", "Jordan", "Lee", roles.TEAM_LEAD, ("Tier 1", "Billing")),
    Member("admin", "Sam", "Taylor", roles.ADMIN, ()),
    Member("sofia", "Sofía", "Navarro", roles.AGENT, ("Tier 1",)),
    Member("lukas", "Lukas", "Becker", roles.AGENT, ("Tier 1",)),
    Member("chloe", "Chloé", "Dubois", roles.AGENT, ("Billing",)),
)
LOGINS = ("agent", "lead", "admin")
TEAMS = ("Tier 1", "Billing")
TAGS = ("shipping", "late-delivery", "refund", "damaged", "exchange", "pre-sales", "account", "billing", "vip")
MACROS = (
    ("Where is my order", "",
     "Hi {{ customer.first_name }},\n\nThanks for your patience. I've checked order {{ order.number }}: it is on its "
     "way and I'm following it with the carrier. I'll write again as soon as it moves.\n\nBest regards,\n"
     "{{ agent.first_name }}"),
    ("Refund started", "",
     "Hi {{ customer.first_name }},\n\nI've started the refund for order {{ order.number }}. It usually shows on "
     "your statement within 3-5 business days.\n\nBest regards,\n{{ agent.first_name }}"),
    ("Late delivery: 10% off next order", "marketing",
     "Hi {{ customer.first_name }},\n\nI'm sorry order {{ order.number }} is late. As an apology, here is 10% off "
     "your next order with the code SORRY10.\n\nBest regards,\n{{ agent.first_name }}"),
    ("Ask for a photo of the damage", "",
     "Hi {{ customer.first_name }},\n\nI'm sorry something from order {{ order.number }} arrived damaged. Could "
     "you send me a photo of it and of the box? I'll arrange a replacement straight away.\n\n"
     "{{ agent.first_name }}"),
    ("Closing: anything else?", "",
     "Hi {{ customer.first_name }},\n\nI'm glad we could sort this out. I'll close this conversation now; just "
     "reply if anything else comes up.\n\nBest regards,\n{{ agent.first_name }}"),
)  # fmt: skip


def staff_ensure(*, password: str) -> dict[str, object]:
    """Create or update the demo users with ``password`` and their role groups. Idempotent."""
    roles.roles_sync()
    User = get_user_model()
    users: dict[str, object] = {}
    hashed = make_password(password)  # once: a slow hasher (argon2) would otherwise run per user
    for member in STAFF:
        user, _ = User.objects.get_or_create(username=member.username)
        user.first_name, user.last_name = member.first_name, member.last_name
        user.email = f"{member.username}@desk.example"
        user.is_active = True
        user.is_staff = user.is_superuser = member.role == roles.ADMIN
        user.password = hashed
        user.save()
        user.groups.add(Group.objects.get(name=member.role))
        users[member.username] = user
    return users


def setup_ensure(*, users: dict[str, object]) -> tuple[dict[str, int], dict[str, int], list[tuple[int, Item]]]:
    """Teams with their members, ticket tags, macros and the catalogue. Returns the ids of the
    teams and tags by name, and the products with their ids."""
    team_ids: dict[str, int] = {}
    for name in TEAMS:
        team, _ = Team.objects.update_or_create(name=name, defaults={"lead": users["lead"]})
        team.members.add(*(users[m.username] for m in STAFF if name in m.teams))
        team_ids[name] = team.pk
    tag_ids = {name: Tag.objects.get_or_create(name=name)[0].pk for name in TAGS}
    for name, purpose, body in MACROS:
        Macro.objects.update_or_create(name=name, defaults={"body": body, "purpose": purpose, "active": True})
    products = []
    for item in ITEMS:
        product, _ = Product.objects.update_or_create(
            source="store",
            external_id=item.sku.replace("SKU", "P"),
            defaults={
                "sku": item.sku,
                "name": item.name,
                "category": item.category,
                "price": item.price,
                "currency": "EUR",
                "url": item.url,
                "active": True,
            },
        )
        products.append((product.pk, item))
    return team_ids, tag_ids, products


# Leaf tables first. Everything here is demo data or hangs off it; configuration (consent
# purposes and wordings, SLA policies, calendars, retention rules) is kept.
WIPED = (
    Attachment, Message, TicketEvent, Notification, SLABreach, SLAPause, CSATSurvey, ChatSession, Ticket.tags.through,
    Ticket, SuggestionFeedback, CustomerMerge, Job, AuditEvent, ConsentRecord, Event, Refund, OrderLine, Order,
    ContactPoint, ProductAffinity, Product, Customer,
)  # fmt: skip


def demo_reset() -> dict[str, int]:
    """Delete all demo data and the demo users. Returns the rows deleted per table."""
    deleted: dict[str, int] = {}
    with transaction.atomic(), ledger_unlocked():
        with checks_deferred(*WIPED):
            for model in WIPED:
                deleted[model._meta.db_table] = table_wipe(model)
        Macro.objects.filter(name__in=[name for name, _, _ in MACROS]).delete()
        Team.objects.filter(name__in=TEAMS).delete()
        Tag.objects.filter(name__in=TAGS).delete()
        deleted["users"] = get_user_model().objects.filter(username__in=[m.username for m in STAFF]).delete()[0]
    return deleted
