"""The one write path. Every change to rooms, memberships and messages is a function
here.

Views, consumers, the admin and management commands call these; each runs in one
transaction and publishes its event only after commit."""

import secrets
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import emoji as emoji_data
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from rooms import events, mentions, permissions, receipts, rows, selectors
from rooms.errors import (
    Banned,
    ChatError,
    Forbidden,
    InvalidInput,
    Muted,
    NotFound,
)
from rooms.models import Invite, Membership, Message, MessageEdit, Reaction, Room
from rooms.ratelimit import give_back, rate_limit, rate_limits


def clean_body(body: object) -> str:
    """A message's stored text: trimmed, 1 to CHAT_MESSAGE_MAX_LENGTH characters."""
    if not isinstance(body, str):
        raise InvalidInput("The message must be text.")
    text = body.strip()
    if not text:
        raise InvalidInput("The message is empty.", code="empty")
    if "\x00" in text:
        # PostgreSQL cannot store it: refuse it on every database, before the write.
        raise InvalidInput("The message contains a NUL character (U+0000).")
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(text) > limit:
        raise InvalidInput(
            f"The message is {len(text):,} characters long; the limit is {limit:,}.",
            code="too_long",
        )
    return text


EMOJI_MAX_LENGTH = 32


def clean_emoji(value: object) -> str:
    """A reaction: exactly one emoji (a skin tone, flag or ZWJ family counts as one)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > EMOJI_MAX_LENGTH or not emoji_data.is_emoji(text):
        raise InvalidInput("A reaction is a single emoji, such as 👍.")
    return text


# --- Rooms --------------------------------------------------------------------------


def _random_suffix(length: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@transaction.atomic
def room_create(
    *, creator: User, name: str, topic: str = "", kind: str = Room.Kind.PUBLIC
) -> Room:
    """Creates a room; its creator is its owner.

    A public room's slug is its name, unique. A private room's slug gets a random
    suffix, so neither its URL nor a "name taken" error tells anyone that it exists.
    """
    if kind not in {Room.Kind.PUBLIC, Room.Kind.PRIVATE}:
        raise InvalidInput("A room is public or private.")
    name = name.strip()
    base = slugify(name)[:70]
    if not base:
        raise InvalidInput("A room name needs at least one letter or digit.")
    slug = base if kind == Room.Kind.PUBLIC else f"{base}-{_random_suffix(8)}"
    taken = InvalidInput(f"A room named “{name}” already exists.", code="taken")
    if Room.objects.filter(slug=slug).exists():
        raise taken
    rate_limit(user_id=creator.pk, action="room_create")
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=slug, name=name, topic=topic.strip(), kind=kind, created_by=creator
            )
    except IntegrityError as exc:
        raise taken from exc
    _join(user=creator, room=room, role=Membership.Role.OWNER)
    return room


def room_edit(*, room: Room, name: str, topic: str, kind: str) -> Room:
    """Saves a room's name, topic and kind, as staff set them in the admin.

    A direct message stays one, and no room becomes one. A public room made private
    stops reaching those who only read it because it was public: every connection
    following it hears `room_private`, and those whose user may no longer read it
    stop following it then (rooms.realtime). Its slug stays: links keep working for
    its members."""
    if kind not in Room.Kind.values:
        raise InvalidInput("No such kind of room.")
    name = name.strip()
    if not name:
        raise InvalidInput("A room needs a name.")
    with transaction.atomic():
        before = Room.objects.select_for_update().get(pk=room.pk)
        if before.is_direct != (kind == Room.Kind.DIRECT):
            raise InvalidInput("A direct message stays one; a room cannot become one.")
        room.name, room.topic, room.kind = name, topic.strip(), kind
        room.save(update_fields=["name", "topic", "kind"])
        if before.is_public and not room.is_public:
            events.publish_on_commit(
                events.room_group(room.pk),
                {"type": "room_private", "room": room.slug},
                room_id=room.pk,
                members_only=room.pk,
            )
    return room


# --- Memberships --------------------------------------------------------------------


def _join(*, user: User, room: Room, role: str = Membership.Role.MEMBER) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, room=room, defaults={"role": role, "last_read_seq": room.last_seq}
    )
    if created:
        _announce_joined(membership)
    return membership


def _announce_joined(membership: Membership) -> None:
    """Tells the user's open tabs: show this room, and start following it."""
    room, user = membership.room, membership.user
    events.publish_on_commit(
        events.user_group(user.pk),
        {
            "type": "room_joined",
            "room": events.room_payload(
                room, name=selectors.room_title(room=room, viewer=user)
            ),
            "last_read_seq": membership.last_read_seq,
        },
        subscribe=room.pk,
    )


def _remove(*, user: User, room: Room) -> None:
    """Ends a membership; the user's open sockets and streams stop following at once."""
    Membership.objects.filter(user=user, room=room).delete()
    events.publish_on_commit(
        events.user_group(user.pk),
        {"type": "room_left", "room": room.slug},
        unsubscribe=room.pk,
    )


def _managed(*, actor: User, room: Room) -> Membership:
    membership = Membership.objects.filter(room=room, user=actor).first()
    if not permissions.can_read(actor, room, membership):
        raise NotFound("No such room.")
    if not permissions.can_manage_members(actor, room, membership):
        raise Forbidden("Only the room's owner and moderators can do that.")
    return membership


@transaction.atomic
def membership_join(*, user: User, room: Room) -> Membership:
    if not permissions.can_join(user, room):
        raise NotFound("No such room.")
    _refuse_banned(user=user, room=room)
    return _join(user=user, room=room)


def _refuse_banned(*, user: User, room: Room) -> None:
    """Someone the room's moderators banned stays out: no rejoining, no invites."""
    if ban := selectors.room_ban(user=user, room=room):
        reason = f" Reason: {ban.reason}" if ban.reason else ""
        raise Banned(
            f"You were banned from this room by its moderators.{reason}",
            reason=ban.reason,
        )


def membership_join_default_rooms(*, user: User) -> None:
    room = Room.objects.filter(slug=settings.CHAT_DEFAULT_ROOM_SLUG).first()
    if room is not None and permissions.can_join(user, room):
        _join(user=user, room=room)


@transaction.atomic
def membership_leave(*, user: User, room: Room) -> None:
    """Leaves a room.

    An owner hands ownership on to the longest-standing moderator, else member; the
    last person in a private room cannot leave it ownerless.
    """
    membership = Membership.objects.filter(user=user, room=room).first()
    if membership is None:
        raise InvalidInput("You are not in this room.", code="not_member")
    if membership.role == Membership.Role.OWNER:
        _hand_on_ownership(room=room, leaving=user)
    _remove(user=user, room=room)


def _hand_on_ownership(*, room: Room, leaving: User) -> None:
    others = Membership.objects.filter(room=room).exclude(user=leaving)
    if others.filter(role=Membership.Role.OWNER).exists():
        return
    heir = (
        others.filter(role=Membership.Role.MODERATOR)
        .order_by("joined_at", "pk")
        .first()
        or others.order_by("joined_at", "pk").first()
    )
    if heir is None:
        if not room.is_public:
            raise InvalidInput(
                "You are the last member: invite someone to hand the room on first.",
                code="last_owner",
            )
        return
    heir.role = Membership.Role.OWNER
    heir.save(update_fields=["role"])


@transaction.atomic
def membership_add(*, actor: User, room: Room, username: str) -> Membership:
    """An owner or moderator adds someone by username; it appears in their sidebar."""
    _managed(actor=actor, room=room)
    rate_limit(user_id=actor.pk, action="invite")
    user = User.objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise InvalidInput(
            f"There is no one called “{username.strip()}”.", code="no_user"
        )
    if Membership.objects.filter(room=room, user=user).exists():
        raise InvalidInput(
            f"{user.shown_name} is already in this room.", code="already"
        )
    if selectors.room_ban(user=user, room=room):
        raise Banned(f"{user.shown_name} is banned from this room: lift the ban first.")
    return _join(user=user, room=room)


@transaction.atomic
def membership_remove(*, actor: User, room: Room, user: User) -> None:
    actor_membership = _managed(actor=actor, room=room)
    target = Membership.objects.filter(room=room, user=user).first()
    if target is None:
        raise InvalidInput(f"{user.shown_name} is not in this room.", code="not_member")
    if user == actor:
        raise InvalidInput("To leave the room, use Leave.")
    if target.role == Membership.Role.OWNER or (
        target.role == Membership.Role.MODERATOR
        and actor_membership.role != Membership.Role.OWNER
    ):
        raise Forbidden(
            "Only the owner can remove a moderator; no one removes the owner."
        )
    _remove(user=user, room=room)


@transaction.atomic
def membership_set_role(
    *, actor: User, room: Room, user: User, role: str
) -> Membership:
    """The owner makes members moderators and back."""
    actor_membership = _managed(actor=actor, room=room)
    if actor_membership.role != Membership.Role.OWNER:
        raise Forbidden("Only the owner can change roles.")
    if role not in {Membership.Role.MODERATOR, Membership.Role.MEMBER}:
        raise InvalidInput("A role is moderator or member.")
    target = Membership.objects.filter(room=room, user=user).first()
    if target is None or target.role == Membership.Role.OWNER:
        raise InvalidInput("That person is not a member whose role can change.")
    target.role = role
    target.save(update_fields=["role"])
    return target


# --- Invites -------------------------------------------------------------------------


@transaction.atomic
def invite_create(*, actor: User, room: Room, days: int | None = None) -> Invite:
    _managed(actor=actor, room=room)
    if room.is_public:
        raise InvalidInput("Anyone can join a public room; it needs no invite link.")
    rate_limit(user_id=actor.pk, action="invite")
    days = days or settings.CHAT_INVITE_DAYS
    if not 1 <= days <= 30:
        raise InvalidInput("An invite lasts from 1 to 30 days.")
    return Invite.objects.create(
        room=room,
        token=secrets.token_urlsafe(24),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )


@transaction.atomic
def invite_revoke(*, actor: User, invite: Invite) -> Invite:
    _managed(actor=actor, room=invite.room)
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
    return invite


def invite_for_token(*, token: str) -> Invite:
    """The usable invite behind a link; expired, revoked and unknown look alike."""
    invite = Invite.objects.select_related("room").filter(token=token).first()
    if invite is None or not invite.is_usable or invite.room.is_archived:
        raise NotFound(
            "This invite link has expired or was revoked.", code="invite_invalid"
        )
    return invite


@transaction.atomic
def invite_accept(*, user: User, token: str) -> Membership:
    invite = invite_for_token(token=token)
    _refuse_banned(user=user, room=invite.room)
    return _join(user=user, room=invite.room)


# --- Direct messages -----------------------------------------------------------------


def dm_open(*, user: User, usernames: list[str]) -> Room:
    """The one conversation between `user` and these people, created on first use.

    1:1 and group DMs (up to CHAT_DM_MAX_PEOPLE people) are unique per set of people,
    even when several of them start it at the same instant.
    """
    names = sorted({n.strip() for n in usernames if n.strip()} - {user.username})
    if not names:
        raise InvalidInput("Choose someone other than yourself.", code="dm_self")
    limit = settings.CHAT_DM_MAX_PEOPLE
    if len(names) + 1 > limit:
        raise InvalidInput(
            f"A direct message has at most {limit} people.", code="dm_too_many"
        )
    others = list(User.objects.filter(username__in=names, is_active=True))
    missing = set(names) - {u.username for u in others}
    if missing:
        raise InvalidInput(
            f"There is no one called “{sorted(missing)[0]}”.", code="no_user"
        )
    people = [user, *others]
    key = "-".join(str(pk) for pk in sorted(u.pk for u in people))
    if existing := Room.objects.filter(dm_key=key).first():
        return existing
    rate_limit(user_id=user.pk, action="dm_create")
    try:
        with transaction.atomic():
            room, created = Room.objects.get_or_create(
                dm_key=key,
                defaults={
                    "slug": f"dm-{_random_suffix(12)}",
                    "name": "Direct message",
                    "kind": Room.Kind.DIRECT,
                    "created_by": user,
                },
            )
            if created:
                memberships = [
                    Membership.objects.create(user=person, room=room)
                    for person in people
                ]
                for membership in memberships:
                    _announce_joined(membership)
    except IntegrityError:
        room = Room.objects.get(dm_key=key)
    return room


@transaction.atomic
def membership_mark_read(*, user: User, room: Room, seq: int) -> int:
    """Moves the user's read position forward to `seq` (never back); returns it.

    The user's other tabs and devices hear of it, so their unread badges clear too;
    where read receipts apply, so do the room's other members (rooms.receipts).
    """
    seq = min(seq, Room.objects.values_list("last_seq", flat=True).get(pk=room.pk))
    moved = Membership.objects.filter(
        user=user, room=room, last_read_seq__lt=seq
    ).update(last_read_seq=seq)
    if moved:
        events.publish_on_commit(
            events.user_group(user.pk), {"type": "read", "room": room.slug, "seq": seq}
        )
        receipts.receipt_publish(user=user, room=room, seq=seq)
    return seq


# --- Messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool
    payload: dict[str, Any]  # events.message_payload, made once for event and ack


def _previous_send(
    author: User, room: Room | str, client_id: uuid.UUID
) -> SendResult | None:
    message = (
        Message.objects.select_related("author", "room")
        .filter(author=author, client_id=client_id)
        .first()
    )
    if message is None:
        return None
    same_room = (
        message.room.slug == room
        if isinstance(room, str)
        else message.room_id == room.pk
    )
    if not same_room:
        raise InvalidInput("This client_id was already used for another message.")
    return SendResult(
        message=message, created=False, payload=events.message_payload(message)
    )


@dataclass(frozen=True)
class SendRequest:
    """One message to send, as messages_send takes it (message_send's arguments)."""

    author: User
    room: Room | str
    body: object
    client_id: uuid.UUID | None = None
    reply_to: int | None = None


def message_send(
    *,
    author: User,
    room: Room | str,
    body: object,
    client_id: uuid.UUID | None = None,
    reply_to: int | None = None,
) -> SendResult:
    """Stores a message with its room's next seq and publishes it after commit.

    `room` is the room or its slug: a socket names rooms by slug, and the room is
    read (and locked) once, inside the transaction, either way.

    Idempotent by (author, client_id): a retried send returns the first result, even
    when two retries race, and even if the author could no longer send it now (a lost
    ack, then removed from the room). The first result is looked for only when the
    send fails, by the unique (author, client_id) or otherwise, so that a new message,
    the common case, costs no read before its write. `reply_to` is the id of a message
    in the same room.
    """
    request = SendRequest(author, room, body, client_id, reply_to)
    (outcome,) = messages_send([request])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def messages_send(requests: Sequence[SendRequest]) -> list[SendResult | Exception]:
    """Stores several sends in one transaction (a group commit), each as
    message_send would; the outcome of each, in order: its SendResult, or the error
    it failed with (a ChatError to tell its sender, anything else a fault to log).

    A busy server's sockets send while the database thread is storing the last
    batch (rooms.realtime.SendBatches): together they share one trip to that thread
    and one commit, the costs that do not grow with the batch. Each send is still its
    own savepoint, so a refused one takes back only its own seq and rows. The rooms
    are locked in one order (by slug), so two processes' batches cannot deadlock on
    PostgreSQL."""
    outcomes: list[SendResult | Exception | None] = [None] * len(requests)
    texts: dict[int, str] = {}
    for index, request in enumerate(requests):
        try:
            texts[index] = clean_body(request.body)
        except ChatError as error:
            outcomes[index] = error
    refusals = rate_limits(
        user_ids=[requests[index].author.pk for index in texts], action="message"
    )
    # What failed in a way that a retry of an earlier send explains.
    retried: set[int] = set()
    storing = []
    for index, refused in zip(texts, refusals, strict=True):
        if refused is None:
            storing.append(index)
        else:
            outcomes[index] = refused
            retried.add(index)
    storing.sort(key=lambda index: _slug_of(requests[index].room))
    with transaction.atomic():
        for index in storing:
            request = requests[index]
            try:
                with transaction.atomic(savepoint=len(storing) > 1):
                    outcomes[index] = _store_message(
                        author=request.author,
                        room=request.room,
                        text=texts[index],
                        client_id=request.client_id,
                        reply_to=request.reply_to,
                    )
            except (ChatError, IntegrityError) as error:
                outcomes[index] = error
                retried.add(index)
            except Exception as error:
                outcomes[index] = error
    # Those that got as far as storing took a flood-control token.
    for index in retried:
        outcomes[index] = _first_result(
            requests[index], outcomes[index], took_token=index in storing
        )
    return outcomes


def _slug_of(room: Room | str) -> str:
    return room if isinstance(room, str) else room.slug


def _first_result(
    request: SendRequest, error: Exception, *, took_token: bool
) -> SendResult | Exception:
    """For a send that failed: the first result of the same client_id, if this is a
    retry (its token given back), else the error."""
    if request.client_id is None:
        return error
    try:
        previous = _previous_send(request.author, request.room, request.client_id)
    except ChatError as other:
        return other
    if previous is None:
        return error
    if took_token:
        give_back(user_id=request.author.pk, action="message")
    return previous


_ROOM_FIELDS = rows.fields_of(Room)
_READ_UP_TO = f"UPDATE {Membership._meta.db_table} SET last_read_seq = %s WHERE id = %s"
# By slug or by id.
_CLAIM_SEQ = {
    column: (
        f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + 1"
        f" WHERE {column} = %s RETURNING {rows.columns(None, _ROOM_FIELDS)}"
    )
    for column in ("slug", "id")
}


def _claim_seq(room: Room | str) -> Room:
    """The room, locked, its last_seq already advanced by one for the new message.

    One UPDATE ... RETURNING (SQLite 3.35+, PostgreSQL) instead of a read, a locked
    read and an update, the largest share of a send's SQL. Refused sends raise, and
    the transaction takes the seq back."""
    column, value = ("slug", room) if isinstance(room, str) else ("id", room.pk)
    claimed = rows.read(_CLAIM_SEQ[column], [value], _ROOM_FIELDS)
    if not claimed:
        raise NotFound("No such room.")
    return rows.instance(Room, claimed[0])


def stamp_change(message: Message) -> None:
    """Gives `message` its room's next change number, for the caller to save with its
    change (an edit, a deletion or restoration, a reaction).

    Taken with one UPDATE ... RETURNING, which locks the room until commit: change
    numbers are gap-free and commit in order, so a client holding every change up to
    N (Room.last_change when it read the room) misses exactly those above N.

    Callers lock the message first, FOR NO KEY UPDATE, then the room. A send holds
    the room while its row's foreign keys take a KEY SHARE lock on the message it
    replies to, which a plain FOR UPDATE would block: the two would deadlock."""
    table = Room._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_change = last_change + 1 WHERE id = %s"
            " RETURNING last_change",
            [message.room_id],
        )
        (message.change,) = cursor.fetchone()


def _store_message(
    *,
    author: User,
    room: Room | str,
    text: str,
    client_id: uuid.UUID | None,
    reply_to: int | None,
) -> SendResult:
    locked = _claim_seq(room)
    membership = selectors.membership_with_user(room=locked, user=author)
    if not permissions.can_read(author, locked, membership):
        raise NotFound("No such room.")
    ensure_may_post(user=author, room=locked, membership=membership)
    parent = _reply_parent(room=locked, reply_to=reply_to)
    seq = locked.last_seq
    rendered = mentions.render(room=locked, text=text)
    message = Message(
        room=locked,
        seq=seq,
        author=author,
        body=text,
        html=rendered.html,
        client_id=client_id,
        reply_to=parent,
    )
    rows.insert(message)
    if rendered.mentions:
        mentions.mentions_set(message=message, user_ids=rendered.mentions)
    # The author has read what they wrote.
    with connection.cursor() as cursor:
        cursor.execute(_READ_UP_TO, [seq, membership.pk])
    # A new message has no reactions yet: its payload need not ask the database.
    payload = events.message_payload(message, reactions=())
    events.publish_on_commit(
        events.room_group(locked.pk),
        {"type": "message", "room": locked.slug, "message": payload},
        room_id=locked.pk,
    )
    return SendResult(message=message, created=True, payload=payload)


def ensure_may_post(*, user: User, room: Room, membership: Membership | None) -> None:
    """What posting needs, and saying one is typing too: a member, of a room that is
    not archived, who may speak there now."""
    if room.is_archived:
        raise Forbidden(
            "This room is archived: it keeps its history but takes no new messages.",
            code="archived",
        )
    if not permissions.can_post(user, room, membership):
        raise Forbidden("Join the room to post in it.", code="not_member")
    _ensure_may_speak(user=user, room=room, membership=membership)


def _ensure_may_speak(*, user: User, room: Room, membership: Membership | None) -> None:
    """A locked room is read-only but for its moderators; a muted user may only read.

    A membership's user is read fresh: a socket's user was loaded when it connected."""
    if room.is_locked and not permissions.can_moderate(user, room, membership):
        raise Forbidden(
            "This room is locked by its moderators: it is read-only for now.",
            code="locked",
        )
    fresh = membership.user if membership is not None else user
    if mute := selectors.active_mute(user=fresh, membership=membership):
        where = "everywhere" if mute.site_wide else "in this room"
        until = mute.until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        reason = f" Reason: {mute.reason}" if mute.reason else ""
        raise Muted(
            f"You are muted {where} until {until}.{reason}",
            until=mute.until,
            reason=mute.reason,
        )


def _reply_parent(*, room: Room, reply_to: int | None) -> Message | None:
    """The message a reply answers: one in the same room, else a clear error (the
    same for a message elsewhere as for none at all, so nothing leaks)."""
    if reply_to is None:
        return None
    parent = (
        Message.objects.select_related("author").filter(pk=reply_to, room=room).first()
    )
    if parent is None:
        raise InvalidInput("The message you are replying to is not in this room.")
    return parent


@transaction.atomic
def message_edit(*, actor: User, message: Message, body: object) -> Message:
    """The author changes their message's text; the old text is kept as history.

    The same rules as sending apply to the new text. Nothing changes, and nothing is
    published, when the text is the same.
    """
    text = clean_body(body)
    locked = (
        Message.objects.select_for_update(of=("self",), no_key=True)
        .select_related("room", "author", "reply_to__author")
        .get(pk=message.pk)
    )
    membership = Membership.objects.filter(room=locked.room, user=actor).first()
    if not permissions.can_read(actor, locked.room, membership):
        raise NotFound("No such message.")
    if not permissions.can_edit_message(actor, locked, membership):
        raise Forbidden("Only its author can edit a message.")
    if locked.deleted_at is not None:
        raise InvalidInput("This message was deleted.", code="deleted")
    if locked.room.is_archived:
        raise Forbidden(
            "This room is archived: its messages can no longer change.",
            code="archived",
        )
    _ensure_may_speak(user=actor, room=locked.room, membership=membership)
    if text == locked.body:
        return locked
    rate_limit(user_id=actor.pk, action="message_edit")
    now = timezone.now()
    MessageEdit.objects.create(
        message=locked, old_body=locked.body, edited_at=now, edited_by=actor
    )
    rendered = mentions.render(room=locked.room, text=text)
    locked.body = text
    locked.html = rendered.html
    locked.edited_at = now
    stamp_change(locked)
    locked.save(update_fields=["body", "html", "edited_at", "change"])
    mentions.mentions_set(message=locked, user_ids=rendered.mentions)
    events.publish_on_commit(
        events.room_group(locked.room_id),
        events.message_edited_event(locked),
        room_id=locked.room_id,
    )
    return locked


@transaction.atomic
def message_delete(*, actor: User, message: Message, reason: str = "") -> Message:
    """Soft-deletes: the row stays (moderators may need it; seq stays gap-free).

    Deleting someone else's message is moderation: it is logged, with `reason`.
    """
    message = (
        Message.objects.select_for_update(of=("self",), no_key=True)
        .select_related("room", "author")
        .get(pk=message.pk)
    )
    membership = Membership.objects.filter(room_id=message.room_id, user=actor).first()
    if not permissions.can_delete_message(actor, message, membership):
        raise Forbidden("You may not delete this message.")
    if message.deleted_at is not None:
        return message
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    stamp_change(message)
    message.save(update_fields=["deleted_at", "deleted_by", "change"])
    mentions.mentions_set(message=message, user_ids=frozenset())
    if message.author_id != actor.pk:
        from rooms import moderation  # it builds on this module

        moderation.log_message_delete(actor=actor, message=message, reason=reason)
    events.publish_on_commit(
        events.room_group(message.room_id),
        events.message_deleted_event(message),
        room_id=message.room_id,
    )
    return message


# --- Reactions ------------------------------------------------------------------------


@transaction.atomic
def reaction_set(*, user: User, message: Message, emoji: object, on: bool) -> Message:
    """Adds (on) or takes back (not on) the user's emoji on a message; idempotent.

    Returns the message as it is now, its reactions read (events.reactions_of). One
    message's reactions change one at a time (its row is locked), so every published
    summary is complete.
    """
    emoji = clean_emoji(emoji)
    locked = (
        Message.objects.select_for_update(of=("self",), no_key=True)
        .select_related("room")
        .get(pk=message.pk)
    )
    membership = Membership.objects.filter(room=locked.room, user=user).first()
    if not permissions.can_read(user, locked.room, membership):
        raise NotFound("No such message.")
    if locked.deleted_at is not None:
        raise InvalidInput("This message was deleted.", code="deleted")
    if not permissions.can_react(user, locked.room, membership):
        raise Forbidden("Join the room to react in it.", code="not_member")
    _ensure_may_speak(user=user, room=locked.room, membership=membership)
    mine = Reaction.objects.filter(message=locked, user=user, emoji=emoji)
    changed = on != mine.exists()
    if changed:
        rate_limit(user_id=user.pk, action="reaction")
        if on:
            Reaction.objects.create(message=locked, user=user, emoji=emoji)
        else:
            mine.delete()
        stamp_change(locked)
        locked.save(update_fields=["change"])
    setattr(
        locked,
        events.PREFETCHED_REACTIONS,
        list(locked.reactions.select_related("user")),
    )
    if changed:
        events.publish_on_commit(
            events.room_group(locked.room_id),
            events.reactions_event(locked),
            room_id=locked.room_id,
        )
    return locked
