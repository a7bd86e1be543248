"""rooms.services for rich messages: editing, replies and reactions (and their events)."""

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rooms import events, moderation, services
from rooms.errors import Forbidden, InvalidInput, NotFound
from rooms.models import Membership, Message, MessageEdit, Reaction, Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]


@dataclass
class Published:
    """Events as they leave after commit: (group, payload) in order."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [payload["type"] for _, payload in self.events]


@pytest.fixture
def published(monkeypatch) -> Published:
    """Records what services publish, once their transaction commits, as the JSON the
    channel layer would carry (so a payload that cannot be serialized fails here)."""
    record = Published()

    def publish_on_commit(group, payload, **routing):
        text = events.encode(payload)
        transaction.on_commit(lambda: record.events.append((group, json.loads(text))))

    monkeypatch.setattr(events, "publish_on_commit", publish_on_commit)
    return record


def fresh(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


def snapshot(message: Message) -> tuple:
    """What a refused change must leave as it was."""
    message = fresh(message)
    return (
        message.body,
        message.html,
        message.edited_at,
        message.deleted_at,
        list(MessageEdit.objects.values_list("pk", flat=True)),
        list(Reaction.objects.values_list("pk", "emoji", "user_id")),
    )


# --- sending: Markdown is rendered once, when stored ---------------------------------------


def test_when_a_message_is_sent_then_its_html_is_rendered_and_stored():
    room = RoomFactory()
    alice = member(room)

    message = send(room, alice, "**hi** <b>there</b>")

    assert fresh(message).html == "<p><strong>hi</strong> &lt;b&gt;there&lt;/b&gt;</p>"
    assert fresh(message).body == "**hi** <b>there</b>"


def test_when_a_message_is_sent_then_its_payload_asks_nothing_of_reactions_or_replies(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    send(room, alice)

    with django_capture_on_commit_callbacks(execute=True):
        with CaptureQueriesContext(connection) as queries:
            services.message_send(author=alice, room=room, body="hi")

    # The hot path: a new message has no reactions, and no parent unless it names one.
    assert not [q for q in queries if "rooms_reaction" in q["sql"]]
    assert not [q for q in queries if q["sql"].startswith('SELECT "rooms_message"')]
    assert published.events[-1][1]["message"]["reactions"] == []


# --- message_edit ----------------------------------------------------------------------------


def test_when_the_author_edits_then_text_html_and_edited_at_change_and_history_keeps_the_old(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "helo *world*")

    with django_capture_on_commit_callbacks(execute=True):
        edited = services.message_edit(
            actor=alice, message=message, body="  hello *world* "
        )

    message = fresh(message)
    assert (message.body, message.html) == (
        "hello *world*",
        "<p>hello <em>world</em></p>",
    )
    assert message.edited_at is not None and edited.edited_at == message.edited_at
    (history,) = MessageEdit.objects.filter(message=message)
    assert (history.old_body, history.edited_by, history.edited_at) == (
        "helo *world*",
        alice,
        message.edited_at,
    )
    assert message.seq == 1 and Room.objects.get(pk=room.pk).last_seq == 1
    assert published.events == [
        (
            events.room_group(room.pk),
            {
                "type": "message_edited",
                "room": room.slug,
                "message": events.message_payload(message),
                "change": 1,
            },
        )
    ]
    assert (
        published.events[0][1]["message"]["edited_at"] == message.edited_at.isoformat()
    )


def test_when_a_message_is_edited_twice_then_history_holds_each_earlier_text():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "one")

    services.message_edit(actor=alice, message=message, body="two")
    services.message_edit(actor=alice, message=message, body="three")

    assert list(
        MessageEdit.objects.filter(message=message).values_list("old_body", flat=True)
    ) == ["one", "two"]
    assert fresh(message).body == "three"


def test_when_the_text_is_unchanged_then_nothing_is_stored_or_published(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "same")
    before = snapshot(message)

    with django_capture_on_commit_callbacks(execute=True):
        services.message_edit(actor=alice, message=message, body=" same ")

    assert snapshot(message) == before
    assert published.events == []


def test_when_someone_else_edits_then_forbidden_and_nothing_changes(published):
    room = RoomFactory()
    alice, bob = member(room), member(room)
    moderator = member(room, role=Membership.Role.MODERATOR)
    message = send(room, alice, "mine")
    before = snapshot(message)

    for intruder in (bob, moderator, UserFactory(is_staff=True)):
        with pytest.raises(Forbidden):
            services.message_edit(actor=intruder, message=message, body="theirs")

    assert snapshot(message) == before


def test_when_a_non_member_edits_in_a_private_room_then_not_found_and_nothing_changes():
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    alice = member(room)
    message = send(room, alice, "secret")
    Membership.objects.filter(user=alice).delete()
    before = snapshot(message)

    with pytest.raises(NotFound):
        services.message_edit(actor=alice, message=message, body="changed")

    assert snapshot(message) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [("", "empty"), ("  \n ", "empty"), ("x" * 4001, "too_long"), (None, "invalid")],
    ids=["empty", "blank", "too-long", "none"],
)
def test_when_the_new_text_breaks_the_send_rules_then_the_same_error_and_nothing_changes(
    body, code
):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "original")
    before = snapshot(message)

    with pytest.raises(InvalidInput) as caught:
        services.message_edit(actor=alice, message=message, body=body)

    assert caught.value.code == code
    assert snapshot(message) == before


def test_when_a_deleted_message_is_edited_then_refused_and_it_stays_deleted():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "gone")
    services.message_delete(actor=alice, message=message)
    before = snapshot(message)

    with pytest.raises(InvalidInput) as caught:
        services.message_edit(actor=alice, message=message, body="back")

    assert caught.value.code == "deleted"
    assert snapshot(message) == before


def test_when_a_message_in_an_archived_room_is_edited_then_refused():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "old")
    Room.objects.filter(pk=room.pk).update(is_archived=True)

    with pytest.raises(Forbidden) as caught:
        services.message_edit(actor=alice, message=message, body="new")

    assert caught.value.code == "archived"
    assert fresh(message).body == "old"


def test_when_an_edit_rolls_back_then_nothing_is_published(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "before")

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.message_edit(actor=alice, message=message, body="after")
            raise RuntimeError("rolled back")

    assert published.events == []
    assert fresh(message).body == "before"
    assert not MessageEdit.objects.exists()


def test_when_a_message_is_deleted_then_its_event_names_room_id_and_seq(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    send(room, alice)
    message = send(room, alice, "oops")

    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete(actor=alice, message=message)

    assert published.events == [
        (
            events.room_group(room.pk),
            {
                "type": "message_deleted",
                "room": room.slug,
                "id": message.pk,
                "seq": 2,
                "change": 1,
            },
        )
    ]
    payload = events.message_payload(fresh(message))
    assert (payload["body"], payload["html"], payload["deleted"]) == ("", "", True)


# --- replies -------------------------------------------------------------------------------


def test_when_a_member_replies_then_the_reply_names_its_parent_and_quotes_it():
    room = RoomFactory()
    alice = member(room, UserFactory(display_name="Alice"))
    bob = member(room)
    parent = send(room, alice, "what do   you\nthink " + "x" * 200)

    reply = services.message_send(
        author=bob, room=room, body="yes", client_id=uuid.uuid4(), reply_to=parent.pk
    ).message

    assert fresh(reply).reply_to == parent
    quote = events.message_payload(reply)["reply_to"]
    assert quote["id"] == parent.pk and quote["seq"] == 1
    assert quote["author"] == events.user_payload(alice)
    assert quote["deleted"] is False
    assert quote["excerpt"].startswith("what do you think xxx")
    assert len(quote["excerpt"]) == 100 and quote["excerpt"].endswith("…")


def test_when_the_parent_is_deleted_then_the_quote_says_so_and_shows_nothing_of_it():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    parent = send(room, alice, "regrettable")
    reply = services.message_send(author=bob, room=room, body="hm", reply_to=parent.pk)
    services.message_delete(actor=alice, message=parent)

    quote = events.message_payload(fresh(reply.message))["reply_to"]

    assert quote["deleted"] is True
    assert quote["excerpt"] == ""
    assert quote["id"] == parent.pk


def test_when_a_reply_names_a_message_of_another_room_then_refused_and_nothing_stored():
    room, secret = RoomFactory(), RoomFactory(kind=Room.Kind.PRIVATE)
    alice = member(room)
    hidden = send(secret, member(secret), "private")

    for reply_to in (hidden.pk, hidden.pk + 1000):
        with pytest.raises(InvalidInput) as caught:
            services.message_send(
                author=alice,
                room=room,
                body="hi",
                client_id=uuid.uuid4(),
                reply_to=reply_to,
            )
        assert caught.value.code == "invalid"
        # The same words whether the message exists elsewhere or not at all.
        assert "private" not in caught.value.message

    assert Message.objects.filter(room=room).count() == 0
    assert Room.objects.get(pk=room.pk).last_seq == 0


def test_when_members_react_then_reactions_count_per_emoji_with_who_in_order(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room, UserFactory(display_name="Alice"))
    bob = member(room, UserFactory(display_name="Bob"))
    message = send(room, alice)

    with django_capture_on_commit_callbacks(execute=True):
        services.reaction_set(user=bob, message=message, emoji="👍", on=True)
        services.reaction_set(user=alice, message=message, emoji="🎉", on=True)
        reacted = services.reaction_set(
            user=alice, message=message, emoji="👍", on=True
        )

    summary = [
        {
            "emoji": "👍",
            "count": 2,
            "users": ["Bob", "Alice"],
            "user_ids": [bob.pk, alice.pk],
        },
        {"emoji": "🎉", "count": 1, "users": ["Alice"], "user_ids": [alice.pk]},
    ]
    assert events.reactions_payload(events.reactions_of(reacted)) == summary
    assert published.types == ["reactions"] * 3
    assert published.events[-1] == (
        events.room_group(room.pk),
        {
            "type": "reactions",
            "room": room.slug,
            "id": message.pk,
            "seq": message.seq,
            "reactions": summary,
            "change": 3,
        },
    )
    assert events.message_payload(fresh(message))["reactions"] == summary


def test_when_a_reaction_is_set_twice_or_removed_twice_then_once_and_one_event_each(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)

    with django_capture_on_commit_callbacks(execute=True):
        services.reaction_set(user=alice, message=message, emoji="👍", on=True)
        services.reaction_set(user=alice, message=message, emoji="👍", on=True)
        assert Reaction.objects.count() == 1
        services.reaction_set(user=alice, message=message, emoji="👍", on=False)
        unreacted = services.reaction_set(
            user=alice, message=message, emoji="👍", on=False
        )

    assert events.reactions_of(unreacted) == [] and Reaction.objects.count() == 0
    assert [p["reactions"] for _, p in published.events] == [
        [
            {
                "emoji": "👍",
                "count": 1,
                "users": [alice.shown_name],
                "user_ids": [alice.pk],
            }
        ],
        [],
    ]


@pytest.mark.parametrize(
    "emoji",
    ["👍", "👍🏽", "❤️", "👨‍👩‍👧", "🇫🇷", "1️⃣", "🏳️‍🌈", " 🎉 "],
    ids=[
        "plain",
        "skin-tone",
        "variation",
        "zwj-family",
        "flag",
        "keycap",
        "zwj-flag",
        "padded",
    ],
)
def test_when_the_reaction_is_one_emoji_then_it_is_kept(emoji):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)

    services.reaction_set(user=alice, message=message, emoji=emoji, on=True)

    assert Reaction.objects.get().emoji == emoji.strip()


@pytest.mark.parametrize(
    "emoji",
    [
        "",
        "  ",
        "a",
        "ok",
        "1",
        "👍👍",
        "x👍",
        "👍 ok",
        "<b>",
        "\u200d",
        None,
        42,
        ["👍"],
        "👍" * 40,
    ],
    ids=[
        "empty",
        "blank",
        "letter",
        "word",
        "digit",
        "two-emoji",
        "letter-and-emoji",
        "emoji-and-word",
        "markup",
        "zwj-alone",
        "none",
        "int",
        "list",
        "too-long",
    ],
)
def test_when_the_reaction_is_not_one_emoji_then_refused_and_nothing_stored(emoji):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)

    with pytest.raises(InvalidInput) as caught:
        services.reaction_set(user=alice, message=message, emoji=emoji, on=True)

    assert caught.value.code == "invalid"
    assert not Reaction.objects.exists()


def test_when_a_reader_who_is_not_a_member_reacts_in_a_public_room_then_forbidden():
    room = RoomFactory()
    message = send(room, member(room))

    with pytest.raises(Forbidden) as caught:
        services.reaction_set(user=UserFactory(), message=message, emoji="👍", on=True)

    assert caught.value.code == "not_member"
    assert not Reaction.objects.exists()


def test_when_a_non_member_reacts_in_a_private_room_then_not_found():
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    message = send(room, member(room))

    with pytest.raises(NotFound):
        services.reaction_set(user=UserFactory(), message=message, emoji="👍", on=True)

    assert not Reaction.objects.exists()


def test_when_someone_reacts_to_a_deleted_message_then_refused():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)
    services.message_delete(actor=alice, message=message)

    with pytest.raises(InvalidInput) as caught:
        services.reaction_set(user=alice, message=message, emoji="👍", on=True)

    assert caught.value.code == "deleted"
    assert not Reaction.objects.exists()


def test_when_a_message_is_deleted_then_its_payload_shows_no_reactions_or_quote():
    room = RoomFactory()
    alice = member(room)
    parent = send(room, alice)
    message = services.message_send(
        author=alice, room=room, body="x", reply_to=parent.pk
    ).message
    services.reaction_set(user=alice, message=message, emoji="👍", on=True)
    services.message_delete(actor=alice, message=message)

    payload = events.message_payload(fresh(message))

    assert (payload["reactions"], payload["reply_to"]) == ([], None)


def test_a_send_by_slug_reads_and_locks_its_room_in_the_statement_that_claims_its_seq(
    django_assert_num_queries,
):
    """The hot path's SQL: claim the seq (the room comes back with it), read the
    membership, insert, mark it read; plus the savepoint of the test's transaction."""
    room = RoomFactory()
    alice = member(room)
    services.message_send(author=alice, room=room.slug, body="warm up")

    with django_assert_num_queries(6):
        result = services.message_send(author=alice, room=room.slug, body="hello")

    assert result.message.seq == 2
    assert Room.objects.get(pk=room.pk).last_seq == 2


def test_a_send_to_a_room_that_is_not_there_is_not_found():
    with pytest.raises(NotFound):
        services.message_send(author=UserFactory(), room="no-such-room", body="hello")


# --- Change numbers --------------------------------------------------------------------------


def change_of(message: Message) -> int | None:
    return Message.objects.get(pk=message.pk).change


def test_when_messages_change_then_each_change_takes_the_rooms_next_number(
    published, django_capture_on_commit_callbacks
):
    room, elsewhere = RoomFactory(), RoomFactory()
    alice = member(room)
    moderator = member(room, role=Membership.Role.MODERATOR)
    first, second = send(room, alice, "one"), send(room, alice, "two")
    send(elsewhere, member(elsewhere), "not counted here")

    with django_capture_on_commit_callbacks(execute=True):
        edited = services.message_edit(actor=alice, message=first, body="one!")
        reacted = services.reaction_set(
            user=moderator, message=second, emoji="👍", on=True
        )
        deleted = services.message_delete(actor=alice, message=first)
        restored = moderation.message_restore(actor=moderator, message=first)

    assert [edited.change, reacted.change, deleted.change, restored.change] == [
        1,
        2,
        3,
        4,
    ]
    assert (change_of(first), change_of(second)) == (4, 2)
    assert [payload["change"] for _, payload in published.events] == [1, 2, 3, 4]
    room.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (room.last_change, elsewhere.last_change) == (4, 0)


def test_when_a_change_changes_nothing_or_is_refused_then_it_takes_no_number(
    published, django_capture_on_commit_callbacks
):
    room = RoomFactory()
    alice, bob = member(room), member(room)
    message = send(room, alice, "same")
    services.reaction_set(user=bob, message=message, emoji="👍", on=True)

    with django_capture_on_commit_callbacks(execute=True):
        services.message_edit(actor=alice, message=message, body="same")
        services.reaction_set(user=bob, message=message, emoji="👍", on=True)
        services.reaction_set(user=alice, message=message, emoji="👍", on=False)
        with pytest.raises(Forbidden):
            services.message_edit(actor=bob, message=message, body="not mine")
        with pytest.raises(Forbidden):
            services.message_delete(actor=bob, message=message)

    room.refresh_from_db()
    assert room.last_change == change_of(message) == 1
    assert published.events == []


@pytest.mark.django_db(transaction=True)
def test_when_people_send_reply_edit_react_and_delete_at_once_then_no_lock_errors_and_change_numbers_have_no_gaps():
    room = RoomFactory()
    people = [member(room) for _ in range(8)]
    firsts = [send(room, person, "first") for person in people]
    spares = [send(room, person, "to delete") for person in people]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def busy(n: int) -> None:
        person, mine = people[n], firsts[n]
        other = firsts[(n + 1) % len(people)]
        try:
            barrier.wait(timeout=10)
            for round_ in range(3):
                # A reply to someone's message while they edit it and others react:
                # the send holds the room and references the message another
                # writer holds.
                services.message_send(
                    author=person,
                    room=room,
                    body="a reply",
                    client_id=uuid.uuid4(),
                    reply_to=other.pk,
                )
                services.message_edit(actor=person, message=mine, body=f"v{round_}")
                services.reaction_set(user=person, message=other, emoji="👍", on=True)
                services.reaction_set(user=person, message=other, emoji="👍", on=False)
            services.message_delete(actor=person, message=spares[n])
        except BaseException as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=busy, args=(n,)) for n in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    room.refresh_from_db()
    # Per person: 3 edits, 6 reactions set or taken back, 1 deletion.
    assert room.last_change == len(people) * 10
    assert room.last_seq == len(people) * 5
    latest = list(
        Message.objects.filter(room=room, change__isnull=False).values_list(
            "change", flat=True
        )
    )
    assert len(set(latest)) == len(latest) == 2 * len(people)
    assert max(latest) == room.last_change
