"""Whom an export or erasure is about, and how erasure scrubs their identifiers from free text."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from django.db import transaction
from django.db.models.fields.files import FieldFile

from ..models import Channel, ContactPoint, Customer

ERASED = "[erased]"
MIN_TERM_LENGTH = 3


@dataclass
class PrivacyScope:
    """One person as the desk holds them: the customer asked about plus every customer that was
    merged into it (the same person under an old record).

    ``terms`` are the person's identifiers (names, email addresses, phone numbers, handles):
    erasure replaces them wherever they appear in kept free text and JSON.
    """

    customer: Customer
    customer_ids: tuple[int, ...]
    terms: tuple[str, ...]
    emails: tuple[str, ...]
    now: datetime
    _files: list[FieldFile] = field(default_factory=list, repr=False)
    _pattern: re.Pattern | None = field(default=None, repr=False)

    def scrub_text(self, value: str) -> str:
        """``value`` with every identifier of the person replaced by ``[erased]``."""
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(ERASED, value)

    def scrub(self, value: Any) -> Any:
        """The same for a JSON value: strings anywhere inside lists and dicts (keys too)."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {self.scrub_text(str(key)): self.scrub(item) for key, item in value.items()}
        return value

    def mentions(self, value: Any) -> bool:
        return self.scrub(value) != value

    @property
    def pattern(self) -> re.Pattern | None:
        if self._pattern is None and self.terms:
            longest_first = sorted(set(self.terms), key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(term) for term in longest_first), re.IGNORECASE)
        return self._pattern

    def delete_file_on_commit(self, stored: FieldFile) -> None:
        """Remove a stored file once the erasure's transaction commits (a rollback keeps it)."""
        if stored and stored.name:
            self._files.append(stored)

    def schedule_file_deletion(self) -> None:
        files, self._files = list(self._files), []

        def delete() -> None:
            for stored in files:
                stored.storage.delete(stored.name)

        transaction.on_commit(delete)


def scope_customer_ids(customer: Customer) -> tuple[int, ...]:
    """The customer and every customer merged into it, directly or through a chain."""
    ids = [customer.pk]
    frontier = [customer.pk]
    while frontier:
        frontier = [
            pk for pk in Customer.objects.filter(merged_into__in=frontier).values_list("pk", flat=True) if pk not in ids
        ]
        ids.extend(frontier)
    return tuple(ids)


def person_terms(customer_ids: tuple[int, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every identifier, the email addresses) of the customers ``customer_ids``."""
    terms: set[str] = set()
    for first, last, preferred in Customer.objects.filter(pk__in=customer_ids).values_list(
        "first_name", "last_name", "preferred_name"
    ):
        terms.update((first, last, preferred, f"{first} {last}".strip()))
    emails: set[str] = set()
    for channel, value in ContactPoint.objects.filter(customer__in=customer_ids).values_list("channel", "value"):
        terms.add(value)
        if channel == Channel.EMAIL:
            emails.add(value.lower())
        elif channel == Channel.PHONE:
            terms.update(_phone_spellings(value))
        elif channel == Channel.SOCIAL and ":" in value:
            terms.add(value.split(":", 1)[1])
    kept = tuple(sorted(term.strip() for term in terms if term and len(term.strip()) >= MIN_TERM_LENGTH))
    return kept, tuple(sorted(emails))


def _phone_spellings(e164: str) -> set[str]:
    """The E.164 form and the national digits, the two ways a number is usually written."""
    spellings = {e164}
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return spellings
    spellings.add(str(number.national_number))
    spellings.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    spellings.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return spellings


def privacy_scope(*, customer: Customer, now: datetime, with_terms: bool = False) -> PrivacyScope:
    ids = scope_customer_ids(customer)
    terms, emails = person_terms(ids) if with_terms else ((), ())
    return PrivacyScope(customer=customer, customer_ids=ids, terms=terms, emails=emails, now=now)
