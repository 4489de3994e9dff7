from django.contrib import admin

from .models import Attachment, ChatSession, CSATSurvey, Macro, Message, Notification, SLAPolicy, Tag, Team, Ticket


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
