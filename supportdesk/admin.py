from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import ApiKey, WebhookDelivery, WebhookOutbox, WebhookSubscription


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here or with ``manage.py create_api_key``; the key is shown once."""

    list_display = ["name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    readonly_fields = ["prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    exclude = ["hashed"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A key's scope is fixed once issued: revoke it and issue another instead.
        return [*self.readonly_fields, "name", "scope"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        from django.contrib import messages

        from .api.keys import api_key_create

        issued = api_key_create(name=obj.name, scope=obj.scope, created_by=request.user)
        obj.pk, obj.prefix, obj.hashed = issued.api_key.pk, issued.api_key.prefix, issued.api_key.hashed
        messages.warning(request, f"The new key is {issued.raw} — copy it now, it will not be shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        from .api.keys import api_key_revoke

        for api_key in queryset:
            api_key_revoke(api_key=api_key)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "delivery_id"]
    list_filter = ["source"]


@admin.register(WebhookOutbox)
class WebhookOutboxAdmin(admin.ModelAdmin):
    """Outbound deliveries: what went out, what is waiting, what failed and why."""

    list_display = ["created_at", "event", "subscription", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "event"]
    search_fields = ["delivery_id"]
    readonly_fields = [f.name for f in WebhookOutbox._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class WebhookSubscriptionForm(forms.ModelForm):
    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "secret", "active"]

    def clean_events(self):
        from tickets.webhooks_out import EVENTS

        events = self.cleaned_data["events"]
        if not isinstance(events, list) or not events or not set(events) <= set(EVENTS):
            raise forms.ValidationError(f"A list of one or more of: {', '.join(EVENTS)}.")
        return events

    def clean_url(self):
        from tickets.webhooks_out import webhook_target_resolve

        url = self.cleaned_data["url"]
        try:
            webhook_target_resolve(url)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict.get("url", exc.messages)) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "events", "active", "created_at"]
