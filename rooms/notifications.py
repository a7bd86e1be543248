"""A member's notification setting for a room: their own mute, not moderation's.

A muted room raises no browser notifications and its unread count shows subdued; its
mentions still get their badge (the client does all three, from `notifications_muted`
in the sidebar and the `room_notifications` event)."""

from django.db import transaction

from accounts.models import User
from rooms import events
from rooms.errors import InvalidInput
from rooms.models import Membership, Room


@transaction.atomic
def membership_set_notifications(*, user: User, room: Room, muted: bool) -> Membership:
    """Mutes (or unmutes) the room for `user`; their other tabs and devices follow."""
    membership = (
        Membership.objects.select_for_update().filter(user=user, room=room).first()
    )
    if membership is None:
        raise InvalidInput("You are not in this room.", code="not_member")
    if membership.notifications_muted != muted:
        membership.notifications_muted = muted
        membership.save(update_fields=["notifications_muted"])
        events.publish_on_commit(
            events.user_group(user.pk), notifications_event(membership)
        )
    return membership


def notifications_event(membership: Membership) -> dict[str, object]:
    return {
        "type": "room_notifications",
        "room": membership.room.slug,
        "muted": membership.notifications_muted,
    }
