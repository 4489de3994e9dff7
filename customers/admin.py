from django.contrib import admin

from .models import (
    AuditEvent,
    ConsentPurpose,
    ConsentRecord,
    ConsentWording,
    ContactPoint,
    Customer,
    CustomerMerge,
    Event,
    Job,
    Order,
    OrderLine,
    Product,
    ProductAffinity,
    Refund,
    RetentionRule,
    SuggestionFeedback,
)


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "first_name", "last_name", "locale", "country", "order_count", "lifetime_value", "erased"]
    list_filter = ["locale", "erased", "legal_hold"]
    search_fields = ["first_name", "last_name", "contact_points__value"]
    readonly_fields = ["public_id", "lifetime_value", "order_count", "last_order_at", "last_contact_at", "erased_at"]
    inlines = [ContactPointInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "currency", "placed_at", "promised_delivery"]
    list_filter = ["status", "source"]
    search_fields = ["number", "external_id"]
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline, RefundInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "category", "price", "currency", "active"]
    list_filter = ["active", "category"]
    search_fields = ["name", "sku", "external_id"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "kind", "occurred_at", "source"]
    list_filter = ["kind"]
    raw_id_fields = ["customer"]


@admin.register(ConsentPurpose)
class ConsentPurposeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lawful_basis", "default_granted", "active"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only and written through services."""

    list_display = ["recorded_at", "customer", "purpose", "granted", "source", "actor"]
    list_filter = ["purpose", "granted", "source"]
    raw_id_fields = ["customer"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "action", "actor_label", "customer"]
    list_filter = ["action"]
    raw_id_fields = ["customer"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services: visible to admins, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentWording)
class ConsentWordingAdmin(ReadOnlyAdmin):
    list_display = ["purpose", "version", "created_at"]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "survivor", "merged", "actor", "undone_at"]
    raw_id_fields = ["survivor", "merged"]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "customer", "created_at", "finished_at"]
    list_filter = ["kind", "status"]


@admin.register(SuggestionFeedback)
class SuggestionFeedbackAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "rule", "variant", "verdict", "agent", "customer"]
    list_filter = ["rule", "verdict"]


admin.site.register(RetentionRule)
admin.site.register(ProductAffinity, ReadOnlyAdmin)
