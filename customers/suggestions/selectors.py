"""Reads the pages and the API share: a customer's suggestions, within 10 queries whatever the
history size (the context is built once; see ``context.py`` for the query list)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from customers.consent import ConsentState
from customers.models import Customer

from .context import context_build
from .engine import SuggestionPanel, blocked_why, consent_missing, rule_run, suggestions_rank
from .registry import Suggestion, SuggestionRef, suggestion_registry


def _closed(customer: Customer) -> bool:
    # Nothing is suggested about an erased person, nor on a record merged into another.
    return bool(customer.erased or customer.merged_into_id or customer.pk is None)


def suggestion_panel(
    *,
    customer: Customer,
    agent: AbstractBaseUser | None = None,
    ticket: Any = None,
    ticket_id: int | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    consents: dict[str, ConsentState] | None = None,
    contact_channels: Iterable[str] | None = None,
) -> SuggestionPanel:
    """The suggestions shown for ``customer`` (beside ``ticket`` when the agent is in one), the
    ones held back for consent (with why), and how many agents' feedback hides.

    ``agent`` is who is looking; it is accepted for symmetry with the feedback services (the
    ranking does not depend on it today). A page holding the customer's ``CustomerProfile``
    passes ``consents=profile.consents, contact_channels=profile.reachable`` (three queries fewer).
    """
    if _closed(customer):
        return SuggestionPanel(customer_id=customer.pk, ticket_id=getattr(ticket, "pk", None) or ticket_id)
    context = context_build(
        customer=customer,
        ticket=ticket,
        ticket_id=ticket_id,
        now=now,
        consents=consents,
        contact_channels=contact_channels,
    )
    return suggestions_rank(context, limit=limit)


def suggestions_for_customer(
    *,
    customer: Customer,
    agent: AbstractBaseUser | None = None,
    ticket: Any = None,
    limit: int | None = None,
) -> list[Suggestion]:
    """The top suggestions for ``customer``, best first (what the panel and the API show)."""
    return suggestion_panel(customer=customer, agent=agent, ticket=ticket, limit=limit).suggestions


@dataclass(frozen=True)
class Found:
    """A suggestion looked up again by its reference: as it stands now, and whether consent
    lets it through (``missing`` purposes, ``why`` not)."""

    suggestion: Suggestion | None
    missing: tuple[str, ...] = ()
    why: str = ""


def suggestion_find(
    *, ref: SuggestionRef, customer: Customer, ticket_id: int | None = None, now: datetime | None = None
) -> Found:
    """Run the one rule ``ref`` names for ``customer`` again: the suggestion it makes now if it
    is still about the same subject, with the consent check of the moment."""
    rule = suggestion_registry.get(ref.rule)
    if rule is None or _closed(customer):
        return Found(None)
    context = context_build(customer=customer, ticket_id=ticket_id, now=now)
    suggestion = rule_run(rule, context)
    if suggestion is None or suggestion.subject != ref.subject:
        return Found(None)
    missing = consent_missing(suggestion, context)
    return Found(suggestion, missing, blocked_why(missing, context) if missing else "")
