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
MIN_STRONG_DIGITS = 7


@dataclass
class PrivacyScope:
    """One person as the desk holds them: the customer asked about plus every customer that was
    merged into it (the same person under an old record).

    ``terms`` are the person's identifiers (names, email addresses, phone numbers, handles):
    erasure replaces them wherever they appear in the person's own kept free text and JSON.
    ``strong_terms`` are those that point at this person alone (addresses, numbers, handles,
    full names, never a first name by itself): erasure also replaces them in rows that belong to
    nobody in particular (the audit log's own entries, import jobs, webhook deliveries), where
    scrubbing every "Anna" would damage other people's records.
    """

    customer: Customer
    customer_ids: tuple[int, ...]
    terms: tuple[str, ...]
    emails: tuple[str, ...]
    now: datetime
    strong_terms: tuple[str, ...] = ()
    _files: list[FieldFile] = field(default_factory=list, repr=False)
    _pattern: re.Pattern | None = field(default=None, repr=False)
    _strong_pattern: re.Pattern | None = field(default=None, repr=False)

    def scrub_text(self, value: str) -> str:
        """``value`` with every identifier of the person replaced by ``[erased]``."""
        return _scrub_with(self.pattern, value)

    def scrub(self, value: Any) -> Any:
        """The same for a JSON value: strings anywhere inside lists and dicts (keys too)."""
        return _scrub_with(self.pattern, value)

    def mentions(self, value: Any) -> bool:
        return self.scrub(value) != value

    def scrub_strong(self, value: Any) -> Any:
        """``scrub`` limited to the strong terms, for rows that are not the person's own."""
        return _scrub_with(self.strong_pattern, value)

    def mentions_strong(self, value: Any) -> bool:
        return self.scrub_strong(value) != value

    @property
    def pattern(self) -> re.Pattern | None:
        if self._pattern is None and self.terms:
            self._pattern = _alternation(self.terms)
        return self._pattern

    @property
    def strong_pattern(self) -> re.Pattern | None:
        if self._strong_pattern is None and self.strong_terms:
            self._strong_pattern = _alternation(self.strong_terms)
        return self._strong_pattern

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


def _alternation(terms: tuple[str, ...]) -> re.Pattern:
    longest_first = sorted(set(terms), key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in longest_first), re.IGNORECASE)


def _scrub_with(pattern: re.Pattern | None, value: Any) -> Any:
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ERASED, value) if value else value
    if isinstance(value, list):
        return [_scrub_with(pattern, item) for item in value]
    if isinstance(value, dict):
        return {_scrub_with(pattern, str(key)): _scrub_with(pattern, item) for key, item in value.items()}
    return value


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


@dataclass(frozen=True)
class PersonTerms:
    terms: tuple[str, ...]
    strong: tuple[str, ...]
    emails: tuple[str, ...]


def person_terms(customer_ids: tuple[int, ...]) -> PersonTerms:
    """The identifiers of the customers ``customer_ids``: all of them, the strong ones (see
    ``PrivacyScope``) and the email addresses."""
    weak: set[str] = set()
    strong: set[str] = set()
    for first, last, preferred in Customer.objects.filter(pk__in=customer_ids).values_list(
        "first_name", "last_name", "preferred_name"
    ):
        weak.update((first, last, preferred))
        if first and last:
            strong.add(f"{first} {last}")
        if preferred and last:
            strong.add(f"{preferred} {last}")
    emails: set[str] = set()
    for channel, value in ContactPoint.objects.filter(customer__in=customer_ids).values_list("channel", "value"):
        strong.add(value)
        if channel == Channel.EMAIL:
            emails.add(value.lower())
        elif channel == Channel.PHONE:
            strong.update(_phone_spellings(value))
        elif channel == Channel.SOCIAL and ":" in value:
            strong.add(value.split(":", 1)[1])
    return PersonTerms(
        terms=_usable(weak | strong), strong=_usable(strong - _too_common_numbers(strong)), emails=tuple(sorted(emails))
    )


def _usable(terms: set[str]) -> tuple[str, ...]:
    return tuple(sorted({term.strip() for term in terms if term and len(term.strip()) >= MIN_TERM_LENGTH}))


def _too_common_numbers(terms: set[str]) -> set[str]:
    """Short digit strings (a national number of a few digits) match unrelated figures in other
    people's rows; they stay in ``terms`` for the person's own rows only."""
    return {
        term for term in terms if term.replace(" ", "").isdigit() and len(term.replace(" ", "")) < MIN_STRONG_DIGITS
    }


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
    found = person_terms(ids) if with_terms else PersonTerms((), (), ())
    return PrivacyScope(
        customer=customer,
        customer_ids=ids,
        terms=found.terms,
        emails=found.emails,
        strong_terms=found.strong,
        now=now,
    )
