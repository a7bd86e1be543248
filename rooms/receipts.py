"""Read receipts: "Seen by …" in direct messages and small rooms.

They come from the read positions that drive unread counts (Membership.last_read_seq),
so there is nothing more to store. Only members hear of them, and only of people who
share them (User.share_read_receipts): in a big room they would be noise and a cost
on every read, so they stop at CHAT_RECEIPTS_MAX_MEMBERS members.
"""

from typing import Any

from django.conf import settings

from accounts.models import User
from rooms import events
from rooms.models import Membership, Room


def receipts_apply(*, room: Room) -> bool:
    """Whether the room shows read receipts: a DM always, else a small enough room."""
    return _members_if_receipts(room) is not None


def _members_if_receipts(room: Room) -> int | None:
    """The room's number of members if it shows read receipts, else None."""
    members = Membership.objects.filter(room=room).count()
    if room.is_direct or members <= settings.CHAT_RECEIPTS_MAX_MEMBERS:
        return members
    return None


def room_receipts(*, room: Room) -> dict[str, Any] | None:
    """What a member's page needs to say who has seen the newest message: the number
    of members, and each sharing member's read position (None: not shown here).

    The caller has checked the reader is a member."""
    if not receipts_apply(room=room):
        return None
    memberships = Membership.objects.filter(room=room).select_related("user")
    return {
        "members": len(memberships),
        "read": [
            receipt_payload(m.user, m.last_read_seq)
            for m in memberships
            if m.user.share_read_receipts and m.user.is_active
        ],
    }


def receipt_payload(user: User, seq: int | None) -> dict[str, Any]:
    return {"user": events.user_payload(user), "seq": seq}


def receipt_publish(*, user: User, room: Room, seq: int | None) -> None:
    """Tells the room's other members that `user` has read up to `seq` (None: they
    stopped sharing), after commit, if the room shows receipts and the user shares
    them. To the members' own groups: a non-member reading a public room follows its
    group, and must hear nothing of who read what. The event carries the number of
    members, which pages need for "Seen by everyone" and which joins change."""
    # Read afresh: a socket's user was loaded when it connected.
    shares = User.objects.filter(pk=user.pk, share_read_receipts=True).exists()
    if seq is not None and not shares:
        return
    if (members := _members_if_receipts(room)) is None:
        return
    others = (
        Membership.objects.filter(room=room)
        .exclude(user=user)
        .values_list("user_id", flat=True)
    )
    events.publish_many_on_commit(
        [(events.user_group(pk), room.pk) for pk in others],
        {
            "type": "receipt",
            "room": room.slug,
            "members": members,
            **receipt_payload(user, seq),
        },
    )


def receipts_sharing_changed(*, user: User) -> None:
    """The user started or stopped sharing: open pages of their rooms add them to, or
    drop them from, "Seen by" at once."""
    for membership in Membership.objects.filter(user=user).select_related("room"):
        seq = membership.last_read_seq if user.share_read_receipts else None
        receipt_publish(user=user, room=membership.room, seq=seq)
