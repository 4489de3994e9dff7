"""Macros: canned replies whose placeholders are filled safely.

A macro body is text written by people, so it is never given to the template engine: a
placeholder is ``{{ name }}`` where ``name`` is one of ``PLACEHOLDERS`` (an allowlist of plain
values about the customer, their latest order, the agent and the ticket), and filling it is a
string substitution. A placeholder that is not on the list, or that has no value for this
customer (no orders yet, no first name), is flagged in the preview and blocks sending: the
desk never sends "Hello ," or a literal "{{ order.number }}".
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.utils.formats import date_format

from customers import consent
from customers.models import Channel, ContactPoint, Customer, Order

from .models import Macro, Ticket

# ``{{ anything }}`` and ``{% anything %}``: the second is never allowed, the first only when
# its name is on the allowlist.
PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>.*?)\s*\}\}|\{%\s*(?P<tag>.*?)\s*%\}", re.DOTALL)


@dataclass(frozen=True)
class MacroContext:
    customer: Customer
    ticket: Ticket | None
    agent: AbstractBaseUser | None
    order: Order | None
    email: str


def _name(customer: Customer) -> str:
    return "" if customer.erased else customer.address_name


def _customer(attribute: str) -> Callable[[MacroContext], str]:
    return lambda ctx: "" if ctx.customer.erased else getattr(ctx.customer, attribute)


def _order(attribute: str) -> Callable[[MacroContext], str]:
    return lambda ctx: str(getattr(ctx.order, attribute) or "") if ctx.order else ""


def _total(ctx: MacroContext) -> str:
    return f"{ctx.order.total} {ctx.order.currency}" if ctx.order else ""


def _agent_first(ctx: MacroContext) -> str:
    return (ctx.agent.first_name or ctx.agent.get_username()) if ctx.agent else ""


def _agent_name(ctx: MacroContext) -> str:
    return (ctx.agent.get_full_name() or ctx.agent.get_username()) if ctx.agent else ""


def _promised(ctx: MacroContext) -> str:
    if ctx.order is None or ctx.order.promised_delivery is None:
        return ""
    return date_format(ctx.order.promised_delivery, "DATE_FORMAT")


# name -> (what it is, how to get it). The help text is shown to agents and in docs/workspace.md.
PLACEHOLDERS: dict[str, tuple[str, Callable[[MacroContext], str]]] = {
    "customer.name": ("Preferred name, else first name", lambda ctx: _name(ctx.customer)),
    "customer.first_name": ("First name", _customer("first_name")),
    "customer.last_name": ("Last name", _customer("last_name")),
    "customer.full_name": ("First and last name", _customer("full_name")),
    "customer.preferred_name": ("Preferred name", _customer("preferred_name")),
    "customer.email": ("Primary email address", lambda ctx: ctx.email),
    "order.number": ("Number of the latest order", _order("number")),
    "order.status": ("Status of the latest order", lambda ctx: ctx.order.get_status_display() if ctx.order else ""),
    "order.total": (
        "Total of the latest order",
        lambda ctx: f"{ctx.order.total} {ctx.order.currency}" if ctx.order else "",
    ),
    "order.carrier": ("Carrier of the latest order", _order("carrier")),
    "order.tracking_number": ("Tracking number of the latest order", _order("tracking_number")),
    "order.tracking_url": ("Tracking link of the latest order", _order("tracking_url")),
    "order.promised_delivery": ("Promised delivery date of the latest order", _promised),
    "agent.first_name": (
        "Your first name",
        lambda ctx: (ctx.agent.first_name or ctx.agent.get_username()) if ctx.agent else "",
    ),
    "agent.name": (
        "Your full name",
        lambda ctx: (ctx.agent.get_full_name() or ctx.agent.get_username()) if ctx.agent else "",
    ),
    "ticket.id": ("Ticket number", lambda ctx: str(ctx.ticket.pk) if ctx.ticket else ""),
    "ticket.subject": ("Ticket subject", lambda ctx: ctx.ticket.subject if ctx.ticket else ""),
}


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str = ""  # "" plain, "filled", "unknown", "empty"


@dataclass(frozen=True)
class RenderedMacro:
    text: str
    segments: list[Segment]
    unknown: list[str] = field(default_factory=list)  # names not on the allowlist (as written)
    empty: list[str] = field(default_factory=list)  # allowed names with no value for this customer
    purpose: str = ""
    refusal: str = ""  # why this macro may not be sent to this customer (consent)

    @property
    def problems(self) -> list[str]:
        problems = [f"Unknown placeholder {{{{ {name} }}}} — it is not one the desk can fill." for name in self.unknown]
        problems += [f"{{{{ {name} }}}} has no value for this customer." for name in self.empty]
        if self.refusal:
            problems.append(self.refusal)
        return problems

    @property
    def sendable(self) -> bool:
        return not self.problems


def macro_context(*, ticket: Ticket, agent: AbstractBaseUser | None) -> MacroContext:
    """What a macro may use for this ticket: two queries (latest order, primary email)."""
    customer = ticket.customer
    order = Order.objects.filter(customer=customer).order_by("-placed_at", "-pk").first()
    email = (
        ContactPoint.objects.filter(customer=customer, channel=Channel.EMAIL)
        .order_by("-is_primary", "pk")
        .values_list("value", flat=True)
        .first()
    )
    return MacroContext(customer=customer, ticket=ticket, agent=agent, order=order, email=email or "")


def placeholders_in(text: str) -> list[str]:
    """Every placeholder or template tag still written in ``text``, as written."""
    found = []
    for match in PLACEHOLDER.finditer(text or ""):
        found.append(match.group("name") if match.group("name") is not None else f"% {match.group('tag')} %")
    return found


def macro_render(*, body: str, context: MacroContext, purpose: str = "") -> RenderedMacro:
    """Fill ``body``'s allowed placeholders from ``context``; flag everything else.

    The result's ``text`` keeps unknown and empty placeholders as written, so nothing is
    silently blanked; ``sendable`` is False while any remain, or while the customer has not
    granted the macro's consent ``purpose``.
    """
    segments: list[Segment] = []
    unknown: list[str] = []
    empty: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(body):
        if match.start() > position:
            segments.append(Segment(body[position : match.start()]))
        name = match.group("name")
        known = PLACEHOLDERS.get(name) if name is not None else None
        if known is None:
            unknown.append(name if name is not None else f"% {match.group('tag')} %")
            segments.append(Segment(match.group(0), "unknown"))
        else:
            value = str(known[1](context) or "").strip()
            if value:
                segments.append(Segment(value, "filled"))
            else:
                empty.append(name)
                segments.append(Segment(match.group(0), "empty"))
        position = match.end()
    if position < len(body):
        segments.append(Segment(body[position:]))
    refusal = ""
    why = consent.blocked_reason(context.customer, purpose) if purpose else ""
    if why:
        refusal = f"The customer has not agreed to {purpose}; this macro cannot be sent to them: {why}."
    return RenderedMacro(
        text="".join(segment.text for segment in segments),
        segments=segments,
        unknown=list(dict.fromkeys(unknown)),
        empty=list(dict.fromkeys(empty)),
        purpose=purpose,
        refusal=refusal,
    )


def macro_preview(*, macro: Macro, ticket: Ticket, agent: AbstractBaseUser | None) -> RenderedMacro:
    return macro_render(body=macro.body, context=macro_context(ticket=ticket, agent=agent), purpose=macro.purpose)
