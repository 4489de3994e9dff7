"""Run every registered rule over one customer's context, then filter and rank.

``suggestions_rank`` is pure (no queries): for each rule, the customer's variant (stable
hash), ``evaluate``; a suggestion needing a consent purpose the customer has not granted is
*blocked* and kept aside with the reason, so the agent can see why it is missing; one that an
agent dismissed within its cap, snoozed, or just accepted is *hidden*; the rest are ranked by
score (ties by rule id) and the top ``limit`` shown.

A rule that raises is logged and skipped: one broken rule must not take the ticket page down.
"""

import logging
from dataclasses import dataclass, field

from .context import CustomerContext
from .registry import Rule, Suggestion, setting, suggestion_registry
from .rules import CUSTOMER_RULES  # noqa: F401 - importing registers the customers rules
from .variants import variant_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockedSuggestion:
    """A suggestion held back for want of consent; ``why`` is for the agent to read."""

    suggestion: Suggestion
    missing: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class SuggestionPanel:
    """What the suggestions panel shows for one customer (and conversation)."""

    customer_id: int
    ticket_id: int | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    blocked: list[BlockedSuggestion] = field(default_factory=list)
    hidden: int = 0  # dismissed, snoozed or just accepted: not shown for now
    more: int = 0  # allowed but beyond the top few
    purpose_names: dict[str, str] = field(default_factory=dict)


def rule_variant(rule: Rule, context: CustomerContext) -> str:
    return variant_for(rule_id=rule.id, public_id=context.customer.public_id, variants=rule.variants)


def rule_run(rule: Rule, context: CustomerContext) -> Suggestion | None:
    """One rule's suggestion for this context, tied to the customer; None if it does not fire
    or fails (logged)."""
    try:
        suggestion = rule.evaluate(context, rule_variant(rule, context))
    except Exception:
        logger.exception("Suggestion rule %s failed for customer %s", rule.id, context.customer.pk)
        return None
    if suggestion is None:
        return None
    return suggestion.for_customer(context.customer.pk)


def consent_missing(suggestion: Suggestion, context: CustomerContext) -> tuple[str, ...]:
    return tuple(purpose for purpose in suggestion.purposes if purpose not in context.granted)


def blocked_why(missing: tuple[str, ...], context: CustomerContext) -> str:
    return "; ".join(
        context.consent_notes.get(purpose, f"Unknown or inactive consent purpose {purpose!r}") for purpose in missing
    )


def suggestions_rank(
    context: CustomerContext, *, limit: int | None = None, rules: list[Rule] | None = None
) -> SuggestionPanel:
    limit = setting("DESK_SUGGESTIONS_SHOWN") if limit is None else limit
    allowed: list[Suggestion] = []
    blocked: list[BlockedSuggestion] = []
    hidden = 0
    for rule in rules if rules is not None else suggestion_registry.all():
        suggestion = rule_run(rule, context)
        if suggestion is None:
            continue
        missing = consent_missing(suggestion, context)
        if missing:
            blocked.append(BlockedSuggestion(suggestion, missing, blocked_why(missing, context)))
        elif context.hidden_by(suggestion.rule, suggestion.subject):
            hidden += 1
        else:
            allowed.append(suggestion)
    allowed.sort(key=lambda s: (-s.score, s.rule))
    blocked.sort(key=lambda b: (-b.suggestion.score, b.suggestion.rule))
    return SuggestionPanel(
        customer_id=context.customer.pk,
        ticket_id=context.ticket_id,
        suggestions=allowed[: max(0, limit)],
        blocked=blocked,
        hidden=hidden,
        more=max(0, len(allowed) - limit),
        purpose_names=context.purpose_names,
    )
