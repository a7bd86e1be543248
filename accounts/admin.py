from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from rooms import moderation
from rooms.moderation_admin import (
    ModerationActions,
    MuteActionForm,
    act_on_each,
    duration_of,
    moderation_action,
    reason_of,
)


class MutedFilter(admin.SimpleListFilter):
    title = "muted site-wide"
    parameter_name = "muted"

    def lookups(self, request, model_admin):
        return [("yes", "Muted now"), ("no", "Not muted")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(muted_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(muted_until__gt=now)
        return queryset


@admin.register(User)
class UserAdmin(ModerationActions, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Chat", {"fields": ("display_name",)}),
        ("Moderation", {"fields": ("muted_until", "muted_reason")}),
    )
    list_display = (
        "username",
        "display_name",
        "email",
        "is_staff",
        "is_active",
        "muted_until",
        "date_joined",
    )
    list_filter = (*DjangoUserAdmin.list_filter, MutedFilter)
    search_fields = ("username", "display_name", "email")
    # Banning (is_active) and muting are the actions below: each is logged, with why.
    readonly_fields = ("is_active", "muted_until", "muted_reason")
    action_form = MuteActionForm
    actions = ["mute", "unmute", "ban", "unban"]

    @moderation_action("Mute selected people site-wide (for, and why)")
    def mute(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        duration, reason = duration_of(request), reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda user: moderation.user_mute(
                actor=request.user, user=user, duration=duration, reason=reason
            ),
            "Muted",
        )

    @moderation_action("Unmute selected people")
    def unmute(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda user: moderation.user_unmute(
                actor=request.user, user=user, reason=reason
            ),
            "Unmuted",
        )

    @moderation_action("Ban selected people: close their accounts (give a reason)")
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda user: moderation.user_ban(
                actor=request.user, user=user, reason=reason
            ),
            "Banned",
        )

    @moderation_action("Lift the ban on selected people")
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda user: moderation.user_unban(
                actor=request.user, user=user, reason=reason
            ),
            "Reinstated",
        )
