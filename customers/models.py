"""Who the customer is and what the desk knows about them.

Writes go through ``customers.services``; reads the pages and the API share live in
``customers.selectors``. Figures on ``Customer`` (lifetime value, order count...) are
denormalised and kept current by the services that change their sources.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from supportdesk.labels import ChoiceLabels

from .privacy.ledger import AppendOnlyQuerySet, ledger_refuse


class Channel(models.TextChoices):
    """Every way a customer reaches the business; shared by contact points and messages."""

    EMAIL = "email", _("Email")
    CHAT = "chat", _("Live chat")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social")
    WEB = "web", _("Web form")


class Customer(ChoiceLabels, models.Model):
    """A person the business serves.

    Invariants: ``public_id`` never changes and is what integrations see. An erased customer
    keeps its row (orders and figures stay for accounting) with every personal field blanked.
    A customer merged into another points at the survivor through ``merged_into``.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    preferred_name = models.CharField(max_length=150, blank=True)
    locale = models.CharField(max_length=10, default="en", choices=settings.LANGUAGES)
    timezone = models.CharField(max_length=64, default="UTC")
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166 alpha-2"))
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalised figures, maintained by services and jobs.
    lifetime_value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    order_count = models.PositiveIntegerField(default=0)
    last_order_at = models.DateTimeField(null=True, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    churn_risk = models.FloatField(null=True, blank=True)
    churn_factors = models.JSONField(default=dict, blank=True)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    erased = models.BooleanField(default=False)
    erased_at = models.DateTimeField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False, help_text=_("While set, the customer's data cannot be erased."))

    class Meta:
        permissions = [
            ("merge_customer", "Can merge duplicate customers"),
            ("export_customer", "Can export a customer's data"),
            ("erase_customer", "Can erase a customer's personal data"),
            ("manage_privacy", "Can manage consent and privacy settings"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customer_name_search"),
            models.Index(fields=["-lifetime_value"], name="customer_ltv_rank"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(churn_risk__isnull=True) | Q(churn_risk__gte=0, churn_risk__lte=1),
                name="customer_churn_risk_0_1",
            ),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="customer_not_merged_into_self"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def display_name(self) -> str:
        if self.erased:
            return str(_("Erased customer"))
        return self.full_name or self.preferred_name or str(_("Customer %(id)s") % {"id": self.pk})

    @property
    def address_name(self) -> str:
        """The name to greet the customer by: preferred, else first; empty when unknown."""
        return self.preferred_name or self.first_name


class ContactPoint(ChoiceLabels, models.Model):
    """One way to reach a customer, stored normalised so identity resolution is a lookup.

    Invariant: (channel, value) is unique across all customers — an email address or phone
    number belongs to exactly one customer. Emails are lowercased, phones are E.164, chat
    visitors are the widget's visitor id, social handles are ``network:handle``.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "value"], name="contactpoint_unique_value"),
        ]
        indexes = [models.Index(fields=["customer", "channel"], name="contactpoint_by_customer")]
        ordering = ["channel", "-is_primary", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.value}"


class Product(models.Model):
    """A catalogue entry as the store knows it; (source, external_id) is the store's key."""

    source = models.CharField(max_length=50, default="store")
    external_id = models.CharField(max_length=100)
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255)
    category = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    url = models.URLField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="product_unique_external"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Order(ChoiceLabels, models.Model):
    """A purchase. Idempotent by (source, external_id): a replayed webhook changes nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    source = models.CharField(max_length=50, default="store")
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=50, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PAID)
    currency = models.CharField(max_length=3, default="EUR")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    placed_at = models.DateTimeField(default=dj_timezone.now)
    promised_delivery = models.DateField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="order_unique_external"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_recent"),
            models.Index(fields=["-placed_at", "-id"], name="order_api_recent"),
            models.Index(fields=["-updated_at", "-id"], name="order_api_updated"),
        ]
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def is_late(self) -> bool:
        open_states = {self.Status.PENDING, self.Status.PAID, self.Status.SHIPPED}
        return bool(
            self.promised_delivery and self.status in open_states and self.promised_delivery < dj_timezone.localdate()
        )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=1)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines")
    sku = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="orderline_unique_position"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
        ]
        ordering = ["order", "position"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class Refund(ChoiceLabels, models.Model):
    """A refund or return of (part of) an order; idempotent by (source, external_id)."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        RETURN = "return", _("Return")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    source = models.CharField(max_length=50, default="store")
    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REFUND)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    reason = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(default=dj_timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="refund_unique_external"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
        ]
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class Event(ChoiceLabels, models.Model):
    """Browsing and commerce behaviour. High volume and append-only.

    Stored only for customers who granted ``behavioral_tracking`` (enforced by the service).
    When the source sends an id, (source, external_id) makes replays harmless.
    """

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", _("Page view")
        PRODUCT_VIEW = "product_view", _("Product view")
        SEARCH = "search", _("Search")
        CART_ADD = "cart_add", _("Added to cart")
        CART_ABANDONED = "cart_abandoned", _("Cart abandoned")
        CHECKOUT = "checkout", _("Checkout")

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=dj_timezone.now)
    source = models.CharField(max_length=50, default="store")
    external_id = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="event_unique_external",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="event_customer_timeline"),
            models.Index(fields=["occurred_at"], name="event_retention_purge"),
            # The suggestions' cart_abandoned rule reads a customer's recent carts and checkouts:
            # without it, a heavy browser's page views of the week are all read and thrown away.
            models.Index(
                fields=["customer", "-occurred_at"],
                condition=Q(kind__in=["cart_abandoned", "checkout"]),
                name="event_customer_carts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ConsentPurpose(models.Model):
    """Something the desk may use personal data for, managed by admins.

    A customer without a decision for a purpose is treated per ``default_granted``.
    """

    class LawfulBasis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")
        LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(help_text=_("The wording the customer sees."))
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Name and wording per language, e.g. {"es": {"name": "...", "description": "..."}}.'),
    )
    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis.choices, default=LawfulBasis.CONSENT)
    default_granted = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class ConsentWording(models.Model):
    """One version of a purpose's customer-facing wording. Versions are never edited."""

    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.CASCADE, related_name="wordings")
    version = models.PositiveIntegerField()
    text = models.TextField()
    translations = models.JSONField(default=dict, blank=True, help_text=_("The same wording per language code."))
    created_at = models.DateTimeField(default=dj_timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="consentwording_unique_version"),
        ]
        ordering = ["purpose", "-version"]

    def __str__(self) -> str:
        return f"{self.purpose_id} v{self.version}"


class ConsentRecord(models.Model):
    """One decision in the append-only consent ledger.

    Never updated or deleted: a change of mind is a new record. The current state of a
    purpose for a customer is its latest record, else the purpose's default.
    """

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Customer (preference centre)")
        AGENT = "agent", _("Agent, as stated by the customer")
        ADMIN = "admin", _("Admin")
        API = "api", _("Integration")
        IMPORT = "import", _("Import")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="records")
    granted = models.BooleanField()
    source = models.CharField(max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    wording = models.ForeignKey(
        "ConsentWording",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
        help_text=_("The version of the purpose's wording the decision was made on."),
    )
    note = models.TextField(blank=True)
    evidence = models.CharField(
        max_length=255, blank=True, help_text=_("Where the decision was stated, e.g. a message.")
    )
    recorded_at = models.DateTimeField(default=dj_timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["customer", "purpose", "-recorded_at"], name="consent_current_state"),
        ]
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        verdict = "granted" if self.granted else "withdrawn"
        return f"{self.purpose_id} {verdict} for {self.customer_id}"

    def save(self, *args, **kwargs) -> None:
        # Appending is the only write; erasure rewrites inside ``consent.ledger_unlocked()``.
        if not self._state.adding:
            ledger_refuse("UPDATE")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        ledger_refuse("DELETE")
        return super().delete(*args, **kwargs)


def _ledger_cascade_refuse(sender, instance, **kwargs) -> None:
    # Deleting a customer cascades to their decisions without passing through the queryset;
    # with a receiver connected, Django deletes them row by row, through this guard.
    ledger_refuse("DELETE")


pre_delete.connect(_ledger_cascade_refuse, sender=ConsentRecord, dispatch_uid="consent_ledger_append_only")


class AuditEvent(models.Model):
    """Who did what to whom, and when. Written by services in the same transaction."""

    class Action(models.TextChoices):
        PROFILE_VIEWED = "profile_viewed", _("Profile viewed")
        CONSENT_RECORDED = "consent_recorded", _("Consent recorded")
        CUSTOMER_CREATED = "customer_created", _("Customer created")
        CUSTOMER_UPDATED = "customer_updated", _("Customer updated")
        CUSTOMER_MERGED = "customer_merged", _("Customers merged")
        MERGE_UNDONE = "merge_undone", _("Merge undone")
        EXPORT_REQUESTED = "export_requested", _("Export requested")
        EXPORT_DOWNLOADED = "export_downloaded", _("Export downloaded")
        ERASURE_REQUESTED = "erasure_requested", _("Erasure requested")
        CUSTOMER_ERASED = "customer_erased", _("Customer erased")
        ERASURE_FAILED = "erasure_failed", _("Erasure failed")
        LEGAL_HOLD_CHANGED = "legal_hold_changed", _("Legal hold changed")
        PREFERENCE_LINK_SENT = "preference_link_sent", _("Preference-centre link sent")
        PURPOSE_CREATED = "purpose_created", _("Consent purpose created")
        PURPOSE_CHANGED = "purpose_changed", _("Consent purpose changed")
        CONSENT_IMPORTED = "consent_imported", _("Consent decisions imported")
        RETENTION_CHANGED = "retention_changed", _("Retention rule changed")
        RETENTION_RUN = "retention_run", _("Retention rules applied")
        AUDIT_EXPORTED = "audit_exported", _("Audit log exported")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text=_("System or API key"))
    action = models.CharField(max_length=30, choices=Action.choices)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    occurred_at = models.DateTimeField(default=dj_timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="audit_by_customer"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_by_actor"),
            models.Index(fields=["action", "-occurred_at"], name="audit_by_action"),
            models.Index(fields=["-occurred_at"], name="audit_log_page"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or self.actor_id} on {self.customer_id}"


class CustomerMerge(models.Model):
    """The record of one merge: ``merged`` was folded into ``survivor`` by ``actor``.

    ``snapshot`` holds what the merge moved and overwrote, so that it can be undone exactly.
    """

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_survived")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_absorbed")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    field_choices = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(survivor=models.F("merged")), name="merge_distinct_customers"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.merged_id} into {self.survivor_id}"


class Job(models.Model):
    """A background job someone started and can poll at ``/api/v1/jobs/{id}/``: an export,
    an erasure, an import. The Celery task that runs it takes the job's id."""

    class Kind(models.TextChoices):
        CUSTOMER_EXPORT = "customer_export", _("Customer export")
        CUSTOMER_ERASE = "customer_erase", _("Customer erasure")
        IMPORT = "import", _("Import")
        RETENTION = "retention", _("Retention run")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_label = models.CharField(max_length=150, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "-created_at"], name="job_by_kind"),
            models.Index(fields=["customer", "-created_at"], name="job_privacy_page"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class RetentionRule(models.Model):
    """How long the desk keeps a kind of data before purging or anonymising it."""

    class Kind(models.TextChoices):
        PURGE_EVENTS = "purge_events", _("Delete browsing events older than")
        ANONYMISE_TICKETS = "anonymise_tickets", _("Anonymise closed tickets older than")

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    after_days = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.after_days} days"


class SuggestionFeedback(models.Model):
    """An agent's verdict on a suggested next action; it caps repeats of that suggestion."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")
        SNOOZED = "snoozed", _("Snoozed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="suggestion_feedback")
    rule = models.CharField(max_length=50)
    rule_version = models.PositiveSmallIntegerField(default=1)
    variant = models.CharField(max_length=20, blank=True)
    subject = models.CharField(
        max_length=100, blank=True, help_text=_("What the suggestion was about, e.g. a product id.")
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.CharField(max_length=255, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    until = models.DateTimeField(null=True, blank=True, help_text=_("Hidden until then (snooze or dismissal cap)."))

    class Meta:
        indexes = [
            models.Index(fields=["customer", "rule", "-created_at"], name="feedback_caps"),
            models.Index(fields=["rule", "variant", "created_at"], name="feedback_acceptance"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.verdict} for {self.customer_id}"


class ProductAffinity(models.Model):
    """ "Bought together": how often ``other`` appears in orders that contain ``product``.

    Recomputed by a Celery job from order lines."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="affinities")
    other = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    together = models.PositiveIntegerField(help_text=_("Orders containing both"))
    confidence = models.FloatField(help_text=_("Share of the product's orders that also contain the other"))
    computed_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name_plural = "product affinities"
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="affinity_unique_pair"),
            models.CheckConstraint(condition=~Q(product=models.F("other")), name="affinity_distinct_products"),
        ]
        indexes = [models.Index(fields=["product", "-confidence"], name="affinity_best_first")]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.other_id}"
