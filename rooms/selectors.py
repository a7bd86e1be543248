"""Reads. Every function that returns room content takes the reader and authorizes."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from rooms import permissions, rows
from rooms.errors import NotFound
from rooms.models import Invite, Membership, Message, Room, RoomBan


@dataclass(frozen=True)
class RoomAccess:
    room: Room
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None


def room_access(*, user: User, slug: str) -> RoomAccess:
    """The room and the reader's membership, or NotFound if the reader may not see it.

    A private room a user cannot read raises the same error as a missing one, so its
    existence does not leak.
    """
    access = _readable(user, slug=slug)
    if access is None:
        raise NotFound("No such room.")
    return access


def may_read(*, user: User, room_id: int) -> bool:
    """Whether the user may read the room now (its kind, their membership)."""
    return _readable(user, pk=room_id) is not None


def _readable(user: User, **room: object) -> RoomAccess | None:
    """The room named by `room` (slug= or pk=) and the user's membership, or None if
    there is no such room or the user may not read it.

    One plain statement (rooms.rows), the membership joined in: every history page,
    resume and frame about a room asks this first, and Django compiling the two
    lookups it used to make was most of a history request's work
    (docs/performance.md)."""
    ((lookup, value),) = room.items()
    found = rows.read(_ROOM_ACCESS[lookup], [user.pk, value], _ROOM_AND_MEMBERSHIP)
    if not found:
        return None
    split = len(_ROOM_FIELDS)
    found_room = rows.instance(Room, found[0][:split])
    membership = None
    if found[0][split] is not None:  # the membership's id: the LEFT JOIN matched
        membership = rows.instance(Membership, found[0][split:])
        membership.room = found_room
        membership.user = user
    if not permissions.can_read(user, found_room, membership):
        return None
    return RoomAccess(room=found_room, membership=membership)


_MEMBERSHIP_FIELDS = rows.fields_of(Membership)
_ROOM_FIELDS = rows.fields_of(Room)
_ROOM_AND_MEMBERSHIP = _ROOM_FIELDS + _MEMBERSHIP_FIELDS
# By slug or by id; an anonymous reader's id is NULL, which joins no membership.
_ROOM_ACCESS = {
    lookup: (
        f"SELECT {rows.columns('r', _ROOM_FIELDS)},"
        f" {rows.columns('m', _MEMBERSHIP_FIELDS)}"
        f" FROM {Room._meta.db_table} r"
        f" LEFT JOIN {Membership._meta.db_table} m"
        " ON m.room_id = r.id AND m.user_id = %s"
        f" WHERE r.{column} = %s"
    )
    for lookup, column in (
        ("slug", Room._meta.get_field("slug").column),
        ("pk", Room._meta.pk.column),
    )
}
_USER_FIELDS = rows.fields_of(User)
_BOTH_FIELDS = _MEMBERSHIP_FIELDS + _USER_FIELDS
_MEMBERSHIP_WITH_USER = (
    f"SELECT {rows.columns('m', _MEMBERSHIP_FIELDS)}, {rows.columns('u', _USER_FIELDS)}"
    f" FROM {Membership._meta.db_table} m"
    f" JOIN {User._meta.db_table} u ON u.id = m.user_id"
    " WHERE m.room_id = %s AND m.user_id = %s"
)


def membership_with_user(*, room: Room, user: User) -> Membership | None:
    """The user's membership of the room with the user read afresh, or None.

    Fresh because a socket's user was loaded when it connected: mutes and rights may
    have changed since. Read on every send, so one plain statement (rooms.rows):
    Django compiling this join was a quarter of a send's work (docs/performance.md)."""
    found = rows.read(_MEMBERSHIP_WITH_USER, [room.pk, user.pk], _BOTH_FIELDS)
    if not found:
        return None
    split = len(_MEMBERSHIP_FIELDS)
    membership = rows.instance(Membership, found[0][:split])
    membership.user = rows.instance(User, found[0][split:])
    membership.room = room
    return membership


def room_title(*, room: Room, viewer: User) -> str:
    """A DM is named for the other people in it, as each of them sees it."""
    if not room.is_direct:
        return room.name
    others = sorted(
        m.user.shown_name for m in room.memberships.all() if m.user_id != viewer.pk
    )
    return ", ".join(others) or "Just you"


def dm_partner(*, room: Room, viewer: User) -> int | None:
    """The id of the one other person in a two-person DM; None for any other room.

    Reads the room's prefetched memberships, as room_title does."""
    if not room.is_direct:
        return None
    others = [m.user_id for m in room.memberships.all() if m.user_id != viewer.pk]
    return others[0] if len(others) == 1 else None


def room_members(*, room: Room) -> QuerySet[Membership]:
    return room.memberships.select_related("user").order_by("joined_at")


@dataclass(frozen=True)
class Mute:
    until: datetime
    reason: str
    site_wide: bool


def active_mute(*, user: User, membership: Membership | None) -> Mute | None:
    """What keeps `user` from posting now, if anything: the later-ending of a
    site-wide mute (staff) and one in this room (its moderators).

    Reads the mutes off the objects given, so pass fresh ones: a socket's user was
    loaded when it connected."""
    now = timezone.now()
    mutes = []
    if user.muted_until and user.muted_until > now:
        mutes.append(Mute(user.muted_until, user.muted_reason, site_wide=True))
    if membership and membership.muted_until and membership.muted_until > now:
        mutes.append(
            Mute(membership.muted_until, membership.muted_reason, site_wide=False)
        )
    return max(mutes, key=lambda mute: mute.until, default=None)


def room_ban(*, user: User, room: Room) -> RoomBan | None:
    if not user.is_authenticated:
        return None
    return RoomBan.objects.filter(room=room, user=user).first()


def room_bans(*, room: Room) -> QuerySet[RoomBan]:
    return room.bans.select_related("user", "banned_by")


def room_invites(*, room: Room) -> QuerySet[Invite]:
    return room.invites.filter(revoked_at__isnull=True).select_related("created_by")


def users_search(*, query: str, exclude: User, limit: int = 20) -> QuerySet[User]:
    """People to start a DM with, by username or display name."""
    query = query.strip()
    users = User.objects.filter(is_active=True).exclude(pk=exclude.pk)
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(display_name__icontains=query)
        )
    return users.order_by("username")[:limit]


_MEMBER_ROOM_IDS = f"SELECT room_id FROM {Membership._meta.db_table} WHERE user_id = %s"


def member_room_ids(*, user: User | int) -> list[int]:
    """The rooms a user (or user id) is a member of.

    Read for every socket that connects and every user who goes offline, so one plain
    statement: 0.02 ms in-process, against 0.17-0.27 ms for the queryset Django
    compiled each time (docs/performance.md)."""
    user_id = user if isinstance(user, int) else user.pk
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_ROOM_IDS, [user_id])
        return [room_id for (room_id,) in cursor.fetchall()]


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    """The sidebar: every room the user is in, with what unread counts need."""
    return (
        Membership.objects.filter(user=user, room__is_archived=False)
        .select_related("room")
        .prefetch_related("room__memberships__user")
        .order_by("room__kind", "room__name")
    )


def public_rooms() -> QuerySet[Room]:
    return Room.objects.filter(kind=Room.Kind.PUBLIC, is_archived=False).order_by(
        "name"
    )


def room_message(*, room: Room, message_id: int) -> Message:
    """A message of a room the caller has already authorized, or NotFound.

    Its payload reads its reactions (events.reactions_of)."""
    message = (
        room.messages.select_related("author", "reply_to__author")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound("No such message.")
    return message
