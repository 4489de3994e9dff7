"""The contract between the suggestions engine and the apps that contribute to it.

- A ``Rule`` is a small pure class: given a prepared ``CustomerContext`` it returns zero or one
  ``Suggestion``. Rules never query the database; whatever they need is loaded into the
  context once, in bounded queries, before any rule runs.
- A *context loader* adds facts to the context (``context.extras[name]``). The tickets app
  registers one for conversations, messages and CSAT answers, so that this package never
  imports ``tickets`` (see DESIGN.md, "Shape of the code").
- The *action renderer* fills the placeholders of a suggestion's reply text
  (``{{ customer.name }}``...) when an agent accepts it; the tickets app registers the macro
  renderer. Without one the text is returned as written.

Each app registers from its ``AppConfig.ready()`` (the customers rules register when
``customers.suggestions.rules`` is imported, which the engine does). Registering an id again
replaces the earlier entry, so reloads in tests are harmless.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError

from customers.models import Channel

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from customers.models import Customer

    from .context import CustomerContext

# Defaults of the DESK_SUGGESTIONS_* settings (supportdesk/settings/base.py sets them from the
# environment; these keep the package usable on settings that predate it).
DEFAULTS: dict[str, Any] = {
    "DESK_SUGGESTIONS_SHOWN": 3,
    "DESK_SUGGESTIONS_DISMISS_DAYS": 7,
    "DESK_SUGGESTIONS_ACCEPT_HIDE_HOURS": 24,
    "DESK_SUGGESTIONS_MAX_SNOOZE_DAYS": 30,
    "DESK_SUGGESTIONS_CHURN_THRESHOLD": 0.6,
    "DESK_SUGGESTIONS_VIP_TOP_SHARE": 0.05,
    "DESK_SUGGESTIONS_VIP_CACHE_SECONDS": 6 * 3600,
    "DESK_SUGGESTIONS_AFFINITY_DAYS": 365,
    "DESK_SUGGESTIONS_AFFINITY_MIN_TOGETHER": 2,
    "DESK_SUGGESTIONS_AFFINITY_PER_PRODUCT": 20,
    "DESK_SUGGESTIONS_TOKEN_MAX_AGE_DAYS": 7,
    "DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS": 60,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


SIGNING_SALT = "customers.suggestions.feedback"


@dataclass(frozen=True)
class SuggestionRef:
    """What a suggestion's public id encodes: enough to record feedback on it, and to find it
    again, without a table of shown suggestions."""

    customer_id: int
    rule: str
    subject: str = ""
    variant: str = ""
    rule_version: int = 1

    def token(self) -> str:
        payload = {"c": self.customer_id, "r": self.rule, "s": self.subject, "v": self.variant, "n": self.rule_version}
        return signing.dumps(payload, salt=SIGNING_SALT, compress=True)

    @classmethod
    def from_token(cls, token: str) -> "SuggestionRef":
        """The reference a public id carries; ``ValidationError`` for a forged, stale or bad one."""
        max_age = setting("DESK_SUGGESTIONS_TOKEN_MAX_AGE_DAYS") * 86400
        try:
            data = signing.loads(token or "", salt=SIGNING_SALT, max_age=max_age)
        except signing.SignatureExpired:
            raise ValidationError({"id": "This suggestion is too old; reload the page."}, code="expired") from None
        except signing.BadSignature:
            raise ValidationError({"id": "Not a suggestion id."}, code="invalid") from None
        try:
            ref = cls(
                customer_id=int(data["c"]),
                rule=str(data["r"]),
                subject=str(data.get("s", "")),
                variant=str(data.get("v", "")),
                rule_version=int(data.get("n", 1)),
            )
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"id": "Not a suggestion id."}, code="invalid") from None
        return ref


@dataclass(frozen=True)
class Suggestion:
    """One proposed next action, with the reason behind it in plain words.

    ``action`` is the reply text accepting it puts in the composer (it may hold macro
    placeholders such as ``{{ customer.name }}``, filled when accepted); ``url`` is a page the
    suggestion is about (another conversation). ``subject`` says what it is about (an order,
    a product, a ticket) so that a dismissal hides this suggestion and not the whole rule.
    ``purposes`` are the consent purposes it needs; the engine drops it without them.
    """

    rule: str
    title: str
    reason: str
    channel: str = ""
    action: str = ""
    url: str = ""
    score: float = 0.0
    purposes: tuple[str, ...] = ()
    rule_version: int = 1
    variant: str = ""
    subject: str = ""
    customer_id: int | None = None

    @property
    def ref(self) -> SuggestionRef:
        if self.customer_id is None:
            raise ValueError("A suggestion gets its id once the engine has tied it to a customer.")
        return SuggestionRef(self.customer_id, self.rule, self.subject, self.variant, self.rule_version)

    @property
    def id(self) -> str:
        """The public, signed id the feedback endpoints take."""
        return self.ref.token()

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label) if self.channel in Channel.values else self.channel

    def for_customer(self, customer_id: int) -> "Suggestion":
        return replace(self, customer_id=customer_id)


class Rule:
    """A rule: a stable ``id``, a ``version`` (bump it when its meaning changes), the consent
    ``purposes`` its suggestion needs, optional A/B ``variants``, and ``evaluate``.

    ``evaluate(context, variant)`` is pure: it reads the prepared context and returns a
    ``Suggestion`` (built with ``self.suggest``) or None. ``dismiss_days`` is how long a
    dismissal hides the suggestion (None: ``DESK_SUGGESTIONS_DISMISS_DAYS``).
    """

    id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    label: ClassVar[str] = ""
    purposes: ClassVar[tuple[str, ...]] = ()
    variants: ClassVar[tuple[str, ...]] = ()
    dismiss_days: ClassVar[int | None] = None

    def evaluate(self, context: "CustomerContext", variant: str) -> Suggestion | None:
        raise NotImplementedError

    def suggest(self, variant: str, **fields: Any) -> Suggestion:
        fields.setdefault("purposes", self.purposes)
        return Suggestion(rule=self.id, rule_version=self.version, variant=variant, **fields)

    @property
    def dismiss_for_days(self) -> int:
        return self.dismiss_days if self.dismiss_days is not None else setting("DESK_SUGGESTIONS_DISMISS_DAYS")


ContextLoader = Callable[["CustomerContext"], Any]
# (text, customer, ticket id or None, agent or None) -> (rendered text, problems for the agent)
ActionRenderer = Callable[[str, "Customer", int | None, "AbstractBaseUser | None"], tuple[str, list[str]]]


@dataclass
class SuggestionRegistry:
    rules: dict[str, Rule] = field(default_factory=dict)
    loaders: dict[str, ContextLoader] = field(default_factory=dict)
    renderer: ActionRenderer | None = None

    def register(self, *rules: Rule) -> None:
        for rule in rules:
            if not rule.id:
                raise ValueError(f"{type(rule).__name__} has no id.")
            self.rules[rule.id] = rule

    def loader_register(self, name: str, loader: ContextLoader) -> None:
        """``loader(context)`` returns facts the engine stores in ``context.extras[name]``."""
        self.loaders[name] = loader

    def renderer_register(self, renderer: ActionRenderer) -> None:
        self.renderer = renderer

    def get(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)

    def all(self) -> Iterable[Rule]:
        return list(self.rules.values())


suggestion_registry = SuggestionRegistry()


def action_render(
    *, text: str, customer: "Customer", ticket_id: int | None = None, agent: "AbstractBaseUser | None" = None
) -> tuple[str, list[str]]:
    """Fill the placeholders of an accepted suggestion's reply text (safely, by the registered
    macro renderer). Returns the text and what the agent must fix before sending it."""
    if not text:
        return "", []
    if suggestion_registry.renderer is None:
        return text, []
    return suggestion_registry.renderer(text, customer, ticket_id, agent)
