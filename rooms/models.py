from django.conf import settings
from django.db import models
from django.utils import timezone


class Room(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private"
        DIRECT = "direct", "Direct message"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=80)
    topic = models.CharField(max_length=250, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PUBLIC)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_archived = models.BooleanField(default=False)
    # Locked: read-only for now; only its moderators and staff may still post.
    is_locked = models.BooleanField(default=False)
    # Direct messages only: the sorted member ids, unique, so two people starting the
    # same conversation at the same instant end up in one room.
    dm_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # The seq of the newest message; the next message takes last_seq + 1 in the
    # same transaction, which keeps seq gap-free per room.
    last_seq = models.BigIntegerField(default=0)
    # The number of the newest change to a stored message (an edit, a deletion or
    # restoration, a reaction): claimed like last_seq, under the room's lock, so a
    # client that was away asks for the changes after the last one it saw.
    last_change = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.PUBLIC

    @property
    def is_direct(self) -> bool:
        return self.kind == self.Kind.DIRECT


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MODERATOR = "moderator", "Moderator"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_seq = models.BigIntegerField(default=0)
    # Muted by the room's moderators: may read but not post until then.
    muted_until = models.DateTimeField(null=True, blank=True)
    muted_reason = models.CharField(max_length=500, blank=True)
    # The member's own choice, unrelated to moderation: no browser notifications from
    # this room, and its unread count shown subdued (mentions still get their badge).
    notifications_muted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    body = models.TextField()
    # The body rendered (Markdown, sanitized: rooms.markdown) when stored or edited.
    html = models.TextField(blank=True, default="")
    client_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A reply quotes a message of the same room; it survives its parent's removal.
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    # The room's change number (Room.last_change) of this message's latest change;
    # null until it first changes, so most messages stay out of the index below.
    change = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq"),
            models.UniqueConstraint(
                fields=["author", "client_id"], name="message_author_client_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["room", "change"],
                name="message_room_change",
                condition=models.Q(change__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.room_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Mention(models.Model):
    """Someone named in a message as @username, other than its author.

    Room and seq are copied from the message (neither ever changes), so a member's
    unread mentions are the rows with seq above their read position, one index away.
    A deleted message has none; an edit adds and removes them to match its text.
    """

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="mentions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        ordering = ["room", "seq", "user"]
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="mention_unique")
        ]
        indexes = [
            models.Index(fields=["user", "room", "seq"], name="mention_user_room_seq")
        ]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.message}"


class MessageEdit(models.Model):
    """A message's text before one edit: its history, for moderators."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    old_body = models.TextField()
    edited_at = models.DateTimeField(default=timezone.now)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["message", "edited_at", "pk"]

    def __str__(self) -> str:
        return f"Edit of {self.message}"


class Reaction(models.Model):
    """One person's emoji on one message."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="reaction_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message}"


class Invite(models.Model):
    """A link that admits its holder to a private room until expiry or revocation."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite to {self.room}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class RoomBan(models.Model):
    """Someone a room's moderators put out: they cannot rejoin it or accept invites."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_bans"
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_ban_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} banned from {self.room}"


class Report(models.Model):
    """A member's report of a message, queued for staff until resolved."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="reports_made",
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Report #{self.pk} on {self.message}"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class ModerationLog(models.Model):
    """One moderation act: who, to what, and why. Written once, never changed."""

    class Action(models.TextChoices):
        MESSAGE_DELETE = "message_delete", "Deleted a message"
        MESSAGE_RESTORE = "message_restore", "Restored a message"
        USER_MUTE = "user_mute", "Muted site-wide"
        USER_UNMUTE = "user_unmute", "Unmuted site-wide"
        USER_BAN = "user_ban", "Banned from the site"
        USER_UNBAN = "user_unban", "Reinstated on the site"
        ROOM_LOCK = "room_lock", "Locked a room"
        ROOM_UNLOCK = "room_unlock", "Unlocked a room"
        ROOM_ARCHIVE = "room_archive", "Archived a room"
        ROOM_UNARCHIVE = "room_unarchive", "Unarchived a room"
        MEMBER_MUTE = "member_mute", "Muted in a room"
        MEMBER_UNMUTE = "member_unmute", "Unmuted in a room"
        MEMBER_REMOVE = "member_remove", "Removed from a room"
        MEMBER_BAN = "member_ban", "Banned from a room"
        MEMBER_UNBAN = "member_unban", "Unbanned from a room"
        REPORT_RESOLVE = "report_resolve", "Resolved a report"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="moderation_acts",
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_received",
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor or 'someone'}"
