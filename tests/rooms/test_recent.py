"""rooms.recent: each room's newest page of payloads, kept per process and exact."""

import pytest

from rooms import moderation, pages, recent, services
from rooms.models import Membership, Room
from tests.factories import RoomFactory, member, send

pytestmark = [pytest.mark.django_db]


def fresh_payloads(room: Room, before_seq: int = 2**62) -> list[dict]:
    """The payloads as read from the database now, without rooms.recent."""
    return pages.history(room=room, before_seq=before_seq)


def reread(room: Room) -> Room:
    """The room as each caller reads it first, to authorize."""
    return Room.objects.get(pk=room.pk)


def room_with_messages(count: int) -> Room:
    """A room with `count` messages, m0 to m<count - 1>, as a reader reads it."""
    room = RoomFactory()
    alice = member(room)
    for n in range(count):
        send(room, alice, f"m{n}")
    return reread(room)


def test_the_newest_page_is_built_once_and_then_read_from_memory(
    settings, django_assert_num_queries
):
    settings.CHAT_HISTORY_PAGE_SIZE = 5
    room = room_with_messages(8)

    first = recent.history(room=room)
    with django_assert_num_queries(0):
        again = recent.history(room=room)
        assert [p["seq"] for p in recent.history(room=room, limit=2)] == [7, 8]

    assert first == again == fresh_payloads(room)
    assert [p["seq"] for p in first] == [4, 5, 6, 7, 8]


def test_a_new_message_an_edit_a_deletion_a_restore_or_a_reaction_is_seen_at_once():
    room = RoomFactory()
    alice = member(room)
    moderator = member(room, role=Membership.Role.MODERATOR)
    message = send(room, alice, "first")
    recent.history(room=reread(room))

    changes = [
        lambda: send(room, alice, "second"),
        lambda: services.message_edit(actor=alice, message=message, body="edited"),
        lambda: services.reaction_set(user=alice, message=message, emoji="👍", on=True),
        lambda: services.message_delete(actor=alice, message=message),
        lambda: moderation.message_restore(actor=moderator, message=message),
    ]
    for change in changes:
        change()
        room = reread(room)
        assert recent.history(room=room) == fresh_payloads(room)


def test_a_message_stored_after_the_room_was_read_waits_for_the_next_read():
    room = RoomFactory()
    alice = member(room)
    send(room, alice, "one")
    read_before = reread(room)
    send(room, alice, "two")

    # Exact for the numbers the caller read: the newer message comes live, or with
    # the next read of the room.
    assert [p["body"] for p in recent.history(room=read_before)] == ["one"]
    assert [p["body"] for p in recent.history(room=reread(room))] == ["one", "two"]


def test_a_new_display_name_shows_once_the_entry_has_aged(monkeypatch):
    room = RoomFactory()
    alice = member(room)
    send(room, alice, "hello")
    room = reread(room)
    recent.history(room=room)
    alice.display_name = "Alice Renamed"
    alice.save()

    assert recent.history(room=room)[0]["author"]["name"] != "Alice Renamed"
    monkeypatch.setattr(recent, "SECONDS", 0)
    assert recent.history(room=room)[0]["author"]["name"] == "Alice Renamed"


def test_older_pages_come_from_the_database(settings):
    settings.CHAT_HISTORY_PAGE_SIZE = 3
    room = room_with_messages(7)

    page = recent.history(room=room, before_seq=4)

    assert [p["seq"] for p in page] == [1, 2, 3]
    assert page == fresh_payloads(room, before_seq=4)


def test_catching_up_reads_nothing_when_up_to_date_and_the_newest_page_when_near(
    settings, django_assert_num_queries
):
    settings.CHAT_HISTORY_PAGE_SIZE = 5
    room = room_with_messages(12)

    with django_assert_num_queries(0):
        assert recent.after(room=room, after_seq=12, limit=10) == []
    recent.history(room=room)
    with django_assert_num_queries(0):
        assert [p["seq"] for p in recent.after(room=room, after_seq=8, limit=10)] == [
            9,
            10,
            11,
            12,
        ]
        assert [p["seq"] for p in recent.after(room=room, after_seq=7, limit=2)] == [
            8,
            9,
        ]
    # Further back than the newest page: the database, up to the limit.
    assert [p["seq"] for p in recent.after(room=room, after_seq=2, limit=3)] == [
        3,
        4,
        5,
    ]


def test_only_so_many_rooms_are_kept(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(recent, "ROOMS", 2)
    rooms = [RoomFactory() for _ in range(3)]
    for room in rooms:
        send(room, member(room))
    rooms = [reread(room) for room in rooms]
    for room in rooms:
        recent.history(room=room)

    with django_assert_num_queries(0):
        recent.history(room=rooms[2])
        recent.history(room=rooms[1])
    with django_assert_num_queries(1):
        recent.history(room=rooms[0])
