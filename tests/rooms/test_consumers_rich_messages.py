"""Editing, deleting, reacting and replying over /ws/, through the full ASGI stack and a
real Redis: what the actor gets back, what everyone else in the room sees live, and
that bad or unauthorized frames change nothing and leave the socket open.

Where a socket must NOT receive something, a "sentinel" message is posted afterwards
and must be the next frame (events reach a subscriber in publishing order)."""

import json
import uuid

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Membership, Message, MessageEdit, Reaction, Room
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 10


async def receive(socket) -> dict:
    return await realtime.receive(socket, TIMEOUT)


async def receive_until(socket, kind: str) -> dict:
    return await realtime.receive_until(socket, kind, TIMEOUT)


async def connected(user):
    socket = await realtime.connect(user)
    assert socket.connected
    assert (await receive(socket))["type"] == "hello"
    return socket


@database_sync_to_async
def room_with(count: int, **room_kwargs) -> tuple[Room, list]:
    room = RoomFactory(**room_kwargs)
    people = [
        member(room, UserFactory(display_name=name))
        for name in ["Alice", "Bob", "Carol"][:count]
    ]
    return room, people


@database_sync_to_async
def post(room, author, body="hello") -> Message:
    return send(room, author, body)


@database_sync_to_async
def snapshot():
    """Everything a refused frame must leave as it was."""
    return (
        list(
            Message.objects.order_by("pk").values_list(
                "pk", "seq", "body", "html", "edited_at", "deleted_at", "reply_to_id"
            )
        ),
        list(Room.objects.order_by("pk").values_list("pk", "last_seq")),
        list(MessageEdit.objects.order_by("pk").values_list("pk", "old_body")),
        list(Reaction.objects.order_by("pk").values_list("pk", "emoji", "user_id")),
    )


async def receive_sentinel(socket, body: str) -> None:
    frame = await receive(socket)
    assert frame["type"] == "message", f"expected only the sentinel, got {frame}"
    assert frame["message"]["body"] == body


async def close_all(*sockets) -> None:
    for socket in sockets:
        await socket.disconnect()


# --- editing -------------------------------------------------------------------------------


async def test_when_the_author_edits_then_everyone_in_the_room_sees_the_new_text_live():
    room, (alice, bob) = await room_with(2)
    message = await post(room, alice, "see you at 5")
    a, b = await connected(alice), await connected(bob)

    await realtime.send(
        a,
        {
            "type": "edit",
            "room": room.slug,
            "id": message.pk,
            "body": "see you at **6**",
        },
    )

    for socket in (a, b):
        event = await receive_until(socket, "message_edited")
        assert event["room"] == room.slug
        edited = event["message"]
        assert (edited["id"], edited["seq"]) == (message.pk, message.seq)
        assert edited["body"] == "see you at **6**"
        assert edited["html"] == "<p>see you at <strong>6</strong></p>"
        assert edited["edited_at"]
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert stored.body == "see you at **6**"
    await close_all(a, b)


async def test_when_the_author_edits_then_their_answer_is_the_rooms_event_itself():
    room, (alice,) = await room_with(1)
    message = await post(room, alice, "one")
    a = await connected(alice)

    await realtime.send(
        a, {"type": "edit", "room": room.slug, "id": message.pk, "body": "two"}
    )

    # The direct answer and the room's event: the same frame, in either order.
    first, second = await receive(a), await receive(a)
    assert first == second
    assert first["type"] == "message_edited"
    assert first["message"]["body"] == "two"
    await a.disconnect()


# --- deleting ------------------------------------------------------------------------------


async def test_when_the_author_deletes_then_everyone_sees_the_placeholder_live():
    room, (alice, bob) = await room_with(2)
    await post(room, alice, "first")
    message = await post(room, alice, "regrettable")
    a, b = await connected(alice), await connected(bob)

    await realtime.send(a, {"type": "delete", "room": room.slug, "id": message.pk})

    for socket in (a, b):
        assert await receive_until(socket, "message_deleted") == {
            "type": "message_deleted",
            "room": room.slug,
            "id": message.pk,
            "seq": 2,
            "change": 1,
        }
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert stored.deleted_at is not None and stored.deleted_by_id == alice.pk
    await close_all(a, b)


async def test_when_a_room_moderator_deletes_someone_elses_message_then_it_goes():
    room, (alice, bob) = await room_with(2)
    moderator = await database_sync_to_async(member)(
        room, role=Membership.Role.MODERATOR
    )
    message = await post(room, alice, "rude")
    m, b = await connected(moderator), await connected(bob)

    await realtime.send(m, {"type": "delete", "room": room.slug, "id": message.pk})

    assert (await receive_until(b, "message_deleted"))["id"] == message.pk
    await close_all(m, b)


# --- reactions -----------------------------------------------------------------------------


async def test_when_members_react_then_everyone_sees_counts_and_who_live():
    room, (alice, bob, carol) = await room_with(3)
    message = await post(room, alice, "lunch?")
    a, b, c = await connected(alice), await connected(bob), await connected(carol)

    await realtime.send(
        b,
        {
            "type": "react",
            "room": room.slug,
            "id": message.pk,
            "emoji": "👍",
            "on": True,
        },
    )
    first = await receive_until(a, "reactions")
    await realtime.send(
        c,
        {
            "type": "react",
            "room": room.slug,
            "id": message.pk,
            "emoji": "👍",
            "on": True,
        },
    )
    second = await receive_until(a, "reactions")

    assert first == {
        "type": "reactions",
        "room": room.slug,
        "id": message.pk,
        "seq": message.seq,
        "reactions": [
            {"emoji": "👍", "count": 1, "users": ["Bob"], "user_ids": [bob.pk]}
        ],
        "change": 1,
    }
    assert second["reactions"] == [
        {
            "emoji": "👍",
            "count": 2,
            "users": ["Bob", "Carol"],
            "user_ids": [bob.pk, carol.pk],
        }
    ]

    await realtime.send(
        b,
        {
            "type": "react",
            "room": room.slug,
            "id": message.pk,
            "emoji": "👍",
            "on": False,
        },
    )
    third = await receive_until(a, "reactions")
    assert third["reactions"] == [
        {"emoji": "👍", "count": 1, "users": ["Carol"], "user_ids": [carol.pk]}
    ]
    await close_all(a, b, c)


async def test_when_a_reaction_is_set_again_then_no_one_else_hears_of_it():
    room, (alice, bob) = await room_with(2)
    message = await post(room, alice, "hi")
    await database_sync_to_async(services.reaction_set)(
        user=bob, message=message, emoji="🎉", on=True
    )
    a, b = await connected(alice), await connected(bob)

    await realtime.send(
        b,
        {
            "type": "react",
            "room": room.slug,
            "id": message.pk,
            "emoji": "🎉",
            "on": True,
        },
    )

    # Bob is told the state as it is; Alice hears nothing.
    assert (await receive(b))["reactions"][0]["count"] == 1
    await post(room, bob, "sentinel")
    await receive_sentinel(a, "sentinel")
    assert await database_sync_to_async(Reaction.objects.count)() == 1
    await close_all(a, b)


# --- replies -------------------------------------------------------------------------------


async def test_when_a_member_replies_then_the_message_carries_a_quote_of_its_parent():
    room, (alice, bob) = await room_with(2)
    parent = await post(room, alice, "Which day works?")
    a, b = await connected(alice), await connected(bob)
    client_id = str(uuid.uuid4())

    await realtime.send(
        b,
        {
            "type": "send",
            "room": room.slug,
            "body": "Tuesday",
            "client_id": client_id,
            "reply_to": parent.pk,
        },
    )

    ack = await receive_until(b, "ack")
    live = await receive_until(a, "message")
    quote = {
        "id": parent.pk,
        "seq": 1,
        "author": {"id": alice.pk, "username": alice.username, "name": "Alice"},
        "excerpt": "Which day works?",
        "deleted": False,
    }
    assert ack["message"]["reply_to"] == quote
    assert live["message"]["reply_to"] == quote
    await close_all(a, b)


# --- refused frames: an error frame, the socket stays open, nothing changes -------------------


def bad_frames(room, mine, theirs, gone, elsewhere):
    """(frame, code, ref) for frames the server must refuse, given the ids to use."""
    client_id = str(uuid.uuid4())
    return [
        (
            {"type": "edit", "room": room, "id": mine, "body": ""},
            "empty",
            f"edit:{mine}",
        ),
        (
            {"type": "edit", "room": room, "id": mine, "body": "  "},
            "empty",
            f"edit:{mine}",
        ),
        (
            {"type": "edit", "room": room, "id": mine, "body": "x" * 4001},
            "too_long",
            f"edit:{mine}",
        ),
        (
            {"type": "edit", "room": room, "id": mine, "body": 5},
            "invalid",
            f"edit:{mine}",
        ),
        ({"type": "edit", "room": room, "id": mine}, "invalid", f"edit:{mine}"),
        (
            {"type": "edit", "room": room, "id": theirs, "body": "x"},
            "forbidden",
            f"edit:{theirs}",
        ),
        (
            {"type": "edit", "room": room, "id": gone, "body": "x"},
            "deleted",
            f"edit:{gone}",
        ),
        (
            {"type": "edit", "room": room, "id": elsewhere, "body": "x"},
            "not_found",
            f"edit:{elsewhere}",
        ),
        (
            {"type": "edit", "room": room, "id": 10**9, "body": "x"},
            "not_found",
            "edit:1000000000",
        ),
        ({"type": "edit", "room": room, "id": "1", "body": "x"}, "invalid", None),
        (
            {"type": "delete", "room": room, "id": theirs},
            "forbidden",
            f"delete:{theirs}",
        ),
        (
            {"type": "delete", "room": room, "id": elsewhere},
            "not_found",
            f"delete:{elsewhere}",
        ),
        ({"type": "delete", "room": room}, "invalid", None),
        (
            {"type": "react", "room": room, "id": theirs, "emoji": "lol", "on": True},
            "invalid",
            f"react:{theirs}",
        ),
        (
            {"type": "react", "room": room, "id": theirs, "emoji": "👍👍", "on": True},
            "invalid",
            f"react:{theirs}",
        ),
        (
            {"type": "react", "room": room, "id": theirs, "emoji": None, "on": True},
            "invalid",
            f"react:{theirs}",
        ),
        (
            {"type": "react", "room": room, "id": gone, "emoji": "👍", "on": True},
            "deleted",
            f"react:{gone}",
        ),
        ({"type": "react", "room": room, "id": theirs, "emoji": "👍"}, "invalid", None),
        (
            {"type": "react", "room": room, "id": elsewhere, "emoji": "👍", "on": True},
            "not_found",
            f"react:{elsewhere}",
        ),
        (
            {
                "type": "send",
                "room": room,
                "body": "hi",
                "client_id": client_id,
                "reply_to": elsewhere,
            },
            "invalid",
            client_id,
        ),
        (
            {
                "type": "send",
                "room": room,
                "body": "hi",
                "client_id": client_id,
                "reply_to": "1",
            },
            "invalid",
            None,
        ),
    ]


@database_sync_to_async
def messages_to_act_on(room, alice, bob):
    """Alice's, Bob's, a deleted one of Alice's, and one in a private room elsewhere."""
    mine = send(room, alice, "alice's")
    theirs = send(room, bob, "bob's")
    gone = send(room, alice, "deleted")
    services.message_delete(actor=alice, message=gone)
    secret = RoomFactory(kind=Room.Kind.PRIVATE)
    elsewhere = send(secret, member(secret), "private")
    return mine.pk, theirs.pk, gone.pk, elsewhere.pk


async def test_when_rich_message_frames_are_bad_or_not_allowed_then_error_and_nothing_changes():
    room, (alice, bob) = await room_with(2)
    ids = await messages_to_act_on(room, alice, bob)
    a, b = await connected(alice), await connected(bob)
    before = await snapshot()

    for frame, code, ref in bad_frames(room.slug, *ids):
        await realtime.send(a, frame)
        error = await receive(a)
        assert (error["type"], error["code"], error["ref"]) == ("error", code, ref), (
            frame
        )
        assert error["message"]

    assert await snapshot() == before
    # Bob heard nothing of any of it, and Alice's socket still works.
    await realtime.send(a, {"type": "ping"})
    assert await receive(a) == {"type": "pong"}
    await post(room, alice, "sentinel")
    await receive_sentinel(b, "sentinel")
    await close_all(a, b)


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("edit", {"body": "mine now"}),
        ("delete", {}),
        ("react", {"emoji": "👍", "on": True}),
    ],
)
async def test_when_a_non_member_acts_in_a_private_room_then_not_found_and_nothing_changes(
    kind, extra
):
    room, (alice,) = await room_with(1, kind=Room.Kind.PRIVATE)
    message = await post(room, alice, "members only")
    # Staff too: in the chat, a private room is its members' alone (the admin is
    # where staff moderate it).
    outsiders = [
        await database_sync_to_async(UserFactory)(),
        await database_sync_to_async(UserFactory)(is_staff=True),
    ]
    before = await snapshot()

    for outsider in outsiders:
        socket = await connected(outsider)
        await realtime.send(
            socket, {"type": kind, "room": room.slug, "id": message.pk, **extra}
        )
        error = await receive(socket)
        assert (error["code"], error["ref"]) == ("not_found", f"{kind}:{message.pk}")
        assert "members only" not in json.dumps(error)
        await socket.disconnect()

    assert await snapshot() == before


async def test_when_a_reader_who_has_not_joined_a_public_room_reacts_then_not_member():
    room, (alice,) = await room_with(1)
    message = await post(room, alice, "open")
    reader = await database_sync_to_async(UserFactory)()
    socket = await connected(reader)
    before = await snapshot()

    await realtime.send(
        socket,
        {
            "type": "react",
            "room": room.slug,
            "id": message.pk,
            "emoji": "👍",
            "on": True,
        },
    )

    error = await receive(socket)
    assert (error["code"], error["ref"]) == ("not_member", f"react:{message.pk}")
    assert await snapshot() == before
    await socket.disconnect()


async def test_when_an_author_who_left_a_private_room_edits_then_not_found():
    room, (alice, bob) = await room_with(2, kind=Room.Kind.PRIVATE)
    message = await post(room, alice, "before I left")
    await database_sync_to_async(
        Membership.objects.filter(user=alice, room=room).delete
    )()
    socket = await connected(alice)
    before = await snapshot()

    for frame in (
        {"type": "edit", "room": room.slug, "id": message.pk, "body": "after"},
        {"type": "delete", "room": room.slug, "id": message.pk},
    ):
        await realtime.send(socket, frame)
        assert (await receive(socket))["code"] == "not_found"

    assert await snapshot() == before
    await socket.disconnect()
