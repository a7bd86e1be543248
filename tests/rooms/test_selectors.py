"""rooms.selectors: the reads, each authorized for its reader."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import User
from rooms import selectors
from rooms.errors import NotFound
from rooms.models import Membership, Room
from tests.factories import RoomFactory, UserFactory, member

pytestmark = [pytest.mark.django_db]


# --- room_access ---------------------------------------------------------------------------


def test_when_a_signed_in_user_opens_a_public_room_then_access_without_membership():
    room = RoomFactory()

    access = selectors.room_access(user=UserFactory(), slug=room.slug)

    assert access.room == room
    assert not access.is_member


def test_when_a_member_opens_a_private_room_then_access_with_their_membership(
    django_assert_num_queries,
):
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    alice = member(room)

    # One read: every frame about a room checks access first.
    with django_assert_num_queries(1):
        access = selectors.room_access(user=alice, slug=room.slug)

    assert access.is_member
    assert access.room == room
    assert access.membership.user == alice


def test_when_an_outsider_opens_a_public_room_then_one_read_gives_the_room_as_stored(
    django_assert_num_queries,
):
    room = RoomFactory(topic="Tea & <b>", last_seq=7, last_change=3)
    stored = Room.objects.get(pk=room.pk)
    outsider = UserFactory()

    with django_assert_num_queries(1):
        access = selectors.room_access(user=outsider, slug=room.slug)

    assert access.membership is None
    fields = [f.attname for f in Room._meta.concrete_fields]
    assert [getattr(access.room, f) for f in fields] == [
        getattr(stored, f) for f in fields
    ]


def test_when_a_member_opens_a_room_then_the_membership_is_as_stored():
    room = RoomFactory()
    alice = member(room)
    Membership.objects.filter(room=room, user=alice).update(last_read_seq=5)
    stored = Membership.objects.get(room=room, user=alice)

    access = selectors.room_access(user=alice, slug=room.slug)

    fields = [f.attname for f in Membership._meta.concrete_fields]
    assert [getattr(access.membership, f) for f in fields] == [
        getattr(stored, f) for f in fields
    ]
    assert access.membership.room is access.room


def test_may_read_asks_by_id_with_the_same_rules():
    private = RoomFactory(kind=Room.Kind.PRIVATE)
    alice = member(private)
    outsider = UserFactory()

    assert selectors.may_read(user=alice, room_id=private.pk)
    assert not selectors.may_read(user=outsider, room_id=private.pk)
    assert selectors.may_read(user=outsider, room_id=RoomFactory().pk)
    assert not selectors.may_read(user=alice, room_id=private.pk + 1000)


def test_when_an_outsider_opens_a_private_room_then_the_same_error_as_no_room():
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    outsider = UserFactory()

    with pytest.raises(NotFound) as private:
        selectors.room_access(user=outsider, slug=room.slug)
    with pytest.raises(NotFound) as missing:
        selectors.room_access(user=outsider, slug="no-such-room")

    assert (private.value.code, private.value.message) == (
        missing.value.code,
        missing.value.message,
    )


def test_when_an_anonymous_reader_opens_a_public_room_then_not_found():
    room = RoomFactory()

    with pytest.raises(NotFound):
        selectors.room_access(user=AnonymousUser(), slug=room.slug)


# --- lists ---------------------------------------------------------------------------------


def test_when_rooms_are_listed_then_only_open_public_rooms_in_name_order():
    RoomFactory(name="Zebra", slug="zebra")
    RoomFactory(name="Apple", slug="apple")
    RoomFactory(name="Secret", slug="secret", kind=Room.Kind.PRIVATE)
    RoomFactory(name="Dm", slug="dm-x", kind=Room.Kind.DIRECT)
    RoomFactory(name="Old", slug="old", is_archived=True)

    rooms = list(selectors.public_rooms())

    assert {r.slug for r in rooms} == {"general", "zebra", "apple"}
    assert [r.name for r in rooms] == sorted(r.name for r in rooms)


def test_when_a_users_rooms_are_listed_then_archived_rooms_are_left_out():
    alice = UserFactory()
    kept = RoomFactory()
    archived = RoomFactory(is_archived=True)
    member(kept, alice)
    member(archived, alice)
    member(RoomFactory())  # someone else's

    assert [m.room for m in selectors.memberships_for_user(user=alice)] == [kept]
    assert sorted(selectors.member_room_ids(user=alice)) == sorted(
        [kept.pk, archived.pk]
    )


def test_a_users_room_ids_are_read_in_one_query_by_user_or_by_id(
    django_assert_num_queries,
):
    alice = UserFactory()
    rooms = [RoomFactory() for _ in range(3)]
    for room in rooms:
        member(room, alice)
    member(RoomFactory())  # someone else's
    expected = sorted(r.pk for r in rooms)

    with django_assert_num_queries(1):
        assert sorted(selectors.member_room_ids(user=alice)) == expected
    assert sorted(selectors.member_room_ids(user=alice.pk)) == expected
    assert selectors.member_room_ids(user=UserFactory()) == []


# --- membership_with_user ----------------------------------------------------------------


def test_membership_with_user_reads_the_user_afresh_as_the_orm_would():
    room = RoomFactory()
    alice = member(room)
    socket_user = User.objects.get(pk=alice.pk)  # as loaded when a socket connected
    until = timezone.now() + timedelta(hours=1)
    User.objects.filter(pk=alice.pk).update(muted_until=until, muted_reason="spam")
    Membership.objects.filter(user=alice, room=room).update(role="moderator")

    found = selectors.membership_with_user(room=room, user=socket_user)

    expected = Membership.objects.select_related("user").get(user=alice, room=room)
    assert found == expected and found.room is room
    assert found.role == "moderator"
    assert found.user.muted_until == until and found.user.muted_reason == "spam"
    assert {
        f.attname: getattr(found.user, f.attname) for f in User._meta.concrete_fields
    } == {
        f.attname: getattr(expected.user, f.attname) for f in User._meta.concrete_fields
    }
    assert not found._state.adding and not found.user._state.adding


def test_membership_with_user_is_none_for_someone_not_in_the_room():
    room, elsewhere = RoomFactory(), RoomFactory()
    bob = member(elsewhere)

    assert selectors.membership_with_user(room=room, user=bob) is None
