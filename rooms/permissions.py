"""Who may read, post in and manage a room. Every entry point asks here."""

from accounts.models import User
from rooms.models import Membership, Message, Room


def can_read(user: User, room: Room, membership: Membership | None) -> bool:
    """Public rooms are readable by any signed-in user; others by their members only."""
    if not user.is_authenticated or not user.is_active:
        return False
    return room.is_public or membership is not None


def can_join(user: User, room: Room) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and room.is_public
        and not room.is_archived
    )


def can_post(user: User, room: Room, membership: Membership | None) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and membership is not None
        and not room.is_archived
    )


def can_moderate(user: User, room: Room, membership: Membership | None) -> bool:
    if user.is_staff and user.is_active:
        return True
    return membership is not None and membership.role in {
        Membership.Role.OWNER,
        Membership.Role.MODERATOR,
    }


def can_delete_message(
    user: User, message: Message, membership: Membership | None
) -> bool:
    """Authors delete their own messages; staff and room moderators delete any."""
    if not user.is_authenticated or not user.is_active:
        return False
    return message.author_id == user.pk or can_moderate(user, message.room, membership)


def can_edit_message(
    user: User, message: Message, membership: Membership | None
) -> bool:
    """Only its author edits a message, while they can read the room."""
    return (
        can_read(user, message.room, membership)
        and message.author_id is not None
        and message.author_id == user.pk
    )


def can_react(user: User, room: Room, membership: Membership | None) -> bool:
    """Reacting is a small post: members of a room that is not archived."""
    return can_post(user, room, membership)


def can_manage_members(user: User, room: Room, membership: Membership | None) -> bool:
    """A room's owner and moderators invite and remove people; a DM has no managers."""
    return (
        user.is_authenticated
        and user.is_active
        and not room.is_direct
        and not room.is_archived
        and membership is not None
        and membership.role in {Membership.Role.OWNER, Membership.Role.MODERATOR}
    )
