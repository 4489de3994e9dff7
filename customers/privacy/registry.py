"""Extension points through which other apps take part in privacy work.

``customers`` never imports ``tickets``; instead ``tickets`` registers, from its
``AppConfig.ready()`` (``tickets/privacy.py``):

- a **privacy contribution**: what it adds to a customer's export, how it erases or anonymises
  the person in its tables, and for each of its models that lead to a customer, how export and
  erasure treat it (the coverage test fails for a model nobody declared);
- **retention handlers**: a rule kind it carries out (anonymising closed tickets);
- an **evidence resolver**: turns a message id an agent points at into "message 123 on ticket
  45", refusing a message that is not the customer's.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model

from ..models import Customer
from .scope import PrivacyScope


@dataclass(frozen=True)
class PrivacyContribution:
    name: str
    # Sections to add to the export, e.g. {"tickets": [...], "chat_sessions": [...]}.
    export: Callable[[PrivacyScope], dict[str, Any]]
    # Erase or anonymise the person; returns counts of what it touched, e.g. {"messages": 12}.
    erase: Callable[[PrivacyScope], dict[str, int]]
    # Model → where the export holds it, or "omitted: why".
    export_coverage: Mapping[type[Model], str]
    # Model → what erasure does to it ("deleted", "anonymised: ...", "kept: no personal data").
    erasure_coverage: Mapping[type[Model], str]


@dataclass(frozen=True)
class RetentionPreview:
    count: int
    sample: list[str]


@dataclass(frozen=True)
class RetentionHandler:
    """Carries out one kind of ``RetentionRule`` for data older than a cutoff."""

    kind: str
    preview: Callable[[datetime], RetentionPreview]
    apply: Callable[[datetime], int]


EvidenceResolver = Callable[[Customer, int], str | None]


@dataclass
class PrivacyRegistry:
    contributions: dict[str, PrivacyContribution] = field(default_factory=dict)
    retention: dict[str, RetentionHandler] = field(default_factory=dict)
    evidence_resolver: EvidenceResolver | None = None

    def register(self, contribution: PrivacyContribution) -> None:
        """Add a contribution; the same name again replaces it (app reloads in tests)."""
        self.contributions[contribution.name] = contribution

    def register_retention(self, handler: RetentionHandler) -> None:
        self.retention[handler.kind] = handler

    def register_evidence(self, resolver: EvidenceResolver) -> None:
        self.evidence_resolver = resolver

    def evidence_for_message(self, customer: Customer, message_id: int) -> str | None:
        """ "message 123 on ticket 45", or None when the message is not this customer's."""
        if self.evidence_resolver is None:
            return f"message {message_id}"
        return self.evidence_resolver(customer, message_id)


privacy_registry = PrivacyRegistry()
