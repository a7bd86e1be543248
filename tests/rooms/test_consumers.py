import uuid

import pytest
from channels.db import database_sync_to_async

from rooms.models import Message
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_room_with_members(count: int):
    room = RoomFactory()
    return room, [member(room) for _ in range(count)]


async def test_when_a_member_sends_then_every_member_socket_gets_it_once():
    room, (alice, bob) = await make_room_with_members(2)
    a = await realtime.connect(alice)
    b = await realtime.connect(bob)
    assert a.connected and b.connected
    await realtime.receive_until(a, "hello")
    await realtime.receive_until(b, "hello")

    client_id = str(uuid.uuid4())
    await realtime.send(a, {"type": "send", "room": room.slug, "body": "hi", "client_id": client_id})

    seen_by_bob = await realtime.receive_until(b, "message")
    assert seen_by_bob["message"]["body"] == "hi"
    assert seen_by_bob["message"]["seq"] == 1
    frames = [await realtime.receive(a), await realtime.receive(a)]
    assert sorted(f["type"] for f in frames) == ["ack", "message"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await a.disconnect()
    await b.disconnect()


async def test_anonymous_handshake_is_refused():
    communicator = await realtime.connect(None)
    assert not communicator.connected


async def test_foreign_origin_handshake_is_refused():
    user = await database_sync_to_async(UserFactory)()
    communicator = await realtime.connect(user, origin=b"https://evil.example")
    assert not communicator.connected
