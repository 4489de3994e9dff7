"""Duplicate customers: finding them, merging two, and undoing a merge exactly.

Nothing here merges on its own. ``merge_candidates`` only proposes, with the evidence; an agent
with ``customers.merge_customer`` picks the survivor and, field by field, which value wins, and
``customer_merge`` does it. Every merge leaves a ``CustomerMerge`` whose snapshot lists each row
it moved and each value it overwrote, so ``customer_merge_undo`` puts everything back.

What moves is open to other apps: a *mover* moves one kind of row from the merged customer to
the survivor and back. This module registers the customers app's own (contact points, orders,
events, consent records, suggestion feedback); ``tickets`` registers tickets and chat sessions
from its ``AppConfig.ready()``. Audit events stay where they were written.
"""

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .consent import ledger_unlocked
from .models import (
    AuditEvent,
    Channel,
    ConsentRecord,
    ContactPoint,
    Customer,
    CustomerMerge,
    Event,
    Order,
    SuggestionFeedback,
)
from .services import audit_record, customer_figures_refresh

# The profile fields an agent chooses between, in the order the merge page shows them.
MERGE_FIELDS = ("first_name", "last_name", "preferred_name", "locale", "timezone", "country")
SURVIVOR, MERGED = "survivor", "merged"
CHUNK = 500


# Movers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """Moves one kind of row between customers.

    ``move(survivor, merged)`` moves the merged customer's rows and returns what undo needs
    (JSON); ``restore(survivor, merged, data)`` moves exactly those rows back (those that still
    exist); ``count(customer)`` says how many rows would move, for the merge page.
    """

    name: str
    label: str
    move: Callable[[Customer, Customer], Any]
    restore: Callable[[Customer, Customer, Any], None]
    count: Callable[[Customer], int]


_movers: dict[str, Mover] = {}


def merge_mover_register(mover: Mover) -> None:
    """Add a mover; the same name again replaces it."""
    _movers[mover.name] = mover


def merge_movers() -> list[Mover]:
    return list(_movers.values())


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def fk_mover(*, name: str, label: str, model: type[models.Model], field_name: str = "customer") -> Mover:
    """A mover for rows that point at a customer through one foreign key."""

    def move(survivor: Customer, merged: Customer) -> list[int]:
        ids = list(model.objects.filter(**{field_name: merged}).order_by("pk").values_list("pk", flat=True))
        for chunk in _chunks(ids):
            model.objects.filter(pk__in=chunk).update(**{field_name: survivor})
        return ids

    def restore(survivor: Customer, merged: Customer, ids: Any) -> None:
        for chunk in _chunks(list(ids or [])):
            model.objects.filter(pk__in=chunk, **{field_name: survivor}).update(**{field_name: merged})

    def count(customer: Customer) -> int:
        return model.objects.filter(**{field_name: customer}).count()

    return Mover(name=name, label=label, move=move, restore=restore, count=count)


def _contact_points_move(survivor: Customer, merged: Customer) -> list[dict]:
    """Contact points join the survivor; one it already has a primary for stops being primary."""
    points = list(ContactPoint.objects.filter(customer=merged).order_by("pk"))
    primary_channels = set(
        ContactPoint.objects.filter(customer=survivor, is_primary=True).values_list("channel", flat=True)
    )
    moved = []
    for point in points:
        moved.append({"id": point.pk, "is_primary": point.is_primary})
        demote = point.is_primary and point.channel in primary_channels
        ContactPoint.objects.filter(pk=point.pk).update(
            customer=survivor, is_primary=False if demote else point.is_primary
        )
    return moved


def _contact_points_restore(survivor: Customer, merged: Customer, moved: Any) -> None:
    for entry in moved or []:
        ContactPoint.objects.filter(pk=entry["id"], customer=survivor).update(
            customer=merged, is_primary=entry["is_primary"]
        )


_consent_fk = fk_mover(name="consents", label="consent decisions", model=ConsentRecord)


def _consents_move(survivor: Customer, merged: Customer) -> list[int]:
    # The ledger is append-only; moving a decision to the surviving record is the one rewrite
    # besides erasure that keeps its meaning (same person, same decision, same time).
    with ledger_unlocked():
        return _consent_fk.move(survivor, merged)


def _consents_restore(survivor: Customer, merged: Customer, ids: Any) -> None:
    with ledger_unlocked():
        _consent_fk.restore(survivor, merged, ids)


merge_mover_register(
    Mover(
        name="contact_points",
        label="contact points",
        move=_contact_points_move,
        restore=_contact_points_restore,
        count=lambda customer: ContactPoint.objects.filter(customer=customer).count(),
    )
)
merge_mover_register(fk_mover(name="orders", label="orders", model=Order))
merge_mover_register(fk_mover(name="events", label="browsing events", model=Event))
merge_mover_register(
    Mover(
        name="consents",
        label="consent decisions",
        move=_consents_move,
        restore=_consents_restore,
        count=_consent_fk.count,
    )
)
merge_mover_register(fk_mover(name="suggestion_feedback", label="suggestion feedback", model=SuggestionFeedback))


# Merge and undo --------------------------------------------------------------------------------


def merge_field_defaults(*, survivor: Customer, merged: Customer) -> dict[str, str]:
    """The survivor's value for each field, unless it is empty and the other's is not."""
    return {
        name: MERGED if not getattr(survivor, name) and getattr(merged, name) else SURVIVOR for name in MERGE_FIELDS
    }


def merge_survivor_suggested(*, first: Customer, second: Customer) -> Customer:
    """The record the merge page proposes to keep: the one with more orders, then more
    spending, then the older one (it has the longer history). Only a proposal: the agent
    chooses, and nothing is merged without them."""
    return min(
        (first, second),
        key=lambda c: (-c.order_count, -c.lifetime_value, c.created_at, c.pk),
    )


def _check_mergeable(survivor: Customer, merged: Customer) -> None:
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": "A customer cannot be merged into itself."})
    for role, customer in (("survivor", survivor), ("merged", merged)):
        if customer.merged_into_id:
            raise ValidationError({role: f"{customer} was already merged into another customer."})
        if customer.erased:
            raise ValidationError({role: "An erased customer cannot be merged."})


@transaction.atomic
def customer_merge(
    *,
    survivor: Customer,
    merged: Customer,
    actor: AbstractBaseUser,
    field_choices: dict[str, str] | None = None,
    reason: str = "",
    actor_label: str = "",
) -> CustomerMerge:
    """Fold ``merged`` into ``survivor``.

    ``field_choices`` maps each of ``MERGE_FIELDS`` to ``"survivor"`` or ``"merged"``: whose
    value the survivor keeps (missing fields keep the survivor's). Every registered mover moves
    its rows; ``merged`` then points at the survivor (``merged_into``) and stays as a record.
    Writes a ``CustomerMerge`` with the snapshot for undo, audits both customers (as ``actor``,
    or ``actor_label`` for an API key), and
    recomputes both customers' figures. Raises ``ValidationError`` for an impossible merge.
    """
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    if len(locked) != 2:
        raise ValidationError({"merged": "Both customers must exist and be distinct."})
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    _check_mergeable(survivor, merged)
    choices = {**merge_field_defaults(survivor=survivor, merged=merged), **(field_choices or {})}
    unknown = set(choices) - set(MERGE_FIELDS)
    if unknown:
        raise ValidationError({"field_choices": f"Unknown fields: {', '.join(sorted(unknown))}."})
    if bad := {name for name, side in choices.items() if side not in (SURVIVOR, MERGED)}:
        raise ValidationError({"field_choices": f"Choose survivor or merged for: {', '.join(sorted(bad))}."})

    before = {name: getattr(survivor, name) for name in MERGE_FIELDS}
    before["last_contact_at"] = survivor.last_contact_at.isoformat() if survivor.last_contact_at else None
    for name, side in choices.items():
        if side == MERGED:
            setattr(survivor, name, getattr(merged, name))
    survivor.full_clean(exclude=["merged_into"])
    if merged.last_contact_at and (not survivor.last_contact_at or merged.last_contact_at > survivor.last_contact_at):
        survivor.last_contact_at = merged.last_contact_at
    survivor.save(update_fields=[*MERGE_FIELDS, "last_contact_at", "updated_at"])

    moved = {mover.name: mover.move(survivor, merged) for mover in merge_movers()}
    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])

    merge = CustomerMerge.objects.create(
        survivor=survivor,
        merged=merged,
        actor=actor if actor.is_authenticated else None,
        reason=reason.strip()[:255],
        field_choices=choices,
        snapshot={"survivor_before": before, "moved": moved},
    )
    details = {"merge": merge.pk, "survivor": survivor.pk, "merged": merged.pk, "fields": choices}
    for customer in (survivor, merged):
        audit_record(
            action=AuditEvent.Action.CUSTOMER_MERGED,
            customer=customer,
            actor=actor,
            actor_label=actor_label,
            details=details,
        )
    customer_figures_refresh(customer=survivor)
    customer_figures_refresh(customer=merged)
    return merge


def merge_undo_blocker(merge: CustomerMerge) -> str:
    """Why this merge cannot be undone now, or "" when it can."""
    if merge.undone_at:
        return "This merge was already undone."
    if merge.merged.merged_into_id != merge.survivor_id:
        return "The merged customer no longer points at the survivor."
    if merge.survivor.merged_into_id:
        return "The survivor was itself merged since; undo that merge first."
    return ""


@transaction.atomic
def customer_merge_undo(*, merge: CustomerMerge, actor: AbstractBaseUser, actor_label: str = "") -> CustomerMerge:
    """Reverse ``merge`` exactly: the survivor's overwritten fields get their old values back,
    every row the merge moved (and that still exists) returns to the merged customer, and the
    merged customer stands alone again. Audits both customers and refreshes their figures."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[merge.survivor_id, merge.merged_id])}
    survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
    merge.survivor, merge.merged = survivor, merged
    if blocker := merge_undo_blocker(merge):
        raise ValidationError({"merge": blocker})

    snapshot = merge.snapshot or {}
    movers = {mover.name: mover for mover in merge_movers()}
    for name, data in (snapshot.get("moved") or {}).items():
        if name in movers:
            movers[name].restore(survivor, merged, data)
    before = snapshot.get("survivor_before") or {}
    for name in MERGE_FIELDS:
        if name in before:
            setattr(survivor, name, before[name])
    if "last_contact_at" in before:
        survivor.last_contact_at = parse_datetime(before["last_contact_at"]) if before["last_contact_at"] else None
    survivor.save(update_fields=[*MERGE_FIELDS, "last_contact_at", "updated_at"])
    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])

    merge.undone_at = timezone.now()
    merge.undone_by = actor if actor.is_authenticated else None
    merge.save(update_fields=["undone_at", "undone_by"])
    details = {"merge": merge.pk, "survivor": survivor.pk, "merged": merged.pk}
    for customer in (survivor, merged):
        audit_record(
            action=AuditEvent.Action.MERGE_UNDONE,
            customer=customer,
            actor=actor,
            actor_label=actor_label,
            details=details,
        )
    customer_figures_refresh(customer=survivor)
    customer_figures_refresh(customer=merged)
    return merge


def merge_preview(*, merged: Customer) -> list[tuple[str, int]]:
    """What a merge of ``merged`` would move: (label, how many) per mover, one query each."""
    return [(mover.label, mover.count(merged)) for mover in merge_movers()]


# Candidates ------------------------------------------------------------------------------------

# Other apps may find order numbers in what customers wrote (tickets: message bodies).
# A provider gets customer ids and order numbers and returns {customer id: numbers mentioned}.
OrderMentions = Callable[[list[int], list[str]], dict[int, set[str]]]
_order_mention_providers: dict[str, OrderMentions] = {}
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def merge_order_mentions_register(name: str, provider: OrderMentions) -> None:
    _order_mention_providers[name] = provider


@dataclass
class MergeCandidate:
    customer: Customer
    evidence: list[str] = field(default_factory=list)
    strong: bool = False  # a shared mailbox or phone, rather than a name plus a signal
    undone_before: bool = False


def _mailbox(value: str) -> tuple[str, str]:
    """(local part without +tag, domain); Gmail ignores dots in the local part too."""
    local, _, domain = value.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), GMAIL_DOMAINS[0]
    return local, domain


def _phone_tail(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-9:] if len(digits) >= 9 else ""


def _near_contact_query(points: list[ContactPoint]) -> Q | None:
    query = Q()
    for point in points:
        if point.channel == Channel.EMAIL and "@" in point.value:
            local, _, domain = point.value.partition("@")
            base = local.split("+", 1)[0]
            domains = GMAIL_DOMAINS if domain in GMAIL_DOMAINS else (domain,)
            for candidate_domain in domains:
                query |= Q(channel=Channel.EMAIL, value=f"{base}@{candidate_domain}")
                query |= Q(channel=Channel.EMAIL, value__startswith=f"{base}+", value__endswith=f"@{candidate_domain}")
                if candidate_domain in GMAIL_DOMAINS:
                    query |= Q(channel=Channel.EMAIL, value=f"{base.replace('.', '')}@{candidate_domain}")
        elif point.channel == Channel.PHONE and (tail := _phone_tail(point.value)):
            query |= Q(channel=Channel.PHONE, value__endswith=tail)
    return query or None


def _letters(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z]", "", text)


def _similar_local_parts(ours: Iterable[str], theirs: Iterable[str]) -> tuple[str, str] | None:
    for mine in ours:
        for other in theirs:
            a, b = _letters(mine.split("@")[0]), _letters(other.split("@")[0])
            if len(a) < 3 or len(b) < 3:
                continue
            if a in b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8:
                return mine, other
    return None


def merge_candidates(*, customer: Customer, limit: int = 5) -> list[MergeCandidate]:
    """Customers who may be the same person as ``customer``, each with the evidence.

    A candidate shares a mailbox (the same address up to case, +tags and Gmail dots) or a
    phone number (the same last nine digits) with the customer, or has the same full name
    (ignoring case) plus one more signal: the same country, a similar email local part, or an
    order number of one that appears in the other's orders or messages. Merged-away and
    erased customers are never proposed. At most seven queries, whatever the data size.
    """
    if customer.erased or customer.merged_into_id:
        return []
    points = list(customer.contact_points.all())
    candidates: dict[int, MergeCandidate] = {}

    near = _near_contact_query(points)
    if near is not None:
        own = {(p.channel, p.value) for p in points}
        matches = (
            ContactPoint.objects.filter(near)
            .exclude(customer=customer)
            .filter(customer__merged_into__isnull=True, customer__erased=False)
            .select_related("customer")[:50]
        )
        for match in matches:
            if (match.channel, match.value) in own:
                continue
            entry = candidates.setdefault(match.customer_id, MergeCandidate(match.customer))
            entry.strong = True
            if match.channel == Channel.EMAIL:
                entry.evidence.append(f"Email {match.value} is the same mailbox as this customer's address")
            else:
                entry.evidence.append(f"Phone {match.value} ends with the same nine digits as this customer's number")

    first, last = customer.first_name.strip(), customer.last_name.strip()
    if first and last:
        namesakes = list(
            Customer.objects.filter(first_name__iexact=first, last_name__iexact=last)
            .exclude(pk=customer.pk)
            .filter(merged_into__isnull=True, erased=False)
            .prefetch_related(
                "contact_points", models.Prefetch("orders", queryset=Order.objects.only("id", "number", "customer_id"))
            )
            .order_by("pk")[:20]
        )
        if namesakes:
            our_numbers = set(Order.objects.filter(customer=customer).values_list("number", flat=True)[:100])
            their_numbers = {n.pk: {o.number for o in n.orders.all()} for n in namesakes}
            mentions: dict[int, set[str]] = {}
            wanted_numbers = sorted(our_numbers | set().union(*their_numbers.values()))
            if wanted_numbers:
                for provider in _order_mention_providers.values():
                    for customer_id, found in provider([customer.pk, *their_numbers], wanted_numbers).items():
                        mentions.setdefault(customer_id, set()).update(found)
            our_emails = [p.value for p in points if p.channel == Channel.EMAIL]
            for namesake in namesakes:
                signals = []
                if customer.country and namesake.country == customer.country:
                    signals.append(f"same country ({customer.country})")
                their_emails = [p.value for p in namesake.contact_points.all() if p.channel == Channel.EMAIL]
                if pair := _similar_local_parts(our_emails, their_emails):
                    signals.append(f"similar email addresses ({pair[0]} and {pair[1]})")
                shared = (
                    (our_numbers & their_numbers[namesake.pk])
                    | (our_numbers & mentions.get(namesake.pk, set()))
                    | (their_numbers[namesake.pk] & mentions.get(customer.pk, set()))
                )
                if shared:
                    signals.append("order " + ", ".join(f"#{n}" for n in sorted(shared)[:3]) + " appears for both")
                if signals:
                    entry = candidates.setdefault(namesake.pk, MergeCandidate(namesake))
                    entry.evidence.append(f"Same name ({namesake.full_name}) and " + "; ".join(signals))

    if candidates:
        undone = CustomerMerge.objects.filter(undone_at__isnull=False).filter(
            Q(survivor=customer, merged_id__in=candidates) | Q(merged=customer, survivor_id__in=candidates)
        )
        for survivor_id, merged_id in undone.values_list("survivor_id", "merged_id"):
            other = merged_id if survivor_id == customer.pk else survivor_id
            if other in candidates:
                candidates[other].undone_before = True
    ranked = sorted(candidates.values(), key=lambda c: (not c.strong, -len(c.evidence), c.customer.pk))
    return ranked[:limit]
