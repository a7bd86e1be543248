"""The WebSocket at /ws/, through the full ASGI stack, against a real Redis.

Where a socket must NOT receive something, the test then makes something it MUST
receive through the same Redis connection (a "sentinel"), and checks that the sentinel
is the next frame: events reach a subscriber in the order they were published, so
this proves the unwanted event never came, without sleeping and hoping.
"""

import asyncio
import json
import uuid

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from rooms import events, services
from rooms.consumers import ChatConsumer
from rooms.models import Membership, Message, Room
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db(transaction=True)]


# --- helpers -----------------------------------------------------------------------------


# Generous: a timeout only matters when a test is failing, and a loaded machine is slow.
TIMEOUT = 10


async def receive(socket) -> dict:
    return await realtime.receive(socket, TIMEOUT)


async def receive_until(socket, kind: str) -> dict:
    return await realtime.receive_until(socket, kind, TIMEOUT)


@database_sync_to_async
def make_room_with_members(count: int, **room_kwargs):
    room = RoomFactory(**room_kwargs)
    return room, [member(room) for _ in range(count)]


@database_sync_to_async
def make_user(**kwargs):
    return UserFactory(**kwargs)


@database_sync_to_async
def make_room(**kwargs):
    return RoomFactory(**kwargs)


@database_sync_to_async
def add_member(room, user=None, **kwargs):
    return member(room, user, **kwargs)


@database_sync_to_async
def post(room, author, body="hello"):
    return send(room, author, body)


@database_sync_to_async
def snapshot():
    """Everything a bad frame must leave as it was."""
    return (
        list(
            Message.objects.order_by("pk").values_list("pk", "room_id", "seq", "body")
        ),
        list(Room.objects.order_by("pk").values_list("pk", "last_seq")),
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "room_id", "last_read_seq"
            )
        ),
    )


@database_sync_to_async
def read_position(user, room) -> int:
    return Membership.objects.get(user=user, room=room).last_read_seq


async def connected(user):
    """A socket for `user`, past its hello frame."""
    socket = await realtime.connect(user)
    assert socket.connected
    hello = await receive(socket)
    assert hello["type"] == "hello"
    return socket


def send_frame(room, body="hello", client_id=None, **extra):
    return {
        "type": "send",
        "room": room.slug if isinstance(room, Room) else room,
        "body": body,
        "client_id": str(client_id or uuid.uuid4()),
        **extra,
    }


async def send_and_ack(socket, room, body="hello", client_id=None):
    frame = send_frame(room, body, client_id)
    await realtime.send(socket, frame)
    return await receive_until(socket, "ack")


async def receive_sentinel(socket, sentinel_body: str) -> None:
    """The next frame must be the sentinel message: nothing came before it."""
    frame = await receive(socket)
    assert frame["type"] == "message", f"expected only the sentinel, got {frame}"
    assert frame["message"]["body"] == sentinel_body


async def close_all(*sockets) -> None:
    for socket in sockets:
        await socket.disconnect()


# --- handshake -----------------------------------------------------------------------------


async def test_when_a_signed_in_user_connects_then_hello_names_them():
    alice = await make_user(display_name="Alice A.")
    socket = await realtime.connect(alice)

    assert socket.connected
    hello = await receive(socket)
    assert hello == {
        "type": "hello",
        "user": {"id": alice.pk, "username": alice.username, "name": "Alice A."},
    }
    await socket.disconnect()


async def test_when_an_anonymous_client_connects_then_the_handshake_is_refused():
    socket = await realtime.connect(None)

    assert not socket.connected


async def test_when_the_origin_is_foreign_then_the_handshake_is_refused():
    user = await make_user()

    socket = await realtime.connect(user, origin=b"https://evil.example")

    assert not socket.connected


async def test_when_the_origin_is_another_port_of_an_allowed_host_then_it_connects():
    user = await make_user()

    socket = await realtime.connect(user, origin=b"http://localhost:8000")

    assert socket.connected
    await socket.disconnect()


async def test_when_a_deactivated_users_session_connects_then_the_handshake_is_refused():
    user = await make_user()
    cookie_holder = await realtime.connect(user)
    await cookie_holder.disconnect()
    user.is_active = False
    await database_sync_to_async(user.save)()

    socket = await realtime.connect(user)

    assert not socket.connected


# --- sending -------------------------------------------------------------------------------


async def test_when_a_member_sends_then_the_author_gets_one_ack_and_one_message():
    room, (alice,) = await make_room_with_members(1)
    socket = await connected(alice)
    client_id = uuid.uuid4()

    await realtime.send(socket, send_frame(room, "  hi there  ", client_id))

    frames = [await receive(socket), await receive(socket)]
    assert await socket.receive_nothing(timeout=0.3)
    ack = next(f for f in frames if f["type"] == "ack")
    message = next(f for f in frames if f["type"] == "message")
    stored = await database_sync_to_async(Message.objects.get)()
    assert ack == {
        "type": "ack",
        "client_id": str(client_id),
        "room": room.slug,
        "seq": 1,
        "id": stored.pk,
        "duplicate": False,
        "message": message["message"],
    }
    assert message["room"] == room.slug
    assert message["message"]["body"] == "hi there"
    assert message["message"]["seq"] == 1
    assert message["message"]["client_id"] == str(client_id)
    assert message["message"]["author"]["id"] == alice.pk
    await socket.disconnect()


async def test_when_members_send_then_every_member_socket_gets_each_once_in_seq_order():
    room, (alice, bob, carol) = await make_room_with_members(3)
    a = await connected(alice)
    b1 = await connected(bob)
    b2 = await connected(bob)  # a second tab of the same person
    c = await connected(carol)
    sockets = (a, b1, b2, c)
    seen = {socket: [] for socket in sockets}

    async def take(socket) -> dict:
        frame = await receive(socket)
        if frame["type"] == "message":
            seen[socket].append((frame["message"]["seq"], frame["message"]["body"]))
        return frame

    for n, sender in enumerate([a, b1, c, a, b2, c]):
        await realtime.send(sender, send_frame(room, f"message {n}"))
        # The ack and the sender's own message event may come in either order.
        while (await take(sender))["type"] != "ack":
            pass

    for socket in sockets:
        while len(seen[socket]) < 6:
            assert (await take(socket))["type"] in {"message", "ack"}
        assert seen[socket] == [(n + 1, f"message {n}") for n in range(6)]
        assert await socket.receive_nothing(timeout=0.2)
    await close_all(*sockets)


async def test_when_the_same_event_reaches_two_sockets_then_both_get_the_publishers_text():
    room, (alice, bob) = await make_room_with_members(2)
    a = await connected(alice)
    b = await connected(bob)

    message = await post(room, alice, "serialized once: é ✓ <b>")

    texts = [
        await a.receive_from(timeout=TIMEOUT),
        await b.receive_from(timeout=TIMEOUT),
    ]
    payload = await database_sync_to_async(
        lambda: events.message_payload(Message.objects.get(pk=message.pk))
    )()
    expected = events.encode({"type": "message", "room": room.slug, "message": payload})
    assert texts == [expected, expected]
    await close_all(a, b)


async def test_when_a_run_of_messages_arrives_as_one_event_then_only_followers_get_each_in_order():
    room, (alice,) = await make_room_with_members(1)
    elsewhere, (bob,) = await make_room_with_members(1)
    a = await connected(alice)
    b = await connected(bob)
    texts = [events.encode({"type": "note", "n": n}) for n in range(3)]
    run = {"type": events.EVENT_HANDLER, "texts": texts, "room_id": room.pk}
    layer = get_channel_layer()

    await layer.group_send(events.room_group(room.pk), run)
    # Bob's own group, but a room his socket does not follow: dropped all the same.
    await layer.group_send(events.user_group(bob.pk), run)
    await post(elsewhere, bob, "sentinel")

    assert [await a.receive_from(timeout=TIMEOUT) for _ in texts] == texts
    await receive_sentinel(b, "sentinel")
    await close_all(a, b)


async def test_when_a_send_is_retried_with_its_client_id_then_duplicate_ack_and_one_row():
    room, (alice, bob) = await make_room_with_members(2)
    a = await connected(alice)
    b = await connected(bob)
    client_id = uuid.uuid4()

    first = await send_and_ack(a, room, "only once", client_id)
    retry = await send_and_ack(a, room, "only once", client_id)

    assert first["duplicate"] is False
    assert retry["duplicate"] is True
    assert (retry["seq"], retry["id"]) == (first["seq"], first["id"])
    assert await database_sync_to_async(Message.objects.count)() == 1
    # Bob saw the message once; the retry published nothing.
    assert (await receive_until(b, "message"))["message"]["seq"] == 1
    await post(room, alice, "sentinel")
    await receive_sentinel(b, "sentinel")
    await close_all(a, b)


async def test_when_a_send_frame_names_another_author_then_the_connected_user_is_author():
    room, (alice, bob) = await make_room_with_members(2)
    socket = await connected(alice)

    forged = send_frame(
        room,
        "who wrote this?",
        author={"id": bob.pk, "username": bob.username},
        author_id=bob.pk,
        seq=99,
        id=12345,
    )
    await realtime.send(socket, forged)
    ack = await receive_until(socket, "ack")

    stored = await database_sync_to_async(Message.objects.get)()
    assert stored.author_id == alice.pk
    assert (ack["seq"], ack["id"]) == (1, stored.pk)
    assert ack["message"]["author"]["id"] == alice.pk
    await socket.disconnect()


async def test_when_a_body_holds_html_then_it_travels_as_raw_text():
    room, (alice, bob) = await make_room_with_members(2)
    a = await connected(alice)
    b = await connected(bob)
    body = "<script>alert('hi')</script> & <img src=x onerror=alert(1)>"

    await send_and_ack(a, room, body)

    assert (await receive_until(b, "message"))["message"]["body"] == body
    await close_all(a, b)


async def test_when_the_surrounding_transaction_rolls_back_then_no_socket_hears_of_it():
    room, (alice, bob) = await make_room_with_members(2)
    b = await connected(bob)

    @database_sync_to_async
    def send_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.message_send(
                author=alice, room=room, body="rolled back", client_id=uuid.uuid4()
            )
            raise RuntimeError("the caller failed after sending")

    await send_then_fail()

    assert await database_sync_to_async(Message.objects.count)() == 0
    sentinel = await post(room, alice, "sentinel")
    assert sentinel.seq == 1
    await receive_sentinel(b, "sentinel")
    await b.disconnect()


# --- bad frames ----------------------------------------------------------------------------

ROOM = "{room}"
GOOD_ID = "{client_id}"

BAD_FRAMES = [
    pytest.param("this is not json", "bad_json", None, id="not-json"),
    pytest.param('{"type": "send", "room": ', "bad_json", None, id="truncated-json"),
    pytest.param("[1, 2, 3]", "bad_json", None, id="json-array"),
    pytest.param('"send"', "bad_json", None, id="json-string"),
    pytest.param('{"type": "shout"}', "unknown_type", None, id="unknown-type"),
    pytest.param('{"room": "x"}', "unknown_type", None, id="no-type"),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": "hi"}',
        "invalid",
        None,
        id="send-without-client-id",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": "hi", "client_id": "nope"}',
        "invalid",
        None,
        id="send-bad-client-id",
    ),
    pytest.param(
        '{"type": "send", "room": 7, "body": "hi", "client_id": "{client_id}"}',
        "invalid",
        None,
        id="send-room-not-a-string",
    ),
    pytest.param(
        '{"type": "send", "room": "../x y", "body": "hi", "client_id": "{client_id}"}',
        "invalid",
        None,
        id="send-room-not-a-slug",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": "", "client_id": "{client_id}"}',
        "empty",
        "client_id",
        id="send-empty-body",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": " \\n\\t ", '
        '"client_id": "{client_id}"}',
        "empty",
        "client_id",
        id="send-blank-body",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": "{long}", '
        '"client_id": "{client_id}"}',
        "too_long",
        "client_id",
        id="send-4001-chars",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": 42, "client_id": "{client_id}"}',
        "invalid",
        "client_id",
        id="send-body-not-text",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "client_id": "{client_id}"}',
        "invalid",
        "client_id",
        id="send-without-body",
    ),
    pytest.param(
        '{"type": "send", "room": "{room}", "body": "a\\u0000b", '
        '"client_id": "{client_id}"}',
        "invalid",
        "client_id",
        id="send-nul-character",
    ),
    pytest.param(
        '{"type": "resume", "rooms": ["{room}"]}',
        "invalid",
        None,
        id="resume-rooms-not-an-object",
    ),
    pytest.param(
        '{"type": "resume", "rooms": {"{room}": -1}}',
        "invalid",
        None,
        id="resume-negative-seq",
    ),
    pytest.param(
        '{"type": "resume", "rooms": {"{room}": "3"}}',
        "invalid",
        None,
        id="resume-seq-not-a-number",
    ),
    pytest.param(
        '{"type": "read", "room": "{room}", "seq": true}',
        "invalid",
        None,
        id="read-seq-boolean",
    ),
    pytest.param(
        '{"type": "read", "room": "{room}"}', "invalid", None, id="read-no-seq"
    ),
    pytest.param("{oversized}", "too_large", None, id="oversized-frame"),
]


@pytest.mark.parametrize(("template", "code", "ref"), BAD_FRAMES)
async def test_when_a_frame_is_bad_then_error_frame_socket_stays_open_nothing_changes(
    template, code, ref, settings
):
    room, (alice, bob) = await make_room_with_members(2)
    await post(room, bob, "already here")
    socket = await connected(alice)
    client_id = str(uuid.uuid4())
    oversized = json.dumps(
        send_frame(room, "x" * settings.CHAT_MAX_FRAME_BYTES, client_id)
    )
    text = (
        template.replace("{room}", room.slug)
        .replace("{client_id}", client_id)
        .replace("{long}", "y" * 4001)
        .replace("{oversized}", oversized)
    )
    before = await snapshot()

    await realtime.send(socket, text)

    error = await receive(socket)
    assert error["type"] == "error"
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert error["ref"] == (client_id if ref == "client_id" else None)
    assert await snapshot() == before
    # Still open, and still working.
    ack = await send_and_ack(socket, room, "still here")
    assert ack["seq"] == 2
    await socket.disconnect()


async def test_when_a_binary_frame_arrives_then_error_frame_and_the_socket_stays_open():
    room, (alice,) = await make_room_with_members(1)
    socket = await connected(alice)
    before = await snapshot()

    await socket.send_to(bytes_data=b'{"type": "ping"}')

    error = await receive(socket)
    assert (error["type"], error["code"]) == ("error", "bad_json")
    assert error["message"]
    assert await snapshot() == before
    await realtime.send(socket, {"type": "ping"})
    assert await receive(socket) == {"type": "pong"}
    await socket.disconnect()


async def test_when_a_ping_arrives_then_pong():
    alice = await make_user()
    socket = await connected(alice)

    await realtime.send(socket, {"type": "ping"})

    assert await receive(socket) == {"type": "pong"}
    await socket.disconnect()


# --- who may do what -----------------------------------------------------------------------


async def test_when_a_non_member_sends_to_a_public_room_then_not_member_and_nothing_stored():
    room, (alice,) = await make_room_with_members(1)
    await post(room, alice, "members only")
    outsider = await make_user()
    socket = await connected(outsider)
    before = await snapshot()
    frame = send_frame(room, "let me in")

    await realtime.send(socket, frame)

    error = await receive(socket)
    assert (error["type"], error["code"], error["ref"]) == (
        "error",
        "not_member",
        frame["client_id"],
    )
    assert await snapshot() == before
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        send_frame("no-such-room", client_id=uuid.UUID(int=1)),
        {"type": "resume", "rooms": {"no-such-room": 0}},
        {"type": "read", "room": "no-such-room", "seq": 1},
    ],
    ids=["send", "resume", "read"],
)
async def test_when_a_frame_names_an_unknown_room_then_not_found(frame):
    alice = await make_user()
    socket = await connected(alice)

    await realtime.send(socket, frame)

    error = await receive(socket)
    assert (error["type"], error["code"]) == ("error", "not_found")
    expected_ref = frame.get("client_id") or "no-such-room"
    assert error["ref"] == expected_ref
    await socket.disconnect()


async def test_when_an_outsider_names_a_private_room_then_it_looks_like_no_room_at_all():
    room, (owner,) = await make_room_with_members(1, kind=Room.Kind.PRIVATE)
    await post(room, owner, "secret 1")
    outsider = await make_user()
    socket = await connected(outsider)
    before = await snapshot()

    answers = {}
    for slug in (room.slug, "no-such-room"):
        await realtime.send(socket, send_frame(slug, "peek", uuid.UUID(int=7)))
        await realtime.send(socket, {"type": "resume", "rooms": {slug: 0}})
        await realtime.send(socket, {"type": "read", "room": slug, "seq": 1})
        frames = [await receive(socket) for _ in range(3)]
        for frame in frames:
            if frame["ref"] == slug:
                frame["ref"] = "<slug>"
        answers[slug] = frames

    assert answers[room.slug] == answers["no-such-room"]
    assert {f["code"] for f in answers[room.slug]} == {"not_found"}
    assert await snapshot() == before
    assert await read_position(owner, room) == 1
    await socket.disconnect()


async def test_when_a_private_room_gets_messages_then_an_outsiders_socket_never_hears():
    private, (owner,) = await make_room_with_members(1, kind=Room.Kind.PRIVATE)
    public, _ = await make_room_with_members(0)
    outsider = await make_user()
    await add_member(public, owner)
    await add_member(public, outsider)
    socket = await connected(outsider)
    # Trying the door does not open it.
    await realtime.send(socket, {"type": "resume", "rooms": {private.slug: 0}})
    assert (await receive(socket))["code"] == "not_found"

    await post(private, owner, "private talk")
    message = await post(private, owner, "more private talk")
    await database_sync_to_async(services.message_delete)(actor=owner, message=message)
    await post(public, owner, "sentinel")

    await receive_sentinel(socket, "sentinel")
    await socket.disconnect()


async def test_when_an_account_is_deactivated_then_its_open_socket_can_no_longer_post():
    room, (alice, bob) = await make_room_with_members(2)
    socket = await connected(alice)
    await send_and_ack(socket, room, "before the ban")
    # Staff deactivate the account while the socket stays open.
    await database_sync_to_async(
        lambda: type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    )()
    before = await snapshot()

    for frame in (
        send_frame(room, "after the ban"),
        {"type": "read", "room": room.slug, "seq": 1},
        {"type": "resume", "rooms": {room.slug: 0}},
    ):
        await realtime.send(socket, frame)
        error = await receive_until(socket, "error")
        assert error["code"] == "unauthenticated"

    assert await snapshot() == before
    await socket.disconnect()


# --- resume --------------------------------------------------------------------------------


async def test_when_a_client_resumes_then_it_gets_exactly_the_missing_messages_in_order():
    room, (alice, bob) = await make_room_with_members(2)
    for n in range(1, 8):
        await post(room, bob, f"m{n}")
    socket = await connected(alice)

    await realtime.send(socket, {"type": "resume", "rooms": {room.slug: 3}})

    frame = await receive(socket)
    assert frame["type"] == "messages"
    assert frame["room"] == room.slug
    assert [(m["seq"], m["body"]) for m in frame["messages"]] == [
        (n, f"m{n}") for n in range(4, 8)
    ]
    await socket.disconnect()


async def test_when_a_client_is_up_to_date_then_resume_returns_no_messages():
    room, (alice,) = await make_room_with_members(1)
    await post(room, alice)
    socket = await connected(alice)

    await realtime.send(socket, {"type": "resume", "rooms": {room.slug: 1}})

    assert await receive(socket) == {
        "type": "messages",
        "room": room.slug,
        "messages": [],
        "changed": [],
        "last_change": 0,
    }
    await socket.disconnect()


async def test_when_more_than_the_resume_limit_is_missing_then_resync(settings):
    settings.CHAT_RESUME_LIMIT = 5
    room, (alice,) = await make_room_with_members(1)
    for _ in range(7):
        await post(room, alice)
    socket = await connected(alice)

    await realtime.send(socket, {"type": "resume", "rooms": {room.slug: 1}})
    await realtime.send(socket, {"type": "resume", "rooms": {room.slug: 2}})

    assert await receive(socket) == {
        "type": "resync",
        "room": room.slug,
        "last_seq": 7,
        "last_change": 0,
    }
    exactly_the_limit = await receive(socket)
    assert [m["seq"] for m in exactly_the_limit["messages"]] == [3, 4, 5, 6, 7]
    await socket.disconnect()


async def test_when_several_rooms_resume_at_once_then_each_gets_its_answer():
    first, (alice,) = await make_room_with_members(1)
    second = await make_room()
    await add_member(second, alice)
    await post(first, alice, "a")
    await post(second, alice, "b")
    await post(second, alice, "c")
    socket = await connected(alice)

    await realtime.send(
        socket, {"type": "resume", "rooms": {first.slug: 0, "nope": 0, second.slug: 1}}
    )

    frames = [await receive(socket) for _ in range(3)]
    by_room = {f.get("room") or f["ref"]: f for f in frames}
    assert [m["body"] for m in by_room[first.slug]["messages"]] == ["a"]
    assert by_room["nope"]["code"] == "not_found"
    assert [m["body"] for m in by_room[second.slug]["messages"]] == ["c"]
    await socket.disconnect()


# --- read ----------------------------------------------------------------------------------


async def test_when_a_member_reads_then_position_moves_forward_and_other_tabs_hear():
    room, (alice, bob) = await make_room_with_members(2)
    for _ in range(5):
        await post(room, bob)
    tab1 = await connected(alice)
    tab2 = await connected(alice)

    await realtime.send(tab1, {"type": "read", "room": room.slug, "seq": 4})

    assert await receive(tab2) == {"type": "read", "room": room.slug, "seq": 4}
    assert await read_position(alice, room) == 4

    await realtime.send(tab1, {"type": "read", "room": room.slug, "seq": 2})
    await realtime.send(tab1, {"type": "read", "room": room.slug, "seq": 99})

    # Going back is ignored; going past the newest message stops at it.
    assert await receive(tab2) == {"type": "read", "room": room.slug, "seq": 5}
    assert await read_position(alice, room) == 5
    await close_all(tab1, tab2)


async def test_when_a_non_member_marks_a_public_room_read_then_not_member():
    room, (alice,) = await make_room_with_members(1)
    await post(room, alice)
    outsider = await make_user()
    socket = await connected(outsider)

    await realtime.send(socket, {"type": "read", "room": room.slug, "seq": 1})

    error = await receive(socket)
    assert (error["code"], error["ref"]) == ("not_member", room.slug)
    await socket.disconnect()


# --- joining and leaving -------------------------------------------------------------------


async def test_when_a_user_joins_then_their_open_sockets_start_receiving_the_room():
    room, (alice,) = await make_room_with_members(1)
    await post(room, alice, "before bob")
    bob = await make_user()
    tab1 = await connected(bob)
    tab2 = await connected(bob)

    fresh = await database_sync_to_async(Room.objects.get)(pk=room.pk)
    await database_sync_to_async(services.membership_join)(user=bob, room=fresh)

    for tab in (tab1, tab2):
        joined = await receive(tab)
        assert joined["type"] == "room_joined"
        assert joined["room"]["slug"] == room.slug
        assert joined["room"]["last_seq"] == 1
        assert joined["last_read_seq"] == 1
    await post(room, alice, "welcome bob")
    for tab in (tab1, tab2):
        assert (await receive(tab))["message"]["body"] == "welcome bob"
    await close_all(tab1, tab2)


async def test_when_a_user_leaves_then_their_sockets_stop_receiving_at_once():
    room, (alice, bob) = await make_room_with_members(2)
    elsewhere = await make_room()
    await add_member(elsewhere, alice)
    await add_member(elsewhere, bob)
    tab1 = await connected(bob)
    tab2 = await connected(bob)

    await database_sync_to_async(services.membership_leave)(user=bob, room=room)
    # Sent right away, without waiting for the sockets to hear of the leave.
    await post(room, alice, "after bob left")
    await post(elsewhere, alice, "sentinel")

    for tab in (tab1, tab2):
        assert await receive(tab) == {"type": "room_left", "room": room.slug}
        await receive_sentinel(tab, "sentinel")
    # Bob's own send is refused too.
    await realtime.send(tab1, send_frame(room, "still here?"))
    assert (await receive(tab1))["code"] == "not_member"
    await close_all(tab1, tab2)


async def test_when_a_message_is_deleted_then_member_sockets_hear_it_live():
    room, (alice, bob) = await make_room_with_members(2)
    message = await post(room, alice, "regrettable")
    socket = await connected(bob)

    await database_sync_to_async(services.message_delete)(actor=alice, message=message)

    assert await receive(socket) == {
        "type": "message_deleted",
        "room": room.slug,
        "id": message.pk,
        "seq": message.seq,
        "change": 1,
    }
    await socket.disconnect()


# --- a long-lived socket -------------------------------------------------------------------


async def test_when_a_socket_sits_idle_for_more_than_ten_seconds_then_it_still_receives():
    """redis-py 8's default 5 s read timeout would kill idle subscribers."""
    room, (alice, bob) = await make_room_with_members(2)
    socket = await connected(bob)

    await asyncio.sleep(11)
    await post(room, alice, "are you still there?")

    frame = await receive(socket)
    assert frame["message"]["body"] == "are you still there?"
    await socket.disconnect()


async def test_a_send_to_a_socket_its_client_is_closing_is_dropped_not_raised():
    """daphne's WebSocket layer raises autobahn's Disconnected on a send between the
    client's close frame and the disconnect message; that race is not an error. Any
    other failure of a send still is."""
    consumer = ChatConsumer()
    consumer.channel_name = "closing-socket"

    async def closing(message):
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = closing
    await consumer.send(text_data="{}")

    async def broken(message):
        raise ValueError("a real failure")

    consumer.base_send = broken
    with pytest.raises(ValueError):
        await consumer.send(text_data="{}")
