"""Moderation: the writes that keep order, each logged with who did it and why.

Staff act site-wide (from the Django admin); a room's owner and moderators act in
their room (from the chat). Every act here runs in one transaction, writes one
ModerationLog row, and publishes its event after commit, like every other write in
rooms.services. Deleting someone else's message is rooms.services.message_delete,
which logs through log_message_delete below.

Events this module publishes (docs/protocol.md):
- to the user's group: `signed_out` (site ban: rooms.sessions), `muted` / `unmuted`, and
  the `room_left` of a room ban (through rooms.services);
- to the room's group: `message_edited` for a restored message (its full state),
  `room_locked`.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from rooms import events, markdown, mentions, permissions, services, sessions
from rooms.errors import Forbidden, InvalidInput, NotFound
from rooms.models import Membership, Message, ModerationLog, Report, Room, RoomBan
from rooms.ratelimit import rate_limit

Action = ModerationLog.Action

REASON_MAX_LENGTH = 500
MUTE_MIN = timedelta(minutes=1)
MUTE_MAX = timedelta(days=365)


def clean_reason(reason: object, *, required: bool = False) -> str:
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if required and not text:
        raise InvalidInput("Give a reason.", code="reason_required")
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidInput(
            f"A reason is at most {REASON_MAX_LENGTH} characters.", code="too_long"
        )
    return text


def _log(
    *,
    actor: User,
    action: str,
    reason: str = "",
    target_user: User | None = None,
    room: Room | None = None,
    message: Message | None = None,
    **details: Any,
) -> ModerationLog:
    return ModerationLog.objects.create(
        actor=actor,
        action=action,
        reason=reason,
        target_user=target_user,
        room=room,
        message=message,
        details=details,
    )


def _publish_to_user(user: User, payload: dict[str, Any]) -> None:
    events.publish_on_commit(events.user_group(user.pk), payload)


# --- Messages -------------------------------------------------------------------------


def log_message_delete(*, actor: User, message: Message, reason: str) -> ModerationLog:
    """The record of a moderator deleting someone else's message (services does it)."""
    return _log(
        actor=actor,
        action=Action.MESSAGE_DELETE,
        reason=clean_reason(reason),
        target_user=message.author,
        room=message.room,
        message=message,
        seq=message.seq,
    )


@transaction.atomic
def message_restore(*, actor: User, message: Message, reason: str = "") -> Message:
    """Undoes a deletion: open pages get the message back (a `message_edited` event
    carrying its whole state)."""
    reason = clean_reason(reason)
    locked = (
        Message.objects.select_for_update(of=("self",), no_key=True)
        .select_related("room", "author", "reply_to__author")
        .get(pk=message.pk)
    )
    membership = Membership.objects.filter(room=locked.room, user=actor).first()
    if not permissions.can_moderate(actor, locked.room, membership):
        raise Forbidden("Only staff and the room's moderators can restore messages.")
    if locked.deleted_at is None:
        return locked
    locked.deleted_at = None
    locked.deleted_by = None
    services.stamp_change(locked)
    locked.save(update_fields=["deleted_at", "deleted_by", "change"])
    # Its mentions come back with it: those its stored HTML shows.
    mentions.mentions_set(message=locked, user_ids=markdown.mentioned_ids(locked.html))
    _log(
        actor=actor,
        action=Action.MESSAGE_RESTORE,
        reason=reason,
        target_user=locked.author,
        room=locked.room,
        message=locked,
        seq=locked.seq,
    )
    events.publish_on_commit(
        events.room_group(locked.room_id),
        events.message_edited_event(locked),
        room_id=locked.room_id,
    )
    return locked


# --- People, site-wide (staff) --------------------------------------------------------


def _staff_over(*, actor: User, user: User) -> None:
    """Staff act on ordinary accounts; only a superuser acts on staff; no one on
    themselves."""
    _staff_only(actor)
    if user.pk == actor.pk:
        raise InvalidInput("You cannot do that to yourself.", code="self")
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        raise Forbidden("Only a superuser can do that to staff.")


def _clean_duration(duration: timedelta) -> timedelta:
    if not MUTE_MIN <= duration <= MUTE_MAX:
        raise InvalidInput("A mute lasts from a minute to a year.")
    return duration


@transaction.atomic
def user_mute(*, actor: User, user: User, duration: timedelta, reason: str) -> User:
    """Mutes someone everywhere for `duration`: they read, but post nothing."""
    _staff_over(actor=actor, user=user)
    reason = clean_reason(reason, required=True)
    until = timezone.now() + _clean_duration(duration)
    User.objects.filter(pk=user.pk).update(muted_until=until, muted_reason=reason)
    user.muted_until, user.muted_reason = until, reason
    _log(
        actor=actor,
        action=Action.USER_MUTE,
        reason=reason,
        target_user=user,
        until=until.isoformat(),
    )
    _publish_to_user(
        user,
        {"type": "muted", "room": None, "until": until.isoformat(), "reason": reason},
    )
    return user


@transaction.atomic
def user_unmute(*, actor: User, user: User, reason: str = "") -> User:
    _staff_over(actor=actor, user=user)
    reason = clean_reason(reason)
    muted = User.objects.filter(pk=user.pk, muted_until__gt=timezone.now())
    if not muted.update(muted_until=None, muted_reason=""):
        raise InvalidInput(f"{user.shown_name} is not muted.", code="not_muted")
    user.muted_until, user.muted_reason = None, ""
    _log(actor=actor, action=Action.USER_UNMUTE, reason=reason, target_user=user)
    _publish_to_user(user, {"type": "unmuted", "room": None})
    return user


@transaction.atomic
def user_ban(*, actor: User, user: User, reason: str) -> User:
    """Closes an account: it can no longer log in, its sessions stop working, and
    its open connections are told why (`signed_out`) and end."""
    _staff_over(actor=actor, user=user)
    reason = clean_reason(reason, required=True)
    if not User.objects.filter(pk=user.pk, is_active=True).update(is_active=False):
        raise InvalidInput(f"{user.shown_name} is already banned.", code="already")
    user.is_active = False
    _log(actor=actor, action=Action.USER_BAN, reason=reason, target_user=user)
    sessions.end(user, sessions.ACCOUNT_CLOSED, detail=reason)
    return user


@transaction.atomic
def user_unban(*, actor: User, user: User, reason: str = "") -> User:
    _staff_over(actor=actor, user=user)
    reason = clean_reason(reason)
    if not User.objects.filter(pk=user.pk, is_active=False).update(is_active=True):
        raise InvalidInput(f"{user.shown_name} is not banned.", code="not_banned")
    user.is_active = True
    _log(actor=actor, action=Action.USER_UNBAN, reason=reason, target_user=user)
    return user


# --- Rooms ----------------------------------------------------------------------------


def _may_lock(actor: User, room: Room) -> None:
    membership = Membership.objects.filter(room=room, user=actor).first()
    if not permissions.can_moderate(actor, room, membership) or room.is_direct:
        raise Forbidden("Only staff and the room's moderators can lock a room.")


def _set_flag(*, room: Room, field: str, value: bool) -> bool:
    """Sets a room's flag; False when it already had that value (nothing to log)."""
    changed = (
        Room.objects.filter(pk=room.pk)
        .exclude(**{field: value})
        .update(**{field: value})
    )
    setattr(room, field, value)
    return bool(changed)


def _publish_locked(room: Room) -> None:
    events.publish_on_commit(
        events.room_group(room.pk),
        {"type": "room_locked", "room": room.slug, "locked": room.is_locked},
        room_id=room.pk,
    )


@transaction.atomic
def room_lock(*, actor: User, room: Room, reason: str) -> Room:
    """Makes a room read-only: only its moderators and staff may still post."""
    _may_lock(actor, room)
    reason = clean_reason(reason, required=True)
    if _set_flag(room=room, field="is_locked", value=True):
        _log(actor=actor, action=Action.ROOM_LOCK, reason=reason, room=room)
        _publish_locked(room)
    return room


@transaction.atomic
def room_unlock(*, actor: User, room: Room, reason: str = "") -> Room:
    _may_lock(actor, room)
    reason = clean_reason(reason)
    if _set_flag(room=room, field="is_locked", value=False):
        _log(actor=actor, action=Action.ROOM_UNLOCK, reason=reason, room=room)
        _publish_locked(room)
    return room


def _staff_only(actor: User) -> None:
    if not (actor.is_active and actor.is_staff):
        raise Forbidden("Only staff can do that.")


@transaction.atomic
def room_archive(*, actor: User, room: Room, reason: str) -> Room:
    """An archived room keeps its history, takes nothing new and leaves the lists."""
    _staff_only(actor)
    reason = clean_reason(reason, required=True)
    if _set_flag(room=room, field="is_archived", value=True):
        _log(actor=actor, action=Action.ROOM_ARCHIVE, reason=reason, room=room)
    return room


@transaction.atomic
def room_unarchive(*, actor: User, room: Room, reason: str = "") -> Room:
    _staff_only(actor)
    reason = clean_reason(reason)
    if _set_flag(room=room, field="is_archived", value=False):
        _log(actor=actor, action=Action.ROOM_UNARCHIVE, reason=reason, room=room)
    return room


# --- People in a room (its owner and moderators, and staff) ---------------------------


def _over_member(*, actor: User, room: Room, user: User) -> Membership | None:
    """Checks that `actor` may act on `user` in `room`; returns `user`'s membership.

    Staff may act on anyone but the owner; the owner on everyone else; a moderator
    on members. No one acts on themselves, and a direct message has no moderators.
    """
    actor_membership = Membership.objects.filter(room=room, user=actor).first()
    is_staff = actor.is_active and actor.is_staff
    if not is_staff:
        if not permissions.can_read(actor, room, actor_membership):
            raise NotFound("No such room.")
        if not permissions.can_manage_members(actor, room, actor_membership):
            raise Forbidden("Only the room's owner and moderators can do that.")
    if room.is_direct:
        raise InvalidInput("A direct message has no moderators.")
    if user.pk == actor.pk:
        raise InvalidInput("You cannot do that to yourself.", code="self")
    target = Membership.objects.filter(room=room, user=user).first()
    if target is not None and (
        target.role == Membership.Role.OWNER
        or (
            target.role == Membership.Role.MODERATOR
            and not is_staff
            and actor_membership.role != Membership.Role.OWNER
        )
    ):
        raise Forbidden(
            "Only the owner can act on a moderator; no one acts on the owner."
        )
    return target


@transaction.atomic
def membership_mute(
    *, actor: User, room: Room, user: User, duration: timedelta, reason: str
) -> Membership:
    """Mutes a member in this room for `duration`: they read, but post nothing here."""
    target = _over_member(actor=actor, room=room, user=user)
    if target is None:
        raise InvalidInput(f"{user.shown_name} is not in this room.", code="not_member")
    reason = clean_reason(reason)
    until = timezone.now() + _clean_duration(duration)
    target.muted_until, target.muted_reason = until, reason
    target.save(update_fields=["muted_until", "muted_reason"])
    _log(
        actor=actor,
        action=Action.MEMBER_MUTE,
        reason=reason,
        target_user=user,
        room=room,
        until=until.isoformat(),
    )
    _publish_to_user(
        user,
        {
            "type": "muted",
            "room": room.slug,
            "until": until.isoformat(),
            "reason": reason,
        },
    )
    return target


@transaction.atomic
def membership_unmute(
    *, actor: User, room: Room, user: User, reason: str = ""
) -> Membership:
    target = _over_member(actor=actor, room=room, user=user)
    if target is None:
        raise InvalidInput(f"{user.shown_name} is not in this room.", code="not_member")
    if not (target.muted_until and target.muted_until > timezone.now()):
        raise InvalidInput(f"{user.shown_name} is not muted.", code="not_muted")
    target.muted_until, target.muted_reason = None, ""
    target.save(update_fields=["muted_until", "muted_reason"])
    _log(
        actor=actor,
        action=Action.MEMBER_UNMUTE,
        reason=clean_reason(reason),
        target_user=user,
        room=room,
    )
    _publish_to_user(user, {"type": "unmuted", "room": room.slug})
    return target


@transaction.atomic
def membership_remove(*, actor: User, room: Room, user: User, reason: str = "") -> None:
    """Takes someone out of a room (they may rejoin a public one); their open pages
    stop following it at once (`room_left`)."""
    reason = clean_reason(reason)
    actor_membership = Membership.objects.filter(room=room, user=actor).first()
    if (
        actor.is_active
        and actor.is_staff
        and not permissions.can_manage_members(actor, room, actor_membership)
    ):
        # Staff from the admin: as if the person had left (an owner hands the room on).
        if not room.memberships.filter(user=user).exists():
            raise InvalidInput(
                f"{user.shown_name} is not in this room.", code="not_member"
            )
        services.membership_leave(user=user, room=room)
    else:
        services.membership_remove(actor=actor, room=room, user=user)
    _log(
        actor=actor,
        action=Action.MEMBER_REMOVE,
        reason=reason,
        target_user=user,
        room=room,
    )


@transaction.atomic
def membership_ban(*, actor: User, room: Room, user: User, reason: str) -> RoomBan:
    """Bans someone from a room: they are taken out at once (`room_left`), and cannot
    rejoin it, be added back or accept an invite until the ban is lifted."""
    target = _over_member(actor=actor, room=room, user=user)
    reason = clean_reason(reason, required=True)
    ban, created = RoomBan.objects.get_or_create(
        room=room, user=user, defaults={"banned_by": actor, "reason": reason}
    )
    if not created:
        raise InvalidInput(f"{user.shown_name} is already banned.", code="already")
    if target is not None:
        services._remove(user=user, room=room)  # the one way out: it tells their tabs
    _log(
        actor=actor,
        action=Action.MEMBER_BAN,
        reason=reason,
        target_user=user,
        room=room,
    )
    return ban


@transaction.atomic
def membership_unban(*, actor: User, room: Room, user: User, reason: str = "") -> None:
    _over_member(actor=actor, room=room, user=user)
    if not RoomBan.objects.filter(room=room, user=user).delete()[0]:
        raise InvalidInput(f"{user.shown_name} is not banned.", code="not_banned")
    _log(
        actor=actor,
        action=Action.MEMBER_UNBAN,
        reason=clean_reason(reason),
        target_user=user,
        room=room,
    )


# --- Reports --------------------------------------------------------------------------


@transaction.atomic
def report_create(*, reporter: User, message: Message, reason: str) -> Report:
    """A reader flags a message for staff. A second report of the same message by the
    same person, while the first is open, returns the first."""
    membership = Membership.objects.filter(room=message.room, user=reporter).first()
    if not permissions.can_read(reporter, message.room, membership):
        raise NotFound("No such message.")
    if message.author_id == reporter.pk:
        raise InvalidInput("You cannot report your own message.", code="self")
    if message.deleted_at is not None:
        raise InvalidInput("This message was deleted.", code="deleted")
    reason = clean_reason(reason, required=True)
    open_report = Report.objects.filter(
        reporter=reporter, message=message, resolved_at__isnull=True
    ).first()
    if open_report is not None:
        return open_report
    rate_limit(user_id=reporter.pk, action="report")
    return Report.objects.create(reporter=reporter, message=message, reason=reason)


@transaction.atomic
def report_resolve(*, actor: User, report: Report, resolution: str) -> Report:
    """Staff close a report with a note of what was done."""
    if not (actor.is_active and actor.is_staff):
        raise Forbidden("Only staff can resolve reports.")
    resolution = clean_reason(resolution, required=True)
    locked = (
        Report.objects.select_for_update(of=("self",))
        .select_related("message__room", "message__author")
        .get(pk=report.pk)
    )
    if locked.resolved_at is not None:
        return locked
    locked.resolved_by, locked.resolved_at = actor, timezone.now()
    locked.resolution = resolution
    locked.save(update_fields=["resolved_by", "resolved_at", "resolution"])
    _log(
        actor=actor,
        action=Action.REPORT_RESOLVE,
        reason=resolution,
        target_user=locked.message.author,
        room=locked.message.room,
        message=locked.message,
        report=locked.pk,
        reporter=locked.reporter_id,
    )
    return locked
