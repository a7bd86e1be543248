"""Mentions over the socket: the payload names whom a message mentions, live and on
edit, so each reader's client highlights and counts its own."""

import uuid

import pytest
from channels.db import database_sync_to_async

from tests import realtime
from tests.factories import RoomFactory, UserFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@database_sync_to_async
def room_with(*names: str):
    room = RoomFactory()
    return room, [member(room, UserFactory(username=name)) for name in names]


async def connected(user):
    socket = await realtime.connect(user)
    await realtime.receive_until(socket, "hello", TIMEOUT)
    return socket


async def test_when_a_message_mentions_someone_then_their_socket_is_told_whom():
    room, (alice, bob) = await room_with("alice", "bob")
    alices, bobs = await connected(alice), await connected(bob)

    await realtime.send(
        alices,
        {
            "type": "send",
            "room": room.slug,
            "body": "@bob see this, @nobody",
            "client_id": str(uuid.uuid4()),
        },
    )

    ack = await realtime.receive_until(alices, "ack", TIMEOUT)
    live = await realtime.receive_until(bobs, "message", TIMEOUT)
    assert live["message"]["mentions"] == ack["message"]["mentions"] == [bob.pk]
    assert f'data-user-id="{bob.pk}">@bob</span>' in live["message"]["html"]
    assert "@nobody" in live["message"]["html"]

    await realtime.send(
        alices,
        {"type": "edit", "room": room.slug, "id": ack["id"], "body": "never mind"},
    )
    edited = await realtime.receive_until(bobs, "message_edited", TIMEOUT)
    assert edited["message"]["mentions"] == []
    for socket in (alices, bobs):
        await socket.disconnect()
