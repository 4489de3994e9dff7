"""The privacy pages at /privacy/ (admins), what agents need in a conversation, and the
customer's public preference centre. Views check the input's shape, call one service or
selector, and render; the rules live in the services of ``customers.privacy``."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from ...models import Customer

MANAGE = "customers.manage_privacy"
EXPORT = "customers.export_customer"
ERASE = "customers.erase_customer"
RECORD_STATED = "customers.add_consentrecord"


def customer_or_404(customer_id: int) -> Customer:
    return get_object_or_404(Customer, pk=customer_id)


def errors_into(form, exc: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form's fields (or the form, for unknown fields)."""
    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)
