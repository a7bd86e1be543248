"""The one write path. Every change to rooms, memberships and messages is a function
here.

Views, consumers, the admin and management commands call these; each runs in one
transaction and publishes its event only after commit."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from rooms import events, permissions
from rooms.errors import Forbidden, InvalidInput, NotFound
from rooms.models import Membership, Message, Room


def clean_body(body: object) -> str:
    """A message's stored text: trimmed, 1 to CHAT_MESSAGE_MAX_LENGTH characters."""
    if not isinstance(body, str):
        raise InvalidInput("The message must be text.")
    text = body.strip()
    if not text:
        raise InvalidInput("The message is empty.", code="empty")
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(text) > limit:
        raise InvalidInput(
            f"The message is {len(text):,} characters long; the limit is {limit:,}.",
            code="too_long",
        )
    return text


# --- Rooms --------------------------------------------------------------------------


@transaction.atomic
def room_create(
    *, creator: User, name: str, topic: str = "", kind: str = Room.Kind.PUBLIC
) -> Room:
    """Creates a room named `name` with a unique slug; its creator is its owner."""
    name = name.strip()
    slug = slugify(name)[:80]
    if not slug:
        raise InvalidInput("A room name needs at least one letter or digit.")
    if Room.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A room named “{name}” already exists.", code="taken")
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=slug, name=name, topic=topic.strip(), kind=kind, created_by=creator
            )
    except IntegrityError as exc:
        raise InvalidInput(
            f"A room named “{name}” already exists.", code="taken"
        ) from exc
    _join(user=creator, room=room, role=Membership.Role.OWNER)
    return room


# --- Memberships --------------------------------------------------------------------


def _join(*, user: User, room: Room, role: str = Membership.Role.MEMBER) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, room=room, defaults={"role": role, "last_read_seq": room.last_seq}
    )
    if created:
        events.publish_on_commit(
            events.user_group(user.pk),
            {
                "type": "room_joined",
                "room": events.room_payload(room),
                "last_read_seq": membership.last_read_seq,
            },
            subscribe=room.pk,
        )
    return membership


@transaction.atomic
def membership_join(*, user: User, room: Room) -> Membership:
    if not permissions.can_join(user, room):
        raise NotFound("No such room.")
    return _join(user=user, room=room)


def membership_join_default_rooms(*, user: User) -> None:
    room = Room.objects.filter(slug=settings.CHAT_DEFAULT_ROOM_SLUG).first()
    if room is not None and permissions.can_join(user, room):
        _join(user=user, room=room)


@transaction.atomic
def membership_leave(*, user: User, room: Room) -> None:
    deleted, _ = Membership.objects.filter(user=user, room=room).delete()
    if not deleted:
        raise InvalidInput("You are not in this room.", code="not_member")
    events.publish_on_commit(
        events.user_group(user.pk),
        {"type": "room_left", "room": room.slug},
        unsubscribe=room.pk,
    )


@transaction.atomic
def membership_mark_read(*, user: User, room: Room, seq: int) -> int:
    """Moves the user's read position forward to `seq` (never back); returns it.

    The user's other tabs and devices hear of it, so their unread badges clear too.
    """
    seq = min(seq, Room.objects.values_list("last_seq", flat=True).get(pk=room.pk))
    moved = Membership.objects.filter(
        user=user, room=room, last_read_seq__lt=seq
    ).update(last_read_seq=seq)
    if moved:
        events.publish_on_commit(
            events.user_group(user.pk), {"type": "read", "room": room.slug, "seq": seq}
        )
    return seq


# --- Messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool


def _previous_send(author: User, room: Room, client_id: uuid.UUID) -> SendResult | None:
    message = (
        Message.objects.select_related("author", "room")
        .filter(author=author, client_id=client_id)
        .first()
    )
    if message is None:
        return None
    if message.room_id != room.pk:
        raise InvalidInput("This client_id was already used for another message.")
    return SendResult(message=message, created=False)


def message_send(
    *, author: User, room: Room, body: object, client_id: uuid.UUID | None = None
) -> SendResult:
    """Stores a message with its room's next seq and publishes it after commit.

    Idempotent by (author, client_id): a retried send returns the first result, even
    when two retries race.
    """
    text = clean_body(body)
    if client_id is not None and (previous := _previous_send(author, room, client_id)):
        return previous
    try:
        with transaction.atomic():
            message = _store_message(
                author=author, room=room, text=text, client_id=client_id
            )
    except IntegrityError:
        if client_id is not None and (
            previous := _previous_send(author, room, client_id)
        ):
            return previous
        raise
    return SendResult(message=message, created=True)


def _store_message(
    *, author: User, room: Room, text: str, client_id: uuid.UUID | None
) -> Message:
    locked = Room.objects.select_for_update().get(pk=room.pk)
    membership = Membership.objects.filter(room=locked, user=author).first()
    if not permissions.can_read(author, locked, membership):
        raise NotFound("No such room.")
    if not permissions.can_post(author, locked, membership):
        raise Forbidden("Join the room to post in it.", code="not_member")
    seq = locked.last_seq + 1
    Room.objects.filter(pk=locked.pk).update(last_seq=seq)
    message = Message.objects.create(
        room=locked, seq=seq, author=author, body=text, client_id=client_id
    )
    # The author has read what they wrote.
    Membership.objects.filter(pk=membership.pk).update(last_read_seq=seq)
    events.publish_on_commit(
        events.room_group(locked.pk),
        {
            "type": "message",
            "room": locked.slug,
            "message": events.message_payload(message),
        },
        room_id=locked.pk,
    )
    return message


@transaction.atomic
def message_delete(*, actor: User, message: Message) -> Message:
    """Soft-deletes: the row stays (moderators may need it; seq stays gap-free)."""
    membership = Membership.objects.filter(room_id=message.room_id, user=actor).first()
    if not permissions.can_delete_message(actor, message, membership):
        raise Forbidden("You may not delete this message.")
    if message.deleted_at is not None:
        return message
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.save(update_fields=["deleted_at", "deleted_by"])
    events.publish_on_commit(
        events.room_group(message.room_id),
        {
            "type": "message_deleted",
            "room": message.room.slug,
            "id": message.pk,
            "seq": message.seq,
        },
        room_id=message.room_id,
    )
    return message
