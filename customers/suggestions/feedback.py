"""Agents' verdicts on suggestions, and acceptance per rule and variant.

Every verdict is a ``SuggestionFeedback`` row for the customer, rule, rule version, variant,
subject and agent. Its ``until`` is how long the suggestion stays hidden for this customer:
- dismissed: the rule's cap (``DESK_SUGGESTIONS_DISMISS_DAYS``, 7 days; 30 for ``cross_sell``,
  which also never offers that product again within the cap); a reason is required;
- snoozed: until the moment the agent chose (at most ``DESK_SUGGESTIONS_MAX_SNOOZE_DAYS``);
- accepted: ``DESK_SUGGESTIONS_ACCEPT_HIDE_HOURS`` (a day), so the done action leaves the panel.

Accepting re-runs the rule first: a suggestion that no longer applies (the order arrived) or
that consent now forbids is refused, and the reply text is rendered for this customer with the
macro renderer (placeholders filled safely).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from customers.models import Customer, SuggestionFeedback

from .registry import Suggestion, SuggestionRef, action_render, setting, suggestion_registry
from .selectors import suggestion_find

Verdict = SuggestionFeedback.Verdict
REASON_MAX = 255


def _customer_for(ref: SuggestionRef) -> Customer:
    customer = Customer.objects.filter(pk=ref.customer_id).first()
    if customer is None:
        raise ValidationError({"id": "This suggestion's customer no longer exists."}, code="invalid")
    if customer.erased:
        raise ValidationError({"id": "This customer was erased."}, code="invalid")
    return customer


@transaction.atomic
def suggestion_feedback_record(
    *,
    ref: SuggestionRef,
    verdict: str,
    agent: AbstractBaseUser | None,
    reason: str = "",
    until: datetime | None = None,
    customer: Customer | None = None,
    now: datetime | None = None,
) -> SuggestionFeedback:
    """Store one verdict and work out how long it hides the suggestion (see the module doc).

    Raises ``ValidationError`` for an unknown rule or verdict, a dismissal without a reason,
    or a snooze that is not in the future or too far in it.
    """
    now = now or timezone.now()
    rule = suggestion_registry.get(ref.rule)
    if rule is None:
        raise ValidationError({"id": f"Unknown suggestion rule {ref.rule!r}."}, code="invalid")
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"Use one of {', '.join(Verdict.values)}."}, code="invalid")
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"At most {REASON_MAX} characters."}, code="max_length")
    if verdict == Verdict.DISMISSED:
        if not reason:
            raise ValidationError({"reason": "Say why you dismiss it; it helps improve the suggestions."})
        until = now + timedelta(days=rule.dismiss_for_days)
    elif verdict == Verdict.SNOOZED:
        longest = timedelta(days=setting("DESK_SUGGESTIONS_MAX_SNOOZE_DAYS"))
        if until is None or until <= now:
            raise ValidationError({"until": "Snooze until a moment in the future."})
        if until > now + longest:
            raise ValidationError({"until": f"Snooze for at most {longest.days} days."})
    else:
        until = now + timedelta(hours=setting("DESK_SUGGESTIONS_ACCEPT_HIDE_HOURS"))
    customer = customer or _customer_for(ref)
    if agent is not None and not agent.is_authenticated:
        agent = None
    return SuggestionFeedback.objects.create(
        customer=customer,
        rule=ref.rule,
        rule_version=ref.rule_version,
        variant=ref.variant[:20],
        subject=ref.subject[:100],
        verdict=verdict,
        reason=reason,
        agent=agent,
        created_at=now,
        until=until,
    )


@dataclass(frozen=True)
class Accepted:
    """An accepted suggestion: the stored verdict, the suggestion as it stands, and its reply
    text rendered for this customer (``problems`` say what the agent must fix before sending)."""

    feedback: SuggestionFeedback
    suggestion: Suggestion
    text: str = ""
    problems: list[str] = field(default_factory=list)


def suggestion_accept(*, ref: SuggestionRef, agent: AbstractBaseUser | None, ticket_id: int | None = None) -> Accepted:
    """Accept a suggestion: check it still applies and is allowed, store the verdict, and
    return the reply text to insert into the composer."""
    customer = _customer_for(ref)
    found = suggestion_find(ref=ref, customer=customer, ticket_id=ticket_id)
    if found.suggestion is None:
        raise ValidationError({"id": "This suggestion no longer applies; the panel has been refreshed."})
    if found.missing:
        raise ValidationError({"id": f"This suggestion cannot be used: {found.why}."}, code="consent")
    feedback = suggestion_feedback_record(
        ref=found.suggestion.ref, verdict=Verdict.ACCEPTED, agent=agent, customer=customer
    )
    text, problems = action_render(
        text=found.suggestion.action,
        customer=customer,
        ticket_id=ticket_id,
        agent=agent if agent is not None and agent.is_authenticated else None,
    )
    return Accepted(feedback=feedback, suggestion=found.suggestion, text=text, problems=problems)


def suggestion_dismiss(*, ref: SuggestionRef, agent: AbstractBaseUser | None, reason: str) -> SuggestionFeedback:
    return suggestion_feedback_record(ref=ref, verdict=Verdict.DISMISSED, agent=agent, reason=reason)


def suggestion_snooze(
    *, ref: SuggestionRef, agent: AbstractBaseUser | None, until: datetime, reason: str = ""
) -> SuggestionFeedback:
    return suggestion_feedback_record(ref=ref, verdict=Verdict.SNOOZED, agent=agent, until=until, reason=reason)


def acceptance_by_rule(*, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Verdicts per rule and variant in [since, until), one aggregate query.

    ``acceptance`` is accepted / (accepted + dismissed) in per cent (None without either),
    the same definition as the lead dashboards; snoozes are counted apart.
    """
    rows = (
        SuggestionFeedback.objects.filter(created_at__gte=since, created_at__lt=until)
        .values("rule", "variant")
        .order_by("rule", "variant")
        .annotate(
            accepted=Count("pk", filter=Q(verdict=Verdict.ACCEPTED)),
            dismissed=Count("pk", filter=Q(verdict=Verdict.DISMISSED)),
            snoozed=Count("pk", filter=Q(verdict=Verdict.SNOOZED)),
        )
    )
    out = []
    for row in rows:
        decided = row["accepted"] + row["dismissed"]
        out.append(
            {
                **row,
                "total": decided + row["snoozed"],
                "acceptance": round(100 * row["accepted"] / decided, 1) if decided else None,
            }
        )
    return out
