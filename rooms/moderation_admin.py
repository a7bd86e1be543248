"""Moderation in the Django admin: the reason box on every change list, the actions
that call rooms.moderation on the selected rows, and the moderation log and report
queue. The log is read-only here, for everyone, superusers included."""

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from rooms import moderation, services
from rooms.errors import ChatError
from rooms.models import ModerationLog, Report, RoomBan

MUTE_CHOICES = [
    ("10", "10 minutes"),
    ("60", "1 hour"),
    ("1440", "1 day"),
    ("10080", "1 week"),
    ("43200", "30 days"),
]


class ReasonActionForm(ActionForm):
    """The change list's action bar, with the reason the moderation log records."""

    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=moderation.REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "for the log"}),
    )


class MuteActionForm(ReasonActionForm):
    minutes = forms.ChoiceField(
        label="Mute for", required=False, choices=MUTE_CHOICES, initial="60"
    )


def reason_of(request: HttpRequest) -> str:
    return request.POST.get("reason", "")


def duration_of(request: HttpRequest) -> timedelta:
    minutes = request.POST.get("minutes", "")
    allowed = {value for value, _ in MUTE_CHOICES}
    return timedelta(minutes=int(minutes if minutes in allowed else "60"))


def act_on_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Model],
    act: Callable[[Any], object],
    done: str,
) -> None:
    """Runs `act` on each row in its own transaction; says how many worked, and why
    any did not (one bad row does not undo the others)."""
    count, failures = 0, []
    for row in rows:
        try:
            act(row)
        except ChatError as error:
            failures.append(f"{row}: {error.message}")
        else:
            count += 1
    if count:
        modeladmin.message_user(request, f"{done}: {count}.", messages.SUCCESS)
    for failure in failures[:10]:
        modeladmin.message_user(request, failure, messages.ERROR)
    if len(failures) > 10:
        modeladmin.message_user(
            request, f"…and {len(failures) - 10} more refused.", messages.ERROR
        )


class ModerationActions:
    """For ModelAdmins whose actions call rooms.moderation: staff may run them (the
    services check again, per row)."""

    action_form = ReasonActionForm

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff


def moderation_action(description: str) -> Callable:
    return admin.action(description=description, permissions=["moderate"])


def change_link(obj: Model | None, text: object = None) -> str:
    if obj is None:
        return "—"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


def room_link(room) -> str:
    if room is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a> (<a href="{}">on the site</a>)',
        reverse("admin:rooms_room_change", args=[room.pk]),
        room,
        reverse("rooms:detail", args=[room.slug]),
    )


def excerpt(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable and filterable; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ModerationLog)
class ModerationLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor",
        "action",
        "target_user",
        "room_column",
        "message_column",
        "reason",
    )
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("room", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = (
        "reason",
        "actor__username",
        "target_user__username",
        "target_user__display_name",
        "room__slug",
        "room__name",
    )
    list_select_related = ("actor", "target_user", "room", "message")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "action",
        "target_user",
        "room",
        "message",
        "reason",
        "details",
    )

    @admin.display(description="Room", ordering="room__name")
    def room_column(self, obj: ModerationLog) -> str:
        return room_link(obj.room)

    @admin.display(description="Message")
    def message_column(self, obj: ModerationLog) -> str:
        if obj.message is None:
            return "—"
        return change_link(obj.message, f"#{obj.message.seq}")


@admin.register(Report)
class ReportAdmin(ModerationActions, ReadOnlyAdmin):
    """The report queue: open reports first, each with its message and room."""

    list_display = (
        "created_at",
        "message_column",
        "room_column",
        "author",
        "reporter",
        "reason",
        "is_resolved",
    )
    list_filter = (
        ("resolved_at", admin.EmptyFieldListFilter),
        ("message__room", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = (
        "reason",
        "message__body",
        "reporter__username",
        "message__author__username",
        "message__room__slug",
    )
    list_select_related = ("message__room", "message__author", "reporter")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "reporter",
        "message_column",
        "room_column",
        "author",
        "message_body",
        "reason",
        "resolved_by",
        "resolved_at",
        "resolution",
    )
    readonly_fields = ("message_column", "room_column", "author", "message_body")
    actions = ["resolve", "delete_messages_and_resolve"]

    def get_ordering(self, request: HttpRequest) -> list:
        # Open reports (no resolved_at) first, newest first.
        return [F("resolved_at").desc(nulls_first=True), "-created_at"]

    @admin.display(description="Message")
    def message_column(self, obj: Report) -> str:
        message = obj.message
        label = f"#{message.seq}: {excerpt(message.body)}"
        if message.is_deleted:
            label += " (deleted)"
        return change_link(message, label)

    @admin.display(description="Room")
    def room_column(self, obj: Report) -> str:
        return room_link(obj.message.room)

    @admin.display(description="Author")
    def author(self, obj: Report) -> object:
        return obj.message.author

    @admin.display(description="Message text")
    def message_body(self, obj: Report) -> str:
        return obj.message.body

    @admin.display(boolean=True, description="Resolved")
    def is_resolved(self, obj: Report) -> bool:
        return obj.is_resolved

    @moderation_action("Resolve selected reports (the reason box is the note)")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        note = reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda report: moderation.report_resolve(
                actor=request.user, report=report, resolution=note
            ),
            "Resolved",
        )

    @moderation_action("Delete the reported messages and resolve (reason box: why)")
    def delete_messages_and_resolve(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> None:
        note = reason_of(request)

        @transaction.atomic
        def act(report: Report) -> None:
            moderation.clean_reason(note, required=True)
            services.message_delete(
                actor=request.user, message=report.message, reason=note
            )
            moderation.report_resolve(
                actor=request.user, report=report, resolution=f"Deleted: {note}"
            )

        act_on_each(
            self, request, queryset.select_related("message__room"), act, "Done"
        )


@admin.register(RoomBan)
class RoomBanAdmin(ModerationActions, ReadOnlyAdmin):
    list_display = ("user", "room", "banned_by", "reason", "created_at")
    list_filter = (("room", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("user__username", "room__slug", "room__name", "reason")
    list_select_related = ("user", "room", "banned_by")
    actions = ["lift"]

    @moderation_action("Lift selected bans")
    def lift(self, request: HttpRequest, queryset: QuerySet[RoomBan]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset.select_related("room", "user"),
            lambda ban: moderation.membership_unban(
                actor=request.user, room=ban.room, user=ban.user, reason=reason
            ),
            "Lifted",
        )
