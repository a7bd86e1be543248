"""rooms.selectors: the reads, each authorized for its reader."""

import pytest
from django.contrib.auth.models import AnonymousUser

from rooms import selectors, services
from rooms.errors import NotFound
from rooms.models import Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]


def seed(room: Room, count: int) -> None:
    author = member(room)
    for n in range(1, count + 1):
        send(room, author, f"m{n}")


def seqs(messages) -> list[int]:
    return [m.seq for m in messages]


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


# --- history -------------------------------------------------------------------------------


def test_when_history_is_asked_without_a_cursor_then_the_newest_page_oldest_first():
    room = RoomFactory()
    seed(room, 120)

    assert seqs(selectors.message_history(room=room)) == list(range(71, 121))


def test_when_history_is_asked_before_a_seq_then_the_page_just_before_it():
    room = RoomFactory()
    seed(room, 120)

    assert seqs(selectors.message_history(room=room, before_seq=71)) == list(
        range(21, 71)
    )
    assert seqs(selectors.message_history(room=room, before_seq=21)) == list(
        range(1, 21)
    )
    assert selectors.message_history(room=room, before_seq=1) == []


def test_when_history_asks_for_more_than_fifty_then_it_gets_fifty():
    room = RoomFactory()
    seed(room, 60)

    assert len(selectors.message_history(room=room, limit=500)) == 50
    assert seqs(selectors.message_history(room=room, limit=5)) == [56, 57, 58, 59, 60]


def test_when_history_includes_a_deleted_message_then_it_keeps_its_place():
    from rooms import services

    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    doomed = send(room, alice)
    send(room, alice)
    services.message_delete(actor=alice, message=doomed)

    page = selectors.message_history(room=room)

    assert seqs(page) == [1, 2, 3]
    assert page[1].is_deleted


def test_when_history_is_asked_then_other_rooms_messages_stay_out():
    room, other = RoomFactory(), RoomFactory()
    seed(room, 3)
    seed(other, 3)

    assert {m.room_id for m in selectors.message_history(room=room)} == {room.pk}


def test_when_messages_after_a_seq_are_asked_then_oldest_first_up_to_the_limit():
    room = RoomFactory()
    seed(room, 10)
    room.refresh_from_db()

    assert seqs(selectors.messages_after(room=room, after_seq=6, limit=10)) == [
        7,
        8,
        9,
        10,
    ]
    assert seqs(selectors.messages_after(room=room, after_seq=0, limit=3)) == [1, 2, 3]
    assert selectors.messages_after(room=room, after_seq=10, limit=10) == []


# --- catch-up reads --------------------------------------------------------------------------


def test_when_a_room_has_had_no_change_since_then_changes_read_nothing(
    django_assert_num_queries,
):
    room = RoomFactory()
    seed(room, 3)
    room.refresh_from_db()

    with django_assert_num_queries(0):
        assert (
            selectors.messages_changed(
                room=room, after_change=0, through_seq=3, limit=10
            )
            == []
        )


def test_when_changes_are_asked_then_the_messages_held_that_changed_since_in_change_order():
    room = RoomFactory()
    alice = member(room)
    one, two, three, four = (send(room, alice, f"m{n}") for n in range(1, 5))
    services.message_edit(actor=alice, message=two, body="m2 edited")  # change 1
    services.message_edit(actor=alice, message=one, body="m1 edited")  # 2
    services.message_delete(actor=alice, message=two)  # 3
    services.message_edit(actor=alice, message=four, body="m4 edited")  # 4
    room.refresh_from_db()

    def changed(after_change: int, through_seq: int = 3, limit: int = 10) -> list:
        return [
            (m.seq, m.change)
            for m in selectors.messages_changed(
                room=room,
                after_change=after_change,
                through_seq=through_seq,
                limit=limit,
            )
        ]

    # Each message once, in its state now; the fourth is past the seq the client
    # holds, so it comes as a message, not a change.
    assert changed(0) == [(1, 2), (2, 3)]
    assert changed(2) == [(2, 3)]
    assert changed(3) == []
    assert changed(0, through_seq=4) == [(1, 2), (2, 3), (4, 4)]
    assert changed(0, limit=1) == [(1, 2)]
    assert (
        selectors.messages_changed(room=room, after_change=0, through_seq=3, limit=10)[
            1
        ].deleted_at
        is not None
    )
