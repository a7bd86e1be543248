"""Moderation from the Django admin. Every write goes through rooms.services or
rooms.moderation, so what staff do here reaches open pages live, exactly as if done
from the chat, and each moderation act is logged (rooms.moderation_admin)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from rooms import moderation, services
from rooms.models import Invite, Membership, Message, MessageEdit, Room
from rooms.moderation_admin import (
    ModerationActions,
    MuteActionForm,
    act_on_each,
    duration_of,
    moderation_action,
    reason_of,
)


@admin.register(Room)
class RoomAdmin(ModerationActions, admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "kind",
        "last_seq",
        "is_locked",
        "is_archived",
        "created_at",
    )
    list_filter = ("kind", "is_locked", "is_archived")
    search_fields = ("name", "slug", "topic")
    # Locking and archiving are the actions below: each is logged, with its reason.
    readonly_fields = (
        "slug",
        "is_locked",
        "is_archived",
        "last_seq",
        "created_by",
        "created_at",
    )
    fields = (
        "name",
        "slug",
        "topic",
        "kind",
        "is_locked",
        "is_archived",
        "last_seq",
        "created_by",
        "created_at",
    )
    actions = ["lock", "unlock", "archive", "unarchive"]

    def _each(self, request, queryset, service, done: str) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset,
            lambda room: service(actor=request.user, room=room, reason=reason),
            done,
        )

    @moderation_action("Lock selected rooms (read-only; give a reason)")
    def lock(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._each(request, queryset, moderation.room_lock, "Locked")

    @moderation_action("Unlock selected rooms")
    def unlock(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._each(request, queryset, moderation.room_unlock, "Unlocked")

    @moderation_action("Archive selected rooms (give a reason)")
    def archive(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._each(request, queryset, moderation.room_archive, "Archived")

    @moderation_action("Unarchive selected rooms")
    def unarchive(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._each(request, queryset, moderation.room_unarchive, "Unarchived")

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None):
        fields = super().get_readonly_fields(request, obj)
        # A direct message stays one (services.room_edit).
        return (*fields, "kind") if obj is not None and obj.is_direct else fields

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [
                (kind.value, kind.label)
                for kind in (Room.Kind.PUBLIC, Room.Kind.PRIVATE)
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Room, form, change: bool) -> None:
        if change:
            services.room_edit(room=obj, name=obj.name, topic=obj.topic, kind=obj.kind)
            return
        room = services.room_create(
            creator=request.user, name=obj.name, topic=obj.topic, kind=obj.kind
        )
        obj.pk, obj.slug = room.pk, room.slug

    def has_delete_permission(
        self, request: HttpRequest, obj: Room | None = None
    ) -> bool:
        # Deleting a room would erase its history; archive it instead.
        return False


@admin.register(Membership)
class MembershipAdmin(ModerationActions, admin.ModelAdmin):
    list_display = ("user", "room", "role", "joined_at", "muted_until")
    list_filter = ("role", "room__kind", "room")
    search_fields = ("user__username", "user__display_name", "room__name", "room__slug")
    list_select_related = ("user", "room")
    readonly_fields = (
        "user",
        "room",
        "role",
        "joined_at",
        "last_read_seq",
        "muted_until",
        "muted_reason",
    )
    action_form = MuteActionForm
    actions = ["mute", "unmute", "ban"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        """As if they had left (an owner hands the room on); logged as a removal."""
        moderation.membership_remove(
            actor=request.user, room=obj.room, user=obj.user, reason=reason_of(request)
        )

    @moderation_action("Mute selected people in their rooms (for, and why)")
    def mute(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        duration, reason = duration_of(request), reason_of(request)
        act_on_each(
            self,
            request,
            queryset.select_related("user", "room"),
            lambda m: moderation.membership_mute(
                actor=request.user,
                room=m.room,
                user=m.user,
                duration=duration,
                reason=reason,
            ),
            "Muted",
        )

    @moderation_action("Unmute selected people in their rooms")
    def unmute(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset.select_related("user", "room"),
            lambda m: moderation.membership_unmute(
                actor=request.user, room=m.room, user=m.user, reason=reason
            ),
            "Unmuted",
        )

    @moderation_action("Ban selected people from their rooms (give a reason)")
    def ban(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            list(queryset.select_related("user", "room")),
            lambda m: moderation.membership_ban(
                actor=request.user, room=m.room, user=m.user, reason=reason
            ),
            "Banned",
        )

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Membership]
    ) -> None:
        for membership in queryset.select_related("user", "room"):
            self.delete_model(request, membership)


class MessageEditInline(admin.TabularInline):
    """A message's edit history: what it said before each edit, oldest first."""

    model = MessageEdit
    fields = ("edited_at", "edited_by", "old_body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "earlier version"
    verbose_name_plural = "edit history"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ModerationActions, admin.ModelAdmin):
    list_display = ("seq", "room", "author", "short_body", "created_at", "is_deleted")
    list_filter = ("room", ("deleted_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("body", "author__username", "author__display_name", "room__slug")
    list_select_related = ("room", "author")
    date_hierarchy = "created_at"
    readonly_fields = (
        "room",
        "seq",
        "author",
        "body",
        "reply_to",
        "client_id",
        "created_at",
        "edited_at",
        "deleted_at",
        "deleted_by",
    )
    fields = readonly_fields
    inlines = [MessageEditInline]
    actions = ["restore"]
    # Both ask for the reason the moderation log records.
    delete_confirmation_template = "admin/rooms/message/delete_confirmation.html"
    delete_selected_confirmation_template = (
        "admin/rooms/message/delete_selected_confirmation.html"
    )

    @admin.display(description="Body")
    def short_body(self, obj: Message) -> str:
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"

    @admin.display(boolean=True, description="Deleted")
    def is_deleted(self, obj: Message) -> bool:
        return obj.deleted_at is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_deleted_objects(self, objs, request: HttpRequest):
        """Deleting is soft: the rows stay, and nothing related goes with them."""
        objs = list(objs)
        return [str(obj) for obj in objs], {"messages": len(objs)}, set(), []

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        """Soft-deletes through the service: open pages show the message as deleted."""
        services.message_delete(
            actor=request.user, message=obj, reason=reason_of(request)
        )

    @moderation_action("Restore selected deleted messages")
    def restore(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        reason = reason_of(request)
        act_on_each(
            self,
            request,
            queryset.filter(deleted_at__isnull=False),
            lambda message: moderation.message_restore(
                actor=request.user, message=message, reason=reason
            ),
            "Restored",
        )

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Message]
    ) -> None:
        for message in queryset.select_related("room", "author"):
            self.delete_model(request, message)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("room", "created_by", "created_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "expires_at")
    search_fields = ("room__name", "room__slug", "created_by__username")
    list_select_related = ("room", "created_by")
    readonly_fields = ("room", "token", "created_by", "created_at", "expires_at")
    fields = ("room", "token", "created_by", "created_at", "expires_at", "revoked_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
