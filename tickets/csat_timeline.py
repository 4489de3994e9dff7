"""CSAT answers in the customer's unified timeline (``customers.timeline``).

Registered from ``TicketsConfig.ready()``. An answer shows its rating, the customer's comment and
a link to the ticket it rated.
"""

from django.db.models import QuerySet, Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.timeline import TimelineItem, TimelineRow, TimelineSource, source_columns

from .models import CSATSurvey

CSAT_RANK = 70


def _answers(customer: Customer) -> QuerySet:
    return CSATSurvey.objects.filter(customer=customer, answered_at__isnull=False).annotate(
        **source_columns(
            rank=CSAT_RANK,
            at="answered_at",
            kind=Value("csat"),
            channel="channel",
            ref_id="ticket_id",
            a="rating",
            b="comment",
            c="ticket__subject",
        )
    )


def _present(row: TimelineRow) -> TimelineItem:
    return TimelineItem(
        at=row.at,
        kind="csat",
        kind_label=str(_("Satisfaction")),
        channel=row.channel,
        title=str(_("Rated %(rating)s out of 5: %(subject)s") % {"rating": row.a, "subject": row.c}),
        detail=row.b or "",
        url=reverse("tickets:detail", args=[row.ref_id]) if row.ref_id else "",
        badge=f"{row.a}/5",
    )


CSAT_SOURCE = TimelineSource(
    name="csat",
    rank=CSAT_RANK,
    kinds={"csat": _("Satisfaction ratings")},
    rows=_answers,
    present=_present,
)
