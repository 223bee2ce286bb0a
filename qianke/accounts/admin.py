from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from qianke.accounts.models import ApiToken, Team, User


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "path")
    search_fields = ("name",)
    readonly_fields = ("path",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Qianke"), {"fields": ("full_name", "role", "team", "phone")}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix", "created_at", "last_used_at")
