from django.contrib import admin

from .models import (
    Attachment,
    ChatSession,
    CSATSurvey,
    Macro,
    Message,
    Notification,
    QuarantinedEmail,
    SLAPolicy,
    Tag,
    Team,
    Ticket,
)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ["direction", "channel", "author", "sender", "body", "delivery", "created_at"]
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "channel", "status", "priority", "assignee", "last_message_at"]
    list_filter = ["status", "priority", "channel", "team"]
    search_fields = ["subject"]
    raw_id_fields = ["customer", "assignee"]
    inlines = [MessageInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead"]
    filter_horizontal = ["members"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "first_response_minutes", "resolution_minutes", "active"]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name", "body"]


@admin.register(CSATSurvey)
class CSATSurveyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "agent", "channel", "rating", "answered_at"]
    list_filter = ["rating", "channel"]
    raw_id_fields = ["ticket"]


admin.site.register(Tag)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "content_type", "size", "message"]
    raw_id_fields = ["message"]


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["visitor_id", "customer", "ticket", "last_seen_at"]
    raw_id_fields = ["customer", "ticket"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "text", "read_at"]


# SLA calendars (tickets/sla.py): opening hours and holidays edited on the calendar's page.
from .models import BusinessCalendar, BusinessHoliday, BusinessHours, SLABreach  # noqa: E402


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 1


class BusinessHolidayInline(admin.TabularInline):
    model = BusinessHoliday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "timezone"]
    inlines = [BusinessHoursInline, BusinessHolidayInline]


@admin.register(SLABreach)
class SLABreachAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target", "due_at", "detected_at"]
    list_filter = ["target"]
    raw_id_fields = ["ticket"]


@admin.register(QuarantinedEmail)
class QuarantinedEmailAdmin(admin.ModelAdmin):
    """Mail kept out of the inbox; "Release" ingests it as ordinary mail (ignoring the flags)."""

    list_display = ["received_at", "reason", "sender", "subject", "released_at"]
    list_filter = ["reason"]
    search_fields = ["sender", "subject", "message_id"]
    readonly_fields = ["reason", "message_id", "sender", "subject", "raw", "detail", "received_at", "released_at"]
    actions = ["release"]

    @admin.action(description="Release into the inbox")
    def release(self, request, queryset):
        from .channels.inbound_email import email_release

        released = sum(1 for item in queryset if email_release(item=item))
        self.message_user(request, f"{released} message(s) released.")
