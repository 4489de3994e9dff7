"""A/B variants: a customer stays in one variant of a rule for good.

The variant is a stable hash of (rule id, customer public id): the same on every page view,
process and machine, with no table to keep, and independent between rules (a customer in
variant "a" of one rule is not thereby in "a" of every other). Feedback stores the variant, so
acceptance (``feedback.acceptance_by_rule``) and later CSAT compare per variant.
"""

import hashlib
from collections.abc import Sequence
from uuid import UUID


def variant_for(*, rule_id: str, public_id: UUID | str, variants: Sequence[str]) -> str:
    """The variant of ``rule_id`` this customer sees; "" for a rule without variants."""
    if not variants:
        return ""
    digest = hashlib.sha256(f"{rule_id}:{public_id}".encode()).digest()
    return variants[int.from_bytes(digest[:8], "big") % len(variants)]
