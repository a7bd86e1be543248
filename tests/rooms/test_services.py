"""rooms.services: the one write path."""

import re
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from accounts.models import User
from rooms import services
from rooms.errors import Forbidden, InvalidInput, NotFound
from rooms.models import Membership, Message, Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]


def stored(room: Room) -> tuple[int, int]:
    """What a failed write must leave untouched: the room's rows and its last seq."""
    room.refresh_from_db()
    return Message.objects.filter(room=room).count(), room.last_seq


# --- message_send ------------------------------------------------------------------------


def test_when_members_send_then_each_message_takes_the_rooms_next_seq():
    room = RoomFactory()
    alice, bob = member(room), member(room)

    seqs = [send(room, author).seq for author in (alice, bob, alice)]

    assert seqs == [1, 2, 3]
    room.refresh_from_db()
    assert room.last_seq == 3


def test_when_two_rooms_get_messages_then_each_counts_its_own_seq():
    first, second = RoomFactory(), RoomFactory()
    alice = member(first)
    member(second, alice)

    send(first, alice)
    send(first, alice)

    assert send(second, alice).seq == 1
    assert send(first, alice).seq == 3


def test_when_a_message_is_sent_then_it_stores_author_body_and_client_id():
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()

    result = services.message_send(
        author=alice, room=room, body="  hello there \n", client_id=client_id
    )

    assert result.created
    message = Message.objects.get()
    assert (message.author, message.body, message.client_id) == (
        alice,
        "hello there",
        client_id,
    )


def test_when_the_author_sends_then_their_read_position_moves_to_their_message():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    send(room, bob)

    message = send(room, alice)

    assert (
        Membership.objects.get(user=alice, room=room).last_read_seq == message.seq == 2
    )
    assert Membership.objects.get(user=bob, room=room).last_read_seq == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("x" * 4001, "too_long"),
        ("  " + "x" * 4001 + "  ", "too_long"),
        (None, "invalid"),
        (42, "invalid"),
        (["hello"], "invalid"),
        ({"text": "hello"}, "invalid"),
        ("nul \x00 inside", "invalid"),
    ],
    ids=[
        "empty",
        "whitespace",
        "4001-chars",
        "4001-chars-padded",
        "none",
        "int",
        "list",
        "dict",
        "nul-character",
    ],
)
def test_when_the_body_is_not_1_to_4000_chars_of_text_then_clear_error_and_nothing_stored(
    body, code
):
    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    before = stored(room)

    with pytest.raises(InvalidInput) as caught:
        services.message_send(
            author=alice, room=room, body=body, client_id=uuid.uuid4()
        )

    assert caught.value.code == code
    assert caught.value.message
    assert stored(room) == before


def test_when_the_body_is_4000_chars_after_trimming_then_it_is_stored_whole():
    room = RoomFactory()
    alice = member(room)

    message = services.message_send(
        author=alice, room=room, body="\n " + "é" * 4000 + " \n"
    ).message

    assert message.body == "é" * 4000


def test_when_the_too_long_error_is_raised_then_it_names_the_length_and_the_limit():
    room = RoomFactory()
    alice = member(room)

    with pytest.raises(InvalidInput) as caught:
        services.message_send(author=alice, room=room, body="x" * 5000)

    assert "5,000" in caught.value.message
    assert "4,000" in caught.value.message


def test_when_the_body_looks_like_html_then_it_is_stored_as_raw_text():
    room = RoomFactory()
    alice = member(room)

    message = send(room, alice, "<script>alert('x')</script> & <b>bold</b>")

    message.refresh_from_db()
    assert message.body == "<script>alert('x')</script> & <b>bold</b>"


def test_when_a_send_is_retried_with_the_same_client_id_then_the_first_result_returns():
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()

    first = services.message_send(
        author=alice, room=room, body="once", client_id=client_id
    )
    retry = services.message_send(
        author=alice, room=room, body="once, again", client_id=client_id
    )

    assert first.created and not retry.created
    assert retry.message.pk == first.message.pk
    assert retry.message.seq == first.message.seq
    assert retry.message.body == "once"
    assert stored(room) == (1, 1)


def test_when_a_client_id_is_reused_in_another_room_then_error_and_nothing_stored():
    first, second = RoomFactory(), RoomFactory()
    alice = member(first)
    member(second, alice)
    client_id = uuid.uuid4()
    services.message_send(author=alice, room=first, body="here", client_id=client_id)

    with pytest.raises(InvalidInput):
        services.message_send(
            author=alice, room=second, body="there", client_id=client_id
        )

    assert stored(second) == (0, 0)
    assert stored(first) == (1, 1)


def test_when_two_authors_use_the_same_client_id_then_both_messages_are_stored():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    client_id = uuid.uuid4()

    a = services.message_send(author=alice, room=room, body="a", client_id=client_id)
    b = services.message_send(author=bob, room=room, body="b", client_id=client_id)

    assert a.created and b.created
    assert (a.message.seq, b.message.seq) == (1, 2)


def test_when_sends_have_no_client_id_then_each_one_is_stored():
    room = RoomFactory()
    alice = member(room)

    services.message_send(author=alice, room=room, body="one")
    services.message_send(author=alice, room=room, body="one")

    assert stored(room) == (2, 2)


def test_when_a_non_member_sends_to_a_public_room_then_not_member_and_nothing_stored():
    room = RoomFactory()
    send(room, member(room))
    outsider = UserFactory()

    with pytest.raises(Forbidden) as caught:
        services.message_send(
            author=outsider, room=room, body="hi", client_id=uuid.uuid4()
        )

    assert caught.value.code == "not_member"
    assert stored(room) == (1, 1)


def test_when_a_non_member_sends_to_a_private_room_then_not_found_and_nothing_stored():
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    send(room, member(room))
    outsider = UserFactory()

    with pytest.raises(NotFound):
        services.message_send(
            author=outsider, room=room, body="hi", client_id=uuid.uuid4()
        )

    assert stored(room) == (1, 1)


def test_when_a_member_sends_to_an_archived_room_then_clear_error_and_nothing_stored():
    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    Room.objects.filter(pk=room.pk).update(is_archived=True)
    room.refresh_from_db()

    with pytest.raises(Forbidden) as caught:
        services.message_send(
            author=alice, room=room, body="hi", client_id=uuid.uuid4()
        )

    assert caught.value.code == "archived"
    assert "archived" in caught.value.message
    assert stored(room) == (1, 1)


def test_when_the_room_object_is_stale_then_seq_still_follows_the_database():
    room = RoomFactory()
    alice = member(room)
    stale = Room.objects.get(pk=room.pk)
    send(room, alice)
    send(room, alice)

    assert send(stale, alice).seq == 3


def test_when_the_surrounding_transaction_rolls_back_then_nothing_is_stored_or_published(
    django_capture_on_commit_callbacks,
):
    room = RoomFactory()
    alice = member(room)

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.message_send(author=alice, room=room, body="never", client_id=None)
            raise RuntimeError("the caller failed after sending")

    assert callbacks == []
    assert stored(room) == (0, 0)


def test_when_a_message_is_sent_then_exactly_one_event_waits_for_commit(
    django_capture_on_commit_callbacks,
):
    room = RoomFactory()
    alice = member(room)

    with django_capture_on_commit_callbacks() as callbacks:
        send(room, alice)

    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_when_twenty_threads_post_at_once_then_no_lock_errors_and_seq_is_gap_free():
    room = RoomFactory()
    authors = [member(room) for _ in range(20)]
    per_thread = 5
    barrier = threading.Barrier(len(authors))
    errors: list[BaseException] = []

    def post(author: User) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(per_thread):
                services.message_send(
                    author=author,
                    room=room,
                    body=f"{author.username} {n}",
                    client_id=uuid.uuid4(),
                )
        except BaseException as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(a,)) for a in authors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(t.is_alive() for t in threads)
    assert errors == []
    total = len(authors) * per_thread
    seqs = list(
        Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, total + 1))
    room.refresh_from_db()
    assert room.last_seq == total
    for author in authors:
        bodies = list(
            Message.objects.filter(author=author)
            .order_by("seq")
            .values_list("body", flat=True)
        )
        assert bodies == [f"{author.username} {n}" for n in range(per_thread)]


@pytest.mark.django_db(transaction=True)
def test_when_retries_of_one_send_race_then_one_row_and_every_caller_gets_it():
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()
    barrier = threading.Barrier(8)
    results: list[services.SendResult] = []
    errors: list[BaseException] = []

    def retry() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                services.message_send(
                    author=alice, room=room, body="hi", client_id=client_id
                )
            )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len({r.message.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert stored(room) == (1, 1)


# --- messages_send: sends stored together -------------------------------------------------


def request(author: User, room: Room | str, body: object = "hi", **more):
    return services.SendRequest(author=author, room=room, body=body, **more)


def test_sends_stored_together_each_take_their_rooms_next_seq_and_answer_in_order():
    first, second = RoomFactory(slug="b-room"), RoomFactory(slug="a-room")
    alice, bob = member(first), member(first)
    member(second, alice)
    send(first, bob)

    outcomes = services.messages_send(
        [
            request(alice, "b-room", "one"),
            request(alice, second, "two"),
            request(bob, first, "three"),
            request(alice, "a-room", "four"),
        ]
    )

    assert [(o.message.room.slug, o.message.seq, o.message.body) for o in outcomes] == [
        ("b-room", 2, "one"),
        ("a-room", 1, "two"),
        ("b-room", 3, "three"),
        ("a-room", 2, "four"),
    ]
    assert all(o.created for o in outcomes)
    assert stored(first) == (3, 3) and stored(second) == (2, 2)


def test_a_refused_send_among_others_is_its_own_error_and_takes_back_only_its_seq():
    room, private = RoomFactory(), RoomFactory(kind=Room.Kind.PRIVATE)
    alice, outsider = member(room), UserFactory()

    outcomes = services.messages_send(
        [
            request(alice, room, "before"),
            request(outsider, room, "not a member"),
            request(outsider, private, "hidden"),
            request(alice, room, "   "),
            request(alice, room, "reply", reply_to=10**9),
            request(alice, room, "after"),
        ]
    )

    assert isinstance(outcomes[1], Forbidden)
    assert isinstance(outcomes[2], NotFound)
    assert isinstance(outcomes[3], InvalidInput)
    assert isinstance(outcomes[4], InvalidInput)
    assert [outcomes[0].message.seq, outcomes[5].message.seq] == [1, 2]
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == [
        "before",
        "after",
    ]
    assert stored(room) == (2, 2) and stored(private) == (0, 0)


def test_a_send_retried_within_one_batch_is_stored_once_and_answered_twice():
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()

    first, again = services.messages_send(
        [request(alice, room, client_id=client_id)] * 2
    )

    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert stored(room) == (1, 1)


@pytest.mark.rate_limits
def test_in_a_batch_a_flood_is_refused_past_its_limit_and_others_are_stored(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (2, 0.001)}
    room = RoomFactory()
    alice, bob = member(room), member(room)

    outcomes = services.messages_send(
        [request(alice, room, f"a{n}") for n in range(3)] + [request(bob, room, "b")]
    )

    assert [type(o).__name__ for o in outcomes] == [
        "SendResult",
        "SendResult",
        "RateLimited",
        "SendResult",
    ]
    assert stored(room) == (3, 3)


def test_sends_stored_together_publish_after_commit_in_seq_order(
    monkeypatch, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice, bob = member(room), member(room)
    published: list[int] = []
    monkeypatch.setattr(
        services.events,
        "publish_on_commit",
        lambda group, payload, **hints: transaction.on_commit(
            lambda: published.append(payload["message"]["seq"])
        ),
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.messages_send(
            [request(alice, room), request(bob, room, "   "), request(bob, room)]
        )
        assert published == []

    assert published == [1, 2]


# --- message_delete ----------------------------------------------------------------------


def test_when_the_author_deletes_their_message_then_the_row_stays_marked_deleted():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "oops")

    services.message_delete(actor=alice, message=message)

    message.refresh_from_db()
    assert message.deleted_at is not None
    assert message.deleted_by == alice
    assert message.body == "oops"
    assert stored(room) == (1, 1)


def test_when_another_member_deletes_a_message_then_forbidden_and_it_stays():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    message = send(room, alice)

    with pytest.raises(Forbidden):
        services.message_delete(actor=bob, message=message)

    message.refresh_from_db()
    assert message.deleted_at is None


@pytest.mark.parametrize("role", [Membership.Role.MODERATOR, Membership.Role.OWNER])
def test_when_a_room_moderator_deletes_any_message_then_it_is_deleted(role):
    room = RoomFactory()
    alice = member(room)
    moderator = member(room, role=role)
    message = send(room, alice)

    services.message_delete(actor=moderator, message=message)

    message.refresh_from_db()
    assert message.deleted_by == moderator


def test_when_staff_delete_a_message_in_a_room_they_are_not_in_then_it_is_deleted():
    room = RoomFactory()
    message = send(room, member(room))
    staff = UserFactory(is_staff=True)

    services.message_delete(actor=staff, message=message)

    message.refresh_from_db()
    assert message.deleted_by == staff


def test_when_a_deleted_message_is_deleted_again_then_the_first_deletion_stands(
    django_capture_on_commit_callbacks,
):
    room = RoomFactory()
    alice = member(room)
    moderator = member(room, role=Membership.Role.MODERATOR)
    message = send(room, alice)
    services.message_delete(actor=alice, message=message)
    first = Message.objects.get(pk=message.pk).deleted_at

    with django_capture_on_commit_callbacks() as callbacks:
        services.message_delete(
            actor=moderator, message=Message.objects.get(pk=message.pk)
        )

    message.refresh_from_db()
    assert (message.deleted_at, message.deleted_by) == (first, alice)
    assert callbacks == []


# --- room_create -------------------------------------------------------------------------


def test_when_a_room_is_created_then_its_slug_comes_from_its_name_and_creator_owns_it():
    alice = UserFactory()

    room = services.room_create(creator=alice, name="  Book Club! ", topic=" novels ")

    assert (room.slug, room.name, room.topic) == ("book-club", "Book Club!", "novels")
    assert room.kind == Room.Kind.PUBLIC
    assert Membership.objects.get(room=room).user == alice
    assert Membership.objects.get(room=room).role == Membership.Role.OWNER


def test_when_a_room_name_is_taken_then_clear_error_and_nothing_created():
    alice = UserFactory()
    services.room_create(creator=alice, name="Book club")
    rooms_before = Room.objects.count()

    with pytest.raises(InvalidInput) as caught:
        services.room_create(creator=UserFactory(), name="book CLUB")

    assert caught.value.code == "taken"
    assert "already exists" in caught.value.message
    assert Room.objects.count() == rooms_before


@pytest.mark.parametrize("name", ["!!!", "   ", "— …"])
def test_when_a_room_name_has_no_letter_or_digit_then_clear_error_and_nothing_created(
    name,
):
    rooms_before = Room.objects.count()

    with pytest.raises(InvalidInput) as caught:
        services.room_create(creator=UserFactory(), name=name)

    assert "letter or digit" in caught.value.message
    assert Room.objects.count() == rooms_before


def test_when_a_private_room_is_created_then_it_is_private():
    room = services.room_create(
        creator=UserFactory(), name="Secret", kind=Room.Kind.PRIVATE
    )

    assert room.kind == Room.Kind.PRIVATE


# --- room_edit ---------------------------------------------------------------------------


def test_staff_rename_a_room_and_make_it_private_keeping_its_slug():
    room = RoomFactory(name="Open plan", topic="")

    services.room_edit(
        room=room, name="  Closed plan ", topic=" quiet ", kind=Room.Kind.PRIVATE
    )

    stored = Room.objects.get(pk=room.pk)
    assert (stored.name, stored.topic, stored.kind) == (
        "Closed plan",
        "quiet",
        Room.Kind.PRIVATE,
    )
    assert stored.slug == room.slug


@pytest.mark.parametrize(
    "start, kind",
    [
        (Room.Kind.DIRECT, Room.Kind.PUBLIC),
        (Room.Kind.DIRECT, Room.Kind.PRIVATE),
        (Room.Kind.PUBLIC, Room.Kind.DIRECT),
        (Room.Kind.PRIVATE, Room.Kind.DIRECT),
        (Room.Kind.PUBLIC, "secret"),
    ],
)
def test_a_dm_stays_one_and_no_room_becomes_one(start, kind):
    room = RoomFactory(kind=start)

    with pytest.raises(InvalidInput):
        services.room_edit(room=room, name="Renamed", topic="", kind=kind)

    assert Room.objects.get(pk=room.pk).kind == start


def test_a_room_needs_a_name():
    room = RoomFactory(name="Named")

    with pytest.raises(InvalidInput):
        services.room_edit(room=room, name="   ", topic="", kind=room.kind)

    assert Room.objects.get(pk=room.pk).name == "Named"


# --- memberships -------------------------------------------------------------------------


def test_when_a_user_joins_a_public_room_then_they_start_with_nothing_unread():
    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    send(room, alice)
    bob = UserFactory()

    membership = services.membership_join(user=bob, room=Room.objects.get(pk=room.pk))

    assert membership.role == Membership.Role.MEMBER
    assert membership.last_read_seq == 2


def test_when_a_member_joins_again_then_they_keep_one_membership():
    room = RoomFactory()
    alice = member(room)

    services.membership_join(user=alice, room=room)

    assert Membership.objects.filter(user=alice, room=room).count() == 1


@pytest.mark.parametrize(
    "room_kwargs",
    [{"kind": Room.Kind.PRIVATE}, {"kind": Room.Kind.DIRECT}, {"is_archived": True}],
    ids=["private", "direct", "archived"],
)
def test_when_a_user_joins_a_room_that_is_not_open_then_not_found(room_kwargs):
    room = RoomFactory(**room_kwargs)
    bob = UserFactory()

    with pytest.raises(NotFound):
        services.membership_join(user=bob, room=room)

    assert not Membership.objects.filter(user=bob).exists()


def test_when_a_member_leaves_then_their_membership_is_gone():
    room = RoomFactory()
    alice = member(room)

    services.membership_leave(user=alice, room=room)

    assert not Membership.objects.filter(user=alice, room=room).exists()


def test_when_a_non_member_leaves_then_not_member_error():
    room = RoomFactory()

    with pytest.raises(InvalidInput) as caught:
        services.membership_leave(user=UserFactory(), room=room)

    assert caught.value.code == "not_member"


def test_when_the_default_room_exists_then_a_user_is_seated_in_it():
    general = Room.objects.get(slug="general")
    alice = UserFactory()

    services.membership_join_default_rooms(user=alice)

    assert Membership.objects.filter(user=alice, room=general).exists()


def test_when_the_default_room_is_gone_then_seating_a_user_does_nothing():
    Room.objects.filter(slug="general").delete()
    alice = UserFactory()

    services.membership_join_default_rooms(user=alice)

    assert not Membership.objects.filter(user=alice).exists()


def test_when_a_member_marks_read_then_the_position_moves_forward_only():
    room = RoomFactory()
    alice = member(room)
    for _ in range(5):
        send(room, member(room))

    assert services.membership_mark_read(user=alice, room=room, seq=3) == 3
    services.membership_mark_read(user=alice, room=room, seq=1)

    assert Membership.objects.get(user=alice, room=room).last_read_seq == 3


def test_when_a_member_marks_read_past_the_newest_message_then_it_stops_at_the_newest():
    room = RoomFactory()
    alice = member(room)
    send(room, member(room))
    send(room, member(room))

    assert services.membership_mark_read(user=alice, room=room, seq=99) == 2
    assert Membership.objects.get(user=alice, room=room).last_read_seq == 2


def test_when_the_read_position_does_not_move_then_no_event_is_published(
    django_capture_on_commit_callbacks,
):
    room = RoomFactory()
    alice = member(room)
    send(room, member(room))
    services.membership_mark_read(user=alice, room=room, seq=1)

    with django_capture_on_commit_callbacks() as callbacks:
        services.membership_mark_read(user=alice, room=room, seq=1)

    assert callbacks == []


# --- the one write path ------------------------------------------------------------------

APP_PACKAGES = ("accounts", "rooms", "chatsite")
ROOT = Path(__file__).resolve().parents[2]


def app_sources():
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text()


def test_when_the_app_creates_messages_or_memberships_then_only_the_services_do():
    writes = re.compile(
        r"\b(Message|Membership)\.objects\.(create|get_or_create|update_or_create|"
        r"bulk_create|update|delete)\b|\b(Message|Membership)\(\s*[a-z_]+\s*="
    )

    writers = {path for path, text in app_sources() if writes.search(text)}

    assert writers <= {"rooms/services.py"}


def test_when_the_app_records_edits_or_reactions_then_only_the_services_do():
    writes = re.compile(
        r"\b(MessageEdit|Reaction)\.objects\.(create|get_or_create|update_or_create|"
        r"bulk_create|update|delete)\b|\b(MessageEdit|Reaction)\(\s*[a-z_]+\s*=|"
        r"\.(reactions|edits)\.(create|add|update|delete)\b"
    )

    writers = {path for path, text in app_sources() if writes.search(text)}

    assert writers <= {"rooms/services.py"}


def test_when_the_app_talks_to_the_channel_layer_then_only_events_publishes():
    publishers = {path for path, text in app_sources() if ".group_send(" in text}

    assert publishers <= {"rooms/events.py"}
