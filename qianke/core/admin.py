from django.contrib import admin

from qianke.core.models import AuditLog, CustomFieldDefinition


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is never edited by hand."""

    list_display = ("created_at", "actor", "action", "object_type", "object_id", "object_repr", "source")
    list_filter = ("action", "object_type", "source")
    search_fields = ("object_repr",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    """Listing only; definitions are changed through the app's custom-field pages so they are validated."""

    list_display = ("label", "key", "field_type", "applies_to", "group", "required", "active")
    list_filter = ("applies_to", "field_type", "active")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
