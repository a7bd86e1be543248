"""“Alice is typing…”: an ephemeral signal, never stored.

A client sends `typing` at most every few seconds while its user types; everyone
following the room is told, and their pages let the notice lapse a few seconds after
the last one. Only someone who may post in the room may say they are typing in it, by
the same rules as sending. Flood control drops the excess silently: a typing notice
is not worth an error to a client that sends too many.
"""

from accounts.models import User
from rooms import events, services
from rooms.errors import RateLimited
from rooms.ratelimit import rate_limit
from rooms.selectors import RoomAccess


def typing_event(*, user: User, room_slug: str) -> dict[str, object]:
    return {"type": "typing", "room": room_slug, "user": events.user_payload(user)}


def typing_notify(*, user: User, access: RoomAccess) -> None:
    """Tells the room that `user` is typing, if they may post there; no seq, no row."""
    room = access.room
    services.ensure_may_post(user=user, room=room, membership=access.membership)
    try:
        rate_limit(user_id=user.pk, action="typing")
    except RateLimited:
        return
    events.publish_on_commit(
        events.room_group(room.pk),
        typing_event(user=user, room_slug=room.slug),
        room_id=room.pk,
    )
