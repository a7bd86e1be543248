"""rooms.permissions: who may read, join, post in, moderate a room, delete a message."""

import pytest
from django.contrib.auth.models import AnonymousUser

from rooms import permissions
from rooms.models import Membership, Room
from tests.factories import MembershipFactory, RoomFactory, UserFactory, send

pytestmark = [pytest.mark.django_db]

PUBLIC, PRIVATE, DIRECT = Room.Kind.PUBLIC, Room.Kind.PRIVATE, Room.Kind.DIRECT


def membership_of(user, room, role=Membership.Role.MEMBER):
    return MembershipFactory(user=user, room=room, role=role)


@pytest.mark.parametrize(
    ("kind", "is_member", "expected"),
    [
        (PUBLIC, False, True),
        (PUBLIC, True, True),
        (PRIVATE, False, False),
        (PRIVATE, True, True),
        (DIRECT, False, False),
        (DIRECT, True, True),
    ],
)
def test_when_asked_who_reads_then_public_rooms_are_open_and_others_are_members_only(
    kind, is_member, expected
):
    user = UserFactory()
    room = RoomFactory(kind=kind)
    membership = membership_of(user, room) if is_member else None

    assert permissions.can_read(user, room, membership) is expected


@pytest.mark.parametrize("kind", [PUBLIC, PRIVATE])
def test_when_the_reader_is_anonymous_or_deactivated_then_they_read_nothing(kind):
    room = RoomFactory(kind=kind)
    inactive = UserFactory(is_active=False)

    assert not permissions.can_read(AnonymousUser(), room, None)
    assert not permissions.can_read(inactive, room, membership_of(inactive, room))


@pytest.mark.parametrize(
    ("room_kwargs", "expected"),
    [
        ({"kind": PUBLIC}, True),
        ({"kind": PUBLIC, "is_archived": True}, False),
        ({"kind": PRIVATE}, False),
        ({"kind": DIRECT}, False),
    ],
)
def test_when_asked_who_joins_then_only_open_public_rooms_admit_anyone(
    room_kwargs, expected
):
    assert permissions.can_join(UserFactory(), RoomFactory(**room_kwargs)) is expected
    assert not permissions.can_join(AnonymousUser(), RoomFactory(**room_kwargs))


def test_when_asked_who_posts_then_members_of_rooms_that_are_not_archived():
    user = UserFactory()
    room = RoomFactory()
    archived = RoomFactory(is_archived=True)

    assert not permissions.can_post(user, room, None)
    assert permissions.can_post(user, room, membership_of(user, room))
    assert not permissions.can_post(user, archived, membership_of(user, archived))


def test_when_a_deactivated_member_posts_then_no():
    user = UserFactory(is_active=False)
    room = RoomFactory()

    assert not permissions.can_post(user, room, membership_of(user, room))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Membership.Role.OWNER, True),
        (Membership.Role.MODERATOR, True),
        (Membership.Role.MEMBER, False),
        (None, False),
    ],
)
def test_when_asked_who_moderates_then_owners_and_moderators(role, expected):
    user = UserFactory()
    room = RoomFactory()
    membership = membership_of(user, room, role) if role else None

    assert permissions.can_moderate(user, room, membership) is expected


def test_when_staff_moderate_then_any_room_but_not_once_deactivated():
    room = RoomFactory()

    assert permissions.can_moderate(UserFactory(is_staff=True), room, None)
    assert not permissions.can_moderate(
        UserFactory(is_staff=True, is_active=False), room, None
    )


def test_when_asked_who_deletes_a_message_then_its_author_and_moderators():
    room = RoomFactory()
    alice, bob, mod = UserFactory(), UserFactory(), UserFactory()
    membership_of(alice, room)
    bob_membership = membership_of(bob, room)
    mod_membership = membership_of(mod, room, Membership.Role.MODERATOR)
    message = send(room, alice)

    assert permissions.can_delete_message(alice, message, None)
    assert not permissions.can_delete_message(bob, message, bob_membership)
    assert permissions.can_delete_message(mod, message, mod_membership)
    assert permissions.can_delete_message(UserFactory(is_staff=True), message, None)
    assert not permissions.can_delete_message(AnonymousUser(), message, None)


def test_when_the_author_is_deactivated_then_they_cannot_delete():
    room = RoomFactory()
    alice = UserFactory()
    membership_of(alice, room)
    message = send(room, alice)
    alice.is_active = False

    assert not permissions.can_delete_message(alice, message, None)
