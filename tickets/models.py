"""Conversations on every channel: tickets, their messages, SLA policies, macros, CSAT.

Writes go through ``tickets.services``. A message is stored before it is delivered; delivery is
a Celery task, so nothing is lost while a mail server or the broker is down.
"""

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Customer


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SLAPolicy(models.Model):
    """Targets for one priority: minutes to first response and to resolution."""

    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["priority"], condition=Q(active=True), name="slapolicy_one_active_per_priority"
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="slapolicy_resolution_after_first_response",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """One conversation with one customer, which may move between channels.

    Invariants: ``first_response_at`` is set once, by the first outbound reply;
    ``solved_at`` is set when the status becomes solved and cleared if it reopens.
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    UNSOLVED = (Status.NEW, Status.OPEN, Status.PENDING)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices, help_text=_("Channel the ticket was opened on"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    solved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("view_dashboards", "Can view service and CSAT dashboards")]
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="inbox_by_status"),
            models.Index(fields=["assignee", "status", "-last_message_at"], name="inbox_mine"),
            models.Index(fields=["team", "status", "-last_message_at"], name="inbox_by_team"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_history"),
            models.Index(fields=["solved_at"], name="ticket_dashboard_solved"),
            models.Index(fields=["created_at"], name="ticket_dashboard_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_unsolved(self) -> bool:
        return self.status in self.UNSOLVED


class Message(models.Model):
    """One message of a ticket: inbound from the customer, outbound from an agent, or an
    internal note that customers never see.

    Outbound messages are stored ``queued`` and a task delivers them; ``external_id`` (the
    channel's own id, e.g. the email Message-ID) is unique per channel so a replay is a no-op.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("From the customer")
        OUTBOUND = "outbound", _("To the customer")
        NOTE = "note", _("Internal note")

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=254, blank=True, help_text=_("Address or handle it came from"))
    body = models.TextField()
    body_html = models.TextField(blank=True, help_text=_("Sanitised HTML, for email"))
    external_id = models.CharField(max_length=255, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="message_unique_external",
            ),
            models.CheckConstraint(
                condition=Q(direction="outbound") | Q(delivery=""),
                name="message_delivery_only_outbound",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_thread"),
            models.Index(
                fields=["delivery", "created_at"],
                condition=Q(delivery__in=["queued", "failed"]),
                name="message_outbox",
            ),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.channel} ({self.pk})"

    @property
    def is_note(self) -> bool:
        return self.direction == self.Direction.NOTE


class Macro(models.Model):
    """A canned reply. Placeholders such as ``{{ customer.first_name }}`` are filled safely
    from an allowlist when it is used, never by the template engine."""

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    purpose = models.SlugField(
        max_length=50,
        blank=True,
        help_text=_("Consent purpose the customer must have granted for this text, e.g. marketing."),
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CSATSurvey(models.Model):
    """One satisfaction survey per ticket, credited to the agent and team who solved it.

    CSAT score = answers rated 4 or 5 over all answers, in per cent.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="csat")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = "CSAT survey"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="csat_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(answered_at__isnull=False),
                name="csat_rating_has_answer_time",
            ),
        ]
        indexes = [
            models.Index(fields=["answered_at"], name="csat_dashboard_answered"),
            models.Index(fields=["agent", "answered_at"], name="csat_dashboard_agent"),
        ]

    def __str__(self) -> str:
        return f"CSAT for ticket {self.ticket_id}"

    @property
    def token(self) -> str:
        return signing.dumps(self.pk, salt=settings.DESK_SIGNING_SALT_SURVEY)


class Attachment(models.Model):
    """A file that came with a message. Served only as a download, never inline."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class ChatSession(models.Model):
    """A live-chat visitor, known by the widget's cookie; joined to a customer once known."""

    visitor_id = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions"
    )
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions")
    page_url = models.URLField(blank=True, max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"chat {self.visitor_id}"


class TicketEvent(models.Model):
    """A change to a ticket (status, assignee, merge...), written in the same transaction."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_history")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class Notification(models.Model):
    """Something a person in the desk should look at: an SLA breach, a low CSAT rating."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_notifications")
    kind = models.CharField(max_length=30)
    text = models.CharField(max_length=255)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_unread")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text
