"""Moderation from the Django admin. Every write goes through rooms.services, so what
staff do here reaches open pages live, exactly as if done from the chat."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from rooms import services
from rooms.models import Invite, Membership, Message, MessageEdit, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "last_seq", "is_archived", "created_at")
    list_filter = ("kind", "is_archived")
    search_fields = ("name", "slug", "topic")
    readonly_fields = ("slug", "last_seq", "created_by", "created_at")
    fields = (
        "name",
        "slug",
        "topic",
        "kind",
        "is_archived",
        "last_seq",
        "created_by",
        "created_at",
    )

    def save_model(self, request: HttpRequest, obj: Room, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
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
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "room", "role", "joined_at", "last_read_seq")
    list_filter = ("role", "room__kind", "room")
    search_fields = ("user__username", "user__display_name", "room__name", "room__slug")
    list_select_related = ("user", "room")
    readonly_fields = ("user", "room", "role", "joined_at", "last_read_seq")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_leave(user=obj.user, room=obj.room)

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
class MessageAdmin(admin.ModelAdmin):
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

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        """Soft-deletes through the service: open pages show the message as deleted."""
        services.message_delete(actor=request.user, message=obj)

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
