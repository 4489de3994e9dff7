"""Conversations on every channel: tickets, their messages, SLA policies, macros, CSAT.

Writes go through ``tickets.services``. A message is stored before it is delivered; delivery is
a Celery task, so nothing is lost while a mail server or the broker is down.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Customer
from supportdesk.labels import ChoiceLabels


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


class Ticket(ChoiceLabels, models.Model):
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
    sla_paused_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Since when the SLA clock stands still (pending or solved); see SLAPause.")
    )

    class Meta:
        permissions = [("view_dashboards", "Can view service and CSAT dashboards")]
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="inbox_by_status"),
            models.Index(fields=["assignee", "status", "-last_message_at"], name="inbox_mine"),
            models.Index(fields=["team", "status", "-last_message_at"], name="inbox_by_team"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_history"),
            # The inbox's counts and change check read only this, never the ticket rows.
            models.Index(
                fields=["assignee"],
                include=["team", "last_message_at", "updated_at", "id"],
                condition=Q(status__in=["new", "open", "pending"]),
                name="inbox_open_counts",
            ),
            # The API's and the inbox's "latest activity" order, tie-broken by id.
            models.Index(fields=["-last_message_at", "-id"], name="ticket_activity"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_api_updated"),
            models.Index(fields=["created_at"], name="ticket_dashboard_created"),
            models.Index(
                fields=["first_response_at"],
                include=["created_at", "assignee", "team", "channel"],
                name="ticket_dashboard_responded",
            ),
            models.Index(
                fields=["solved_at"],
                include=["created_at", "assignee", "team", "channel"],
                name="ticket_dashboard_time",
            ),
            # The SLA breach sweep: targets still open in a running clock.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(first_response_at__isnull=True, status__in=["new", "open"]),
                name="sla_sweep_first_response",
            ),
            models.Index(
                fields=["resolution_due_at"], condition=Q(status__in=["new", "open"]), name="sla_sweep_resolution"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_unsolved(self) -> bool:
        return self.status in self.UNSOLVED


class Message(ChoiceLabels, models.Model):
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
    # The ticket's customer, copied by the database (triggers of tickets/migrations/0014) on insert and
    # whenever the ticket moves to another customer, so a customer's messages are one index
    # range however many conversations they had. Never set it in code; an object created in
    # this process holds None here until it is read again.
    customer = models.ForeignKey(
        Customer, null=True, editable=False, db_index=False, on_delete=models.DO_NOTHING, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=254, blank=True, help_text=_("Address or handle it came from"))
    body = models.TextField()
    body_html = models.TextField(blank=True, help_text=_("Sanitised HTML, for email"))
    body_display = models.TextField(
        blank=True, help_text=_("The body without the quoted history of earlier mails; empty when nothing was cut")
    )
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
            models.Index(fields=["customer", "-created_at", "-id"], name="message_customer_timeline"),
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
    # The ticket's customer, kept by the database like ``Message.customer``.
    customer = models.ForeignKey(
        Customer, null=True, editable=False, db_index=False, on_delete=models.DO_NOTHING, related_name="+"
    )
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
            models.Index(fields=["agent", "answered_at"], name="csat_dashboard_agent"),
            models.Index(
                fields=["customer", "-answered_at", "-id"],
                condition=Q(answered_at__isnull=False),
                name="csat_customer_latest",
            ),
            models.Index(
                fields=["sent_at"], include=["agent", "team", "channel", "answered_at"], name="csat_dashboard_sent"
            ),
            models.Index(
                fields=["answered_at"], include=["agent", "team", "channel", "rating"], name="csat_dashboard_rated"
            ),
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


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class BusinessCalendar(models.Model):
    """When the SLA clock runs: weekly opening hours in one timezone, minus holidays.

    A team's calendar applies to its tickets; the calendar with no team is the desk's default.
    Without any calendar the clock runs around the clock (24x7).
    """

    name = models.CharField(max_length=100)
    team = models.OneToOneField(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="business_calendar")
    timezone = models.CharField(max_length=64, default="UTC", help_text=_("IANA name, e.g. Europe/Madrid"))

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": _("Unknown timezone.")}) from None
        others = BusinessCalendar.objects.exclude(pk=self.pk)
        if self.team_id is None and others.filter(team__isnull=True).exists():
            raise ValidationError({"team": _("The desk already has a default calendar; choose a team.")})


class BusinessHours(models.Model):
    """One opening window of a calendar on one weekday (0 = Monday), in the calendar's timezone.

    ``closes`` of 00:00 means midnight at the end of the day; a weekday may hold several windows.
    """

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        verbose_name_plural = "business hours"
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="businesshours_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes="00:00"), name="businesshours_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class BusinessHoliday(models.Model):
    """A day on which a calendar's clock does not run at all."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SLAPause(models.Model):
    """A stretch of time during which a ticket's SLA clock stood still: the ticket waited on the
    customer (pending) or was solved. Opened and closed by ``tickets.sla.ticket_sla_recompute``;
    at most one pause per ticket is open (``ended_at`` null)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(ended_at__isnull=True), name="slapause_one_open"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="slapause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"pause on {self.ticket_id} from {self.started_at:%Y-%m-%d %H:%M}"


class SLABreach(models.Model):
    """A target a ticket missed, recorded once by the breach sweep (which notifies on creation).

    Unique per (ticket, target, due time): a sweep that runs twice notifies once, and a target
    that moves (new priority, a pause) and is missed again is a new breach.
    """

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_breaches")
    target = models.CharField(max_length=20, choices=Target.choices)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SLA breach"
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "due_at"], name="slabreach_once_per_due"),
        ]

    def __str__(self) -> str:
        return f"{self.target} breached on {self.ticket_id}"


class QuarantinedEmail(models.Model):
    """Inbound mail kept out of the inbox: spam flagged upstream, auto-replies and bounces that
    belong to no conversation, mail that could not be read. Nothing here opens a ticket, so an
    auto-responder cannot start a loop; an admin may release a message from here."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam (flagged by the upstream filter)")
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        BOUNCE = "bounce", _("Delivery failure report")
        UNREADABLE = "unreadable", _("Could not be read")

    reason = models.CharField(max_length=12, choices=Reason.choices)
    message_id = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    raw = models.FileField(upload_to="quarantine/%Y/%m/")
    detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"], condition=~Q(message_id=""), name="quarantine_unique_message_id"
            ),
        ]
        indexes = [models.Index(fields=["reason", "-received_at"], name="quarantine_by_reason")]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.subject or self.message_id}"


class DashboardSnapshot(models.Model):
    """The finished figures of one dashboard view (period, filters, breakdown), as computed from
    the raw rows at ``computed_at``. Written by ``tickets.dashboards.snapshots`` (a beat job keeps
    the standard periods fresh; other views are stored when first asked for) and read while
    younger than ``DESK_DASHBOARD_SNAPSHOT_SECONDS``, so the page answers at any data size."""

    key = models.CharField(max_length=255, unique=True)
    computed_at = models.DateTimeField()
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"{self.key} at {self.computed_at:%Y-%m-%d %H:%M}"
