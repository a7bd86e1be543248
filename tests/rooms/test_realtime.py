"""rooms.realtime: sends of many connections stored together (SendBatches)."""

import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from rooms import protocol, realtime
from rooms.models import Message, Room
from tests import realtime as sockets
from tests.factories import RoomFactory, member

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 10


def send_frame(room: Room, body: str) -> dict:
    """A `send` frame as a socket's client writes it, parsed as the server does."""
    frame = {"type": "send", "room": room.slug, "body": body}
    return protocol.parse(json.dumps({**frame, "client_id": str(uuid.uuid4())}))


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """The size of each batch the database thread stores (the real handle_sends)."""
    sizes: list[int] = []
    real = realtime.handle_sends

    async def counted(sends):
        sizes.append(len(sends))
        return await real(sends)

    monkeypatch.setattr(realtime, "handle_sends", counted)
    return sizes


@database_sync_to_async
def room_with_members(count: int) -> tuple[Room, list[User]]:
    room = RoomFactory()
    return room, [member(room) for _ in range(count)]


async def test_sends_that_arrive_together_are_stored_in_one_batch_and_each_acked(
    batches,
):
    room, people = await room_with_members(5)
    frames = [send_frame(room, f"from {n}") for n in range(5)]
    queue = realtime.SendBatches()

    replies = await asyncio.gather(
        *(
            queue.send(person, frame)
            for person, frame in zip(people, frames, strict=True)
        )
    )

    assert batches == [5]
    acks = [reply.frames[0] for reply in replies]
    assert [ack["type"] for ack in acks] == ["ack"] * 5
    assert [ack["client_id"] for ack in acks] == [str(f["client_id"]) for f in frames]
    assert [ack["seq"] for ack in acks] == [1, 2, 3, 4, 5]
    bodies = await database_sync_to_async(
        lambda: list(Message.objects.order_by("seq").values_list("body", flat=True))
    )()
    assert bodies == [f"from {n}" for n in range(5)]


async def test_a_lone_send_goes_at_once_and_later_ones_make_the_next_batch(batches):
    room, (alice, bob, carol) = await room_with_members(3)
    queue = realtime.SendBatches()

    first = asyncio.ensure_future(queue.send(alice, send_frame(room, "a")))
    await asyncio.sleep(0)  # the batch of one has left for the database thread
    rest = [queue.send(p, send_frame(room, p.username)) for p in (bob, carol)]
    replies = await asyncio.gather(first, *rest)

    assert batches == [1, 2]
    assert [r.frames[0]["seq"] for r in replies] == [1, 2, 3]


async def test_in_a_batch_a_closed_account_is_refused_and_the_others_are_stored(
    batches,
):
    room, (alice, bob) = await room_with_members(2)
    await database_sync_to_async(
        lambda: User.objects.filter(pk=bob.pk).update(is_active=False)
    )()
    queue = realtime.SendBatches()

    replies = await asyncio.gather(
        queue.send(alice, send_frame(room, "a")),
        queue.send(bob, send_frame(room, "b")),
        queue.send(alice, send_frame(room, "c")),
    )

    assert batches == [3]
    answers = [reply.frames[0] for reply in replies]
    assert [a["type"] for a in answers] == ["ack", "error", "ack"]
    assert answers[1]["code"] == "unauthenticated"
    assert [answers[0]["seq"], answers[2]["seq"]] == [1, 2]


async def test_sockets_sending_at_once_each_get_their_ack_and_every_message_in_order():
    room, people = await room_with_members(4)
    connected = [await sockets.connect(person) for person in people]
    for socket in connected:
        await sockets.receive_until(socket, "hello", TIMEOUT)

    for n, socket in enumerate(connected):
        for k in range(3):
            frame = {"type": "send", "room": room.slug, "body": f"{n}.{k}"}
            await sockets.send(socket, {**frame, "client_id": str(uuid.uuid4())})

    for socket in connected:
        acks, seqs = 0, []
        while acks < 3 or len(seqs) < 12:
            frame = await sockets.receive(socket, TIMEOUT)
            if frame["type"] == "ack":
                acks += 1
            elif frame["type"] == "message":
                seqs.append(frame["message"]["seq"])
        assert seqs == list(range(1, 13))
    for socket in connected:
        await socket.disconnect()
