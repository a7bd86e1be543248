"""Flood control: burst then sustained rate, per user and action, across processes."""

import uuid

import pytest

from rooms import services
from rooms.errors import RateLimited
from rooms.models import Message
from rooms.ratelimit import (
    Limit,
    MemoryBuckets,
    RedisBuckets,
    rate_limit,
    rate_limits,
)
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member

pytestmark = pytest.mark.rate_limits


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_bucket_allows_the_burst_then_the_rate(kind, redis_server):
    buckets = MemoryBuckets() if kind == "memory" else RedisBuckets(redis_server.url)
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=3, rate=0.5)
    assert [buckets.take([key], limit, 100.0) for _ in range(3)] == [[0], [0], [0]]
    assert buckets.take([key], limit, 100.0) == [pytest.approx(2.0)]
    assert buckets.take([key], limit, 101.0) == [pytest.approx(1.0)]
    assert buckets.take([key], limit, 102.0) == [0]
    assert buckets.take([f"{key}-other"], limit, 102.0) == [0]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_one_call_takes_from_several_buckets_in_turn(kind, redis_server):
    """A batch of sends takes its tokens at once: a key listed twice takes two."""
    buckets = MemoryBuckets() if kind == "memory" else RedisBuckets(redis_server.url)
    key, other = f"bucket-{uuid.uuid4().hex}", f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.5)
    waits = buckets.take([key, other, key, key, other], limit, 100.0)
    assert waits == [0, 0, 0, pytest.approx(2.0), 0]


def test_redis_buckets_are_shared_by_every_process(redis_server):
    """Two clients stand for two daphne processes: they drain one bucket."""
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.001)
    first, second = RedisBuckets(redis_server.url), RedisBuckets(redis_server.url)
    assert first.take([key], limit, 10.0) == [0]
    assert second.take([key], limit, 10.0) == [0]
    assert first.take([key], limit, 10.0)[0] > 0


def test_an_unreachable_store_lets_actions_through(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    for _ in range(50):
        rate_limit(user_id=1, action="message")
    assert rate_limits(user_ids=[1, 1, 2], action="message") == [None, None, None]


def test_rate_limits_answers_each_user_in_order(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (1, 0.001)}
    refused = rate_limits(user_ids=[1, 2, 1], action="message")
    assert refused[:2] == [None, None]
    assert isinstance(refused[2], RateLimited) and refused[2].retry_after > 0


@pytest.mark.django_db
def test_sends_beyond_the_burst_are_refused_with_retry_after_and_not_stored(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (20, 1.0)}
    room = RoomFactory()
    alice = member(room)
    for n in range(20):
        services.message_send(
            author=alice, room=room, body=f"m{n}", client_id=uuid.uuid4()
        )
    with pytest.raises(RateLimited) as caught:
        services.message_send(author=alice, room=room, body="one too many")
    assert 0 < caught.value.retry_after <= 1.1
    assert Message.objects.filter(room=room).count() == 20
    # Another person is not held back by Alice's flood.
    services.message_send(author=member(room), room=room, body="hi")


@pytest.mark.django_db
def test_a_retried_send_is_not_counted_twice(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (1, 0.001)}
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()
    first = services.message_send(
        author=alice, room=room, body="hi", client_id=client_id
    )
    again = services.message_send(
        author=alice, room=room, body="hi", client_id=client_id
    )
    assert again.message.pk == first.message.pk and not again.created


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["redis", "memory"])
def test_a_retry_answered_from_the_first_send_gives_its_token_back(settings, store):
    if store == "memory":
        settings.REDIS_URL = ""
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (2, 0.001)}
    room = RoomFactory()
    alice = member(room)
    client_id = uuid.uuid4()

    first = services.message_send(
        author=alice, room=room, body="a", client_id=client_id
    )
    again = services.message_send(
        author=alice, room=room, body="a", client_id=client_id
    )
    second = services.message_send(author=alice, room=room, body="b")

    assert again.message.pk == first.message.pk and not again.created
    assert second.created
    with pytest.raises(RateLimited):
        services.message_send(author=alice, room=room, body="c")


@pytest.mark.django_db
def test_room_creation_is_limited(settings):
    alice = UserFactory()
    for n in range(5):
        services.room_create(creator=alice, name=f"Room {n}")
    with pytest.raises(RateLimited):
        services.room_create(creator=alice, name="Room 6")


@pytest.mark.django_db
def test_dm_creation_is_limited_but_reopening_one_is_free(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "dm_create": (1, 0.001)}
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    dm = services.dm_open(user=alice, usernames=[bob.username])
    assert services.dm_open(user=alice, usernames=[bob.username]) == dm
    with pytest.raises(RateLimited):
        services.dm_open(user=alice, usernames=[carol.username])


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_a_flood_gets_error_frames_and_the_socket_stays_up(
    settings,
):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (3, 0.001)}
    from channels.db import database_sync_to_async

    room = await database_sync_to_async(RoomFactory)()
    alice = await database_sync_to_async(member)(room)
    socket = await realtime.connect(alice)
    await realtime.receive_until(socket, "hello")
    refs = [str(uuid.uuid4()) for _ in range(5)]
    for ref in refs:
        await realtime.send(
            socket,
            {"type": "send", "room": room.slug, "body": "spam", "client_id": ref},
        )
    acks, errors = 0, []
    while acks + len(errors) < 5:
        frame = await realtime.receive(socket)
        if frame["type"] == "ack":
            acks += 1
        elif frame["type"] == "error":
            errors.append(frame)
    assert acks == 3
    assert [e["code"] for e in errors] == ["rate_limited", "rate_limited"]
    assert {e["ref"] for e in errors} == set(refs[3:])
    assert all(e["retry_after"] > 0 for e in errors)
    await realtime.send(socket, {"type": "ping"})
    assert await realtime.receive_until(socket, "pong") == {"type": "pong"}
    count = await database_sync_to_async(Message.objects.filter(room=room).count)()
    assert count == 3
    await socket.disconnect()
