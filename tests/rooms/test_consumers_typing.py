"""The `typing` frame over a socket and POSTed to /api/frames, through the full ASGI
stack and a real Redis. A refused frame gets an error and publishes nothing: the
sentinel message (see test_consumers.py) is the next frame the others get."""

import pytest

from rooms.models import Room
from tests import realtime
from tests.rooms.test_consumers import (
    add_member,
    close_all,
    connected,
    make_room,
    make_user,
    post,
    receive,
    receive_sentinel,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_when_a_member_types_then_the_others_in_the_room_are_told_who():
    room = await make_room()
    alice = await add_member(room, await make_user(display_name="Alice"))
    bob = await add_member(room)
    alice_socket, bob_socket = await connected(alice), await connected(bob)

    await realtime.send(alice_socket, {"type": "typing", "room": room.slug})

    assert await receive(bob_socket) == {
        "type": "typing",
        "room": room.slug,
        "user": {"id": alice.pk, "username": alice.username, "name": "Alice"},
    }
    # No ack, no seq: the author's own socket only hears the event, which names her,
    # so her page knows not to show it.
    assert (await receive(alice_socket))["user"]["id"] == alice.pk
    await close_all(alice_socket, bob_socket)


async def test_a_reader_who_is_not_a_member_gets_an_error_and_nobody_is_told():
    room = await make_room()
    bob = await add_member(room)
    reader = await make_user()
    bob_socket, reader_socket = await connected(bob), await connected(reader)

    await realtime.send(reader_socket, {"type": "typing", "room": room.slug})

    error = await receive(reader_socket)
    assert (error["type"], error["code"], error["ref"]) == (
        "error",
        "not_member",
        f"typing:{room.slug}",
    )
    await post(room, bob, "sentinel")
    await receive_sentinel(bob_socket, "sentinel")
    await close_all(bob_socket, reader_socket)


async def test_typing_in_a_private_room_one_is_not_in_looks_like_no_room_at_all():
    room = await make_room(kind=Room.Kind.PRIVATE)
    outsider_socket = await connected(await make_user())

    await realtime.send(outsider_socket, {"type": "typing", "room": room.slug})
    error = await receive(outsider_socket)
    await realtime.send(outsider_socket, {"type": "typing", "room": "no-such-room"})
    missing = await receive(outsider_socket)

    assert error["code"] == "not_found"
    assert {k: v for k, v in error.items() if k != "ref"} == {
        k: v for k, v in missing.items() if k != "ref"
    }
    await outsider_socket.disconnect()


async def test_a_typing_frame_without_a_room_slug_is_refused():
    socket = await connected(await make_user())
    await realtime.send(socket, {"type": "typing", "room": "not a slug"})
    error = await receive(socket)
    assert (error["type"], error["code"]) == ("error", "invalid")
    await socket.disconnect()


async def test_typing_posted_over_http_reaches_the_sockets_of_the_room():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await connected(bob)

    status, answer = await realtime.post_frame(
        alice, {"type": "typing", "room": room.slug}
    )

    assert (status, answer) == (200, {"frames": []})
    frame = await receive(bob_socket)
    assert (frame["type"], frame["user"]["id"]) == ("typing", alice.pk)
    await bob_socket.disconnect()
