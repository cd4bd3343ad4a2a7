from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from oneforone.accounts.models import ApiKey, Membership, Organisation, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class OneForOneUserAdmin(UserAdmin):
    inlines = [MembershipInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "organisation", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "secret_hash", "created_by", "last_used_at", "revoked_at"]
