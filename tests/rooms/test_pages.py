"""rooms.pages: pages of messages as payloads, read with one statement each."""

import pytest

from rooms import events, pages, selectors, services
from rooms.models import Message, Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]

EVERYTHING = 2**62


def seed(room: Room, count: int) -> None:
    author = member(room)
    for n in range(1, count + 1):
        send(room, author, f"m{n}")


def seqs(payloads: list[dict]) -> list[int]:
    return [p["seq"] for p in payloads]


def model_payload(message: Message) -> dict:
    """The payload as made from the model, the way live events make it."""
    room = Room.objects.get(pk=message.room_id)
    return events.message_payload(
        selectors.room_message(room=room, message_id=message.pk)
    )


# --- the same payloads as from models ------------------------------------------------------


def test_a_page_shows_every_message_exactly_as_its_live_payload_does():
    """Each kind of message a row can hold: plain, edited, with a display name,
    mentioning someone, with reactions, a reply, a reply to a deleted message, a
    deleted one, and one whose author's account is gone."""
    room = RoomFactory()
    alice = member(room, UserFactory(display_name="Alice A."))
    bob = member(room, UserFactory(username="bob", display_name=""))
    gone = member(room)
    plain = send(room, bob, "just text")
    edited = send(room, alice, "first draft")
    services.message_edit(actor=alice, message=edited, body="**final** @bob")
    services.reaction_set(user=bob, message=plain, emoji="👍", on=True)
    services.reaction_set(user=alice, message=plain, emoji="👍", on=True)
    services.reaction_set(user=alice, message=plain, emoji="🎉", on=True)
    reply = services.message_send(
        author=bob, room=room, body="answering", reply_to=edited.pk
    ).message
    doomed = send(room, alice, "soon gone")
    orphan = services.message_send(
        author=bob, room=room, body="to the deleted one", reply_to=doomed.pk
    ).message
    services.message_delete(actor=alice, message=doomed)
    by_gone = send(room, gone, "from someone who leaves")
    services.message_send(
        author=alice, room=room, body="reply to the one who left", reply_to=by_gone.pk
    )
    gone.delete()
    room.refresh_from_db()

    page = pages.history(room=room, before_seq=EVERYTHING)

    expected = [model_payload(m) for m in room.messages.order_by("seq")]
    assert page == expected
    by_seq = {p["seq"]: p for p in page}
    assert by_seq[plain.seq]["reactions"][0]["users"] == ["bob", "Alice A."]
    assert by_seq[edited.seq]["mentions"] == [bob.pk]
    assert by_seq[edited.seq]["edited_at"] is not None
    assert by_seq[reply.seq]["reply_to"]["author"]["name"] == "Alice A."
    assert by_seq[orphan.seq]["reply_to"]["deleted"] is True
    assert by_seq[doomed.seq]["deleted"] is True
    assert by_seq[by_gone.seq]["author"]["name"] == "Deleted user"
    assert by_seq[by_gone.seq + 1]["reply_to"]["author"]["id"] is None
    assert by_seq[plain.seq]["client_id"] == str(plain.client_id)
    assert by_seq[plain.seq]["created_at"] == plain.created_at.isoformat()


# --- history -------------------------------------------------------------------------------


def test_history_is_the_page_just_before_a_seq_oldest_first():
    room = RoomFactory()
    seed(room, 120)

    assert seqs(pages.history(room=room, before_seq=EVERYTHING)) == list(range(71, 121))
    assert seqs(pages.history(room=room, before_seq=71)) == list(range(21, 71))
    assert seqs(pages.history(room=room, before_seq=21)) == list(range(1, 21))
    assert pages.history(room=room, before_seq=1) == []


def test_history_gives_at_most_fifty_whatever_is_asked():
    room = RoomFactory()
    seed(room, 60)

    assert len(pages.history(room=room, before_seq=EVERYTHING, limit=500)) == 50
    assert seqs(pages.history(room=room, before_seq=EVERYTHING, limit=5)) == [
        *range(56, 61)
    ]


def test_history_keeps_a_deleted_message_in_its_place_without_its_text():
    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    doomed = send(room, alice, "regret")
    send(room, alice)
    services.message_delete(actor=alice, message=doomed)

    page = pages.history(room=room, before_seq=EVERYTHING)

    assert seqs(page) == [1, 2, 3]
    assert page[1]["deleted"] and page[1]["body"] == page[1]["html"] == ""


def test_history_leaves_other_rooms_messages_out():
    room, other = RoomFactory(), RoomFactory()
    seed(room, 3)
    seed(other, 3)

    page = pages.history(room=room, before_seq=EVERYTHING)

    assert {p["room"] for p in page} == {room.slug}
    assert len(page) == 3


def test_a_page_is_one_query_and_reactions_one_more_only_if_it_has_some(
    django_assert_num_queries,
):
    room = RoomFactory()
    alice, bob = member(room), member(room)
    first = send(room, alice, "first")
    for n in range(5):
        services.message_send(
            author=bob, room=room, body=f"reply {n}", reply_to=first.pk
        )
    # One that came and went leaves nothing to read.
    services.reaction_set(user=bob, message=first, emoji="👍", on=True)
    services.reaction_set(user=bob, message=first, emoji="👍", on=False)

    with django_assert_num_queries(1):
        page = pages.history(room=room, before_seq=EVERYTHING)
    for person in (alice, bob):
        services.reaction_set(user=person, message=first, emoji="🎉", on=True)
    with django_assert_num_queries(2):
        again = pages.history(room=room, before_seq=EVERYTHING)

    assert [p["reactions"] for p in page] == [[]] * 6
    assert again[0]["reactions"][0]["count"] == 2
    assert [p["reactions"] for p in again[1:]] == [[]] * 5
    assert {p["reply_to"]["seq"] for p in again[1:]} == {1}


# --- catch-up ------------------------------------------------------------------------------


def test_after_a_seq_come_the_next_messages_oldest_first_up_to_the_limit():
    room = RoomFactory()
    seed(room, 10)

    assert seqs(pages.after(room=room, after_seq=6, limit=10)) == [7, 8, 9, 10]
    assert seqs(pages.after(room=room, after_seq=0, limit=3)) == [1, 2, 3]
    assert pages.after(room=room, after_seq=10, limit=10) == []


def test_when_a_room_has_had_no_change_since_then_changes_read_nothing(
    django_assert_num_queries,
):
    room = RoomFactory()
    seed(room, 3)
    room.refresh_from_db()

    with django_assert_num_queries(0):
        assert pages.changed(room=room, after_change=0, through_seq=3, limit=10) == []


def test_changed_are_the_messages_held_that_changed_since_in_change_order():
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
            (p["seq"], p["change"], p["deleted"], p["body"])
            for p in pages.changed(
                room=room,
                after_change=after_change,
                through_seq=through_seq,
                limit=limit,
            )
        ]

    # Each message once, in its state now; the fourth is past the seq the client
    # holds, so it comes as a message, not a change.
    assert changed(0) == [(1, 2, False, "m1 edited"), (2, 3, True, "")]
    assert changed(2) == [(2, 3, True, "")]
    assert changed(3) == []
    assert [c[:2] for c in changed(0, through_seq=4)] == [(1, 2), (2, 3), (4, 4)]
    assert [c[:2] for c in changed(0, limit=1)] == [(1, 2)]
