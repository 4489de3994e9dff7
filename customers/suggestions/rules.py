"""The customers app's suggestion rules: orders, refunds, carts, "bought together", churn, VIP.

Each rule is a small pure class over a ``CustomerContext`` (no queries) and returns at most one
suggestion, whose reason names the data behind it. Reply texts may hold the macro
placeholders ``{{ customer.name }}`` and ``{{ agent.first_name }}``, filled safely when the
agent accepts; data from the store (order numbers, product names) is written in as text. The
conversation rules live in ``tickets/suggestion_rules.py``.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone

from customers.consent import MARKETING, PERSONALIZATION
from customers.models import Channel, Event, Refund

from .context import CustomerContext
from .registry import Rule, Suggestion, setting, suggestion_registry

SIGN_OFF = "\n\nBest regards,\n{{ agent.first_name }}"


# Wording helpers, shared with tickets/suggestion_rules.py -------------------------------------


def day(value: date | datetime, now: datetime) -> str:
    """The date as "12 May", with the year when it is not this year's."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    this_year = timezone.localtime(now).year
    return formats.date_format(value, "j M" if value.year == this_year else "j M Y")


def days_ago(value: datetime | date, now: datetime) -> str:
    today = timezone.localdate(now)
    then = timezone.localtime(value).date() if isinstance(value, datetime) else value
    days = (today - then).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def money(amount: Decimal | float | int | None, currency: str = "") -> str:
    text = f"{Decimal(amount or 0):,.2f}"
    return f"{text} {currency}".strip()


def channel_label(code: str) -> str:
    return str(Channel(code).label) if code in Channel.values else code


def listing(items: list[str], limit: int = 3, *, total: int | None = None) -> str:
    """Items as a phrase: "A", "A and B", "A, B and C", "A, B, C and 2 more". ``total`` counts
    items the caller did not word (it passes only the first ``limit``)."""
    shown = items[:limit]
    rest = (len(items) if total is None else max(total, len(items))) - len(shown)
    if rest > 0:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def name_of(context: CustomerContext) -> str:
    return context.customer.address_name or "the customer"


# Rules ----------------------------------------------------------------------------------------


class OrderDelayed(Rule):
    """An order past its promised delivery and not delivered: apologise and share tracking."""

    id = "order_delayed"
    label = "Order delayed"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        late = [order for order in context.orders if order.late and order.promised_delivery]
        if not late:
            return None
        order = min(late, key=lambda o: (o.promised_delivery, o.id))
        days_late = (context.today - order.promised_delivery).days
        reason = (
            f"Order #{order.number} was promised for {day(order.promised_delivery, context.now)} and has not been "
            f"delivered ({plural(days_late, 'day')} late, status {order.status_label})."
        )
        if order.tracking_number:
            reason += f" Tracking: {order.carrier} {order.tracking_number}.".replace("  ", " ")
            tracking = f"It is with {order.carrier or 'the carrier'}, tracking number {order.tracking_number}"
            tracking += f" ({order.tracking_url})." if order.tracking_url else "."
        else:
            reason += " No tracking number on file yet."
            tracking = "I'm checking with our warehouse where it is."
        if len(late) > 1:
            reason += f" {plural(len(late) - 1, 'more late order')}."
        action = (
            "Hi {{ customer.name }},\n\n"
            f"I'm sorry: order #{order.number} was due on {day(order.promised_delivery, context.now)} and hasn't "
            f"reached you yet. {tracking} I'm following it closely and will write again as soon as it moves." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title=f"Apologise for late order #{order.number} and share tracking",
            reason=reason,
            channel=context.channel,
            action=action,
            score=80 + min(days_late, 10),
            subject=f"order:{order.id}",
        )


class RefundPending(Rule):
    """A refund or return requested and not completed: give its status."""

    id = "refund_pending"
    label = "Refund pending"

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        pending = [o for o in context.orders if o.refund_id is not None and o.refund_requested_at is not None]
        if not pending:
            return None
        order = min(pending, key=lambda o: (o.refund_requested_at, o.refund_id))
        kind = "return" if order.refund_kind == Refund.Kind.RETURN else "refund"
        approved = order.refund_status == Refund.Status.APPROVED
        state = "approved but not completed" if approved else "still waiting for approval"
        waited = (context.today - timezone.localtime(order.refund_requested_at).date()).days
        reason = (
            f"A {kind} of {money(order.refund_amount, order.currency)} for order #{order.number} was requested on "
            f"{day(order.refund_requested_at, context.now)} ({days_ago(order.refund_requested_at, context.now)}) "
            f"and is {state}."
        )
        if approved:
            news = "It has been approved and is being paid out; it usually shows within 3-5 business days."
        else:
            news = "It is waiting for approval; I'm making sure it moves and will let you know as soon as it does."
        action = (
            "Hi {{ customer.name }},\n\n"
            f"I've checked the {kind} for order #{order.number} ({money(order.refund_amount, order.currency)}), "
            f"requested on {day(order.refund_requested_at, context.now)}. {news}" + SIGN_OFF
        )
        return self.suggest(
            variant,
            title=f"Give the status of the {kind} for order #{order.number}",
            reason=reason,
            channel=context.channel,
            action=action,
            score=70 + min(waited, 14),
            subject=f"refund:{order.refund_id}",
        )


def _item_names(payload: dict[str, Any]) -> list[str]:
    names: list[str] = []
    items = payload.get("items") if isinstance(payload, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            name = item.get("name") or item.get("product_name") or item.get("title") or item.get("sku")
        else:
            name = item
        name = " ".join(str(name or "").split())[:80]
        if name and name not in names:
            names.append(name)
    return names


class CartAbandoned(Rule):
    """A cart abandoned in the last 7 days and not bought since: offer help to finish, by email.

    Needs ``marketing`` (it is a reminder); browsing events only exist in the context while the
    customer allows ``behavioral_tracking``. Two wordings run as variants.
    """

    id = "cart_abandoned"
    label = "Cart abandoned"
    purposes = (MARKETING,)
    variants = ("help", "reminder")

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        cart = next((e for e in context.cart_events if e.kind == Event.Kind.CART_ABANDONED), None)
        if cart is None or Channel.EMAIL not in context.reachable:
            return None
        checked_out = any(
            e.kind == Event.Kind.CHECKOUT and e.occurred_at > cart.occurred_at for e in context.cart_events
        )
        last_order = context.customer.last_order_at
        if checked_out or (last_order is not None and last_order > cart.occurred_at):
            return None
        names = _item_names(cart.payload)
        items = listing(names) if names else "some items"
        reason = (
            f"Left {items} in the cart on {day(cart.occurred_at, context.now)} "
            f"({days_ago(cart.occurred_at, context.now)}) and has not ordered since."
        )
        if variant == "reminder":
            body = (
                f"Just a reminder: your cart still holds {items}. If anything stopped you (a question about size, "
                "delivery or payment), reply to this email and I'll sort it out."
            )
        else:
            body = f"I noticed you left {items} in your cart. Can I help you finish your order?"
        return self.suggest(
            variant,
            title="Offer help to finish the abandoned cart",
            reason=reason,
            channel=Channel.EMAIL,
            action="Hi {{ customer.name }},\n\n" + body + SIGN_OFF,
            score=50,
            subject=f"cart:{cart.id}",
        )


CROSS_SELL_MIN_CONFIDENCE = 0.1


class CrossSell(Rule):
    """A product often bought with one the customer bought; never one they own, never one
    dismissed for them in the last 30 days (needs ``personalization``)."""

    id = "cross_sell"
    label = "Bought together"
    purposes = (PERSONALIZATION,)
    dismiss_days = 30

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        dismissed = context.dismissed_subjects(self.id, days=self.dismiss_for_days)
        candidates = [
            a
            for a in context.affinities
            if a.confidence >= CROSS_SELL_MIN_CONFIDENCE and f"product:{a.other_id}" not in dismissed
        ]
        if not candidates:
            return None
        best = max(candidates, key=lambda a: (a.confidence, a.together, -a.other_id))
        share = round(best.confidence * 100)
        reason = (
            f"{share}% of the orders with {best.product_name} also held {best.other_name} "
            f"({plural(best.together, 'order')}); {name_of(context)} bought {best.product_name} "
            f"but not {best.other_name}."
        )
        link = f" ({best.other_url})" if best.other_url else ""
        action = (
            "Hi {{ customer.name }},\n\n"
            f"By the way: customers who bought {best.product_name} often pair it with {best.other_name}{link}. "
            "Happy to tell you more if it's of interest." + SIGN_OFF
        )
        return self.suggest(
            variant,
            title=f"Suggest {best.other_name}",
            reason=reason,
            channel=context.channel,
            action=action,
            score=round(25 + 20 * best.confidence, 1),
            subject=f"product:{best.other_id}",
        )


# Factor codes the demo data and older jobs wrote, with numbers instead of sentences.
FACTOR_WORDING = {
    "days_since_last_order": lambda v: f"No order for {v} days" if v is not None else "No order yet",
    "last_csat": lambda v: f"Rated the last help {v}/5",
    "unresolved_tickets": lambda v: f"{plural(int(v), 'unresolved conversation')}",
    "refunds": lambda v: f"{plural(int(v), 'refund or return', 'refunds or returns')}",
}


def churn_factors_text(factors: Any) -> list[str]:
    """The churn factors as sentences: the job writes ``{label: sentence}``; older codes with
    numbers (``{"last_csat": 2}``) are worded here."""
    if isinstance(factors, list):
        return [str(item) for item in factors if item]
    if not isinstance(factors, dict):
        return []
    out = []
    for key, value in factors.items():
        if isinstance(value, str) and value:
            out.append(value)
        elif key in FACTOR_WORDING:
            try:
                out.append(FACTOR_WORDING[key](value))
            except (TypeError, ValueError):
                out.append(f"{str(key).replace('_', ' ')}: {value}")
        else:
            out.append(f"{str(key).replace('_', ' ')}: {value}")
    return out


class ChurnRisk(Rule):
    """A high churn-risk score (from the churn job): a retention gesture, factors shown.

    Variants: ``gesture`` (priority handling, a little more weight) and ``check_in`` (ask
    what to do better). Needs ``personalization``: the score profiles purchase history.
    """

    id = "churn_risk"
    label = "Churn risk"
    purposes = (PERSONALIZATION,)
    variants = ("gesture", "check_in")
    WEIGHTS = {"gesture": 42, "check_in": 38}

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        risk = context.customer.churn_risk
        if risk is None or risk < setting("DESK_SUGGESTIONS_CHURN_THRESHOLD"):
            return None
        factors = churn_factors_text(context.customer.churn_factors)
        why = "; ".join(factors) if factors else "no factors recorded"
        reason = f"Churn risk {round(risk * 100)}% (high). Why: {why}."
        if variant == "check_in":
            title = "Ask how we can do better"
            body = (
                "Thank you for staying with us. Is there anything we could do better for you? "
                "I read every answer myself."
            )
        else:
            title = "Make a retention gesture"
            body = (
                "I want to make sure you're happy with us, so I've flagged your account for priority handling: "
                "reply to me directly any time and I'll take care of it."
            )
        return self.suggest(
            variant,
            title=title,
            reason=reason,
            channel=context.channel,
            action="Hi {{ customer.name }},\n\n" + body + SIGN_OFF,
            score=round(self.WEIGHTS.get(variant, 40) + 30 * risk, 1),
        )


class Vip(Rule):
    """The top 5% by lifetime value: prioritise, add a personal touch. The threshold comes from
    the cached job (``jobs.vip_threshold``), never from ranking customers per request."""

    id = "vip"
    label = "VIP"
    purposes = (PERSONALIZATION,)

    def evaluate(self, context: CustomerContext, variant: str) -> Suggestion | None:
        value, threshold = context.customer.lifetime_value, context.vip_threshold
        if threshold is None or not value or value <= 0 or value < threshold:
            return None
        share = round(setting("DESK_SUGGESTIONS_VIP_TOP_SHARE") * 100)
        orders = context.customer.order_count
        reason = (
            f"Lifetime value {money(value)} over {plural(orders, 'order')} puts {name_of(context)} in the top "
            f"{share}% of customers (from {money(threshold)})."
        )
        action = (
            "Hi {{ customer.name }},\n\n"
            "Thank you for being such a loyal customer. I'm looking after this personally and will see it through."
            + SIGN_OFF
        )
        return self.suggest(
            variant,
            title="VIP: prioritise and add a personal touch",
            reason=reason,
            channel=context.channel,
            action=action,
            score=45,
        )


CUSTOMER_RULES: list[Rule] = [OrderDelayed(), RefundPending(), CartAbandoned(), CrossSell(), ChurnRisk(), Vip()]
suggestion_registry.register(*CUSTOMER_RULES)
