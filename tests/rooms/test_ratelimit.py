"""Flood control: burst then sustained rate, per user and action, across processes."""

import time
import uuid

import pytest
import redis

from rooms import services
from rooms.errors import RateLimited
from rooms.models import Message
from rooms.ratelimit import (
    Buckets,
    Limit,
    MemoryBuckets,
    RedisBuckets,
    SharedBuckets,
    rate_limit,
    rate_limits,
)
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member

pytestmark = pytest.mark.rate_limits


def buckets_of(kind: str, url: str) -> Buckets:
    return {"memory": MemoryBuckets, "redis": RedisBuckets, "shared": SharedBuckets}[
        kind
    ](*([] if kind == "memory" else [url]))


@pytest.mark.parametrize("kind", ["memory", "redis", "shared"])
def test_a_bucket_allows_the_burst_then_the_rate(kind, redis_server):
    buckets = buckets_of(kind, redis_server.url)
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=3, rate=0.5)
    assert [buckets.take([key], limit, 100.0) for _ in range(3)] == [[0], [0], [0]]
    assert buckets.take([key], limit, 100.0) == [pytest.approx(2.0)]
    assert buckets.take([key], limit, 101.0) == [pytest.approx(1.0)]
    assert buckets.take([key], limit, 102.0) == [0]
    assert buckets.take([f"{key}-other"], limit, 102.0) == [0]


@pytest.mark.parametrize("kind", ["memory", "redis", "shared"])
def test_one_call_takes_from_several_buckets_in_turn(kind, redis_server):
    """A batch of sends takes its tokens at once: a key listed twice takes two."""
    buckets = buckets_of(kind, redis_server.url)
    key, other = f"bucket-{uuid.uuid4().hex}", f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.5)
    waits = buckets.take([key, other, key, key, other], limit, 100.0)
    assert waits == [0, 0, 0, pytest.approx(2.0), 0]


@pytest.mark.parametrize("kind", ["memory", "redis", "shared"])
def test_a_token_given_back_can_be_taken_again_but_never_above_the_burst(
    kind, redis_server
):
    buckets = buckets_of(kind, redis_server.url)
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.001)
    now = time.time()
    assert buckets.take([key, key], limit, now) == [0, 0]
    buckets.give_back(key, limit)
    buckets.give_back(key, limit)
    buckets.give_back(key, limit)
    assert buckets.take([key, key, key], limit, now)[:2] == [0, 0]
    assert buckets.take([key], limit, now)[0] > 0


def test_a_bucket_full_again_is_forgotten():
    buckets = MemoryBuckets()
    limit = Limit(burst=2, rate=1.0)
    buckets.take(["early", "early"], limit, 100.0)
    buckets.take(["late"], limit, 100.0 + MemoryBuckets.SWEEP_SECONDS)
    assert set(buckets._buckets) == {"late"}
    # Forgotten is full: the burst is whole again.
    assert buckets.take(["early"] * 3, limit, 200.0) == [0, 0, pytest.approx(1.0)]


def test_redis_buckets_are_shared_by_every_process(redis_server):
    """Two clients stand for two daphne processes: they drain one bucket."""
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.001)
    first, second = RedisBuckets(redis_server.url), RedisBuckets(redis_server.url)
    assert first.take([key], limit, 10.0) == [0]
    assert second.take([key], limit, 10.0) == [0]
    assert first.take([key], limit, 10.0)[0] > 0


def test_shared_buckets_decide_at_once_and_record_in_redis_after(redis_server):
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.001)
    shared = SharedBuckets(redis_server.url)
    client = redis.Redis.from_url(redis_server.url)
    # Redis holds every script until unpaused: the takes are decided without it.
    client.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
    try:
        waits = shared.take([key, key, key], limit, time.time())
        assert waits[:2] == [0, 0] and waits[2] > 0
        assert not shared.recorded(timeout=0.2)
    finally:
        client.execute_command("CLIENT", "UNPAUSE")
    assert shared.recorded(timeout=10)
    assert float(client.hget(key, "tokens")) == pytest.approx(0, abs=0.01)
    shared.give_back(key, limit)
    assert shared.recorded(timeout=10)
    assert float(client.hget(key, "tokens")) == pytest.approx(1, abs=0.01)


def test_what_another_process_took_counts_here_once_redis_answers(redis_server):
    """Two SharedBuckets stand for two daphne processes."""
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=3, rate=0.001)
    first, second = SharedBuckets(redis_server.url), SharedBuckets(redis_server.url)
    assert first.take([key], limit, time.time()) == [0]
    assert first.recorded(timeout=10)
    assert second.take([key], limit, time.time()) == [0]
    assert second.recorded(timeout=10)
    # Redis counted one token left, where the second process alone counted two.
    assert second.take([key], limit, time.time()) == [0]
    assert second.take([key], limit, time.time())[0] > 0


def test_across_processes_a_flood_gets_ahead_only_by_what_crossed_in_flight(
    redis_server,
):
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=3, rate=0.001)
    first, second = SharedBuckets(redis_server.url), SharedBuckets(redis_server.url)
    assert first.take([key] * 3, limit, time.time()) == [0, 0, 0]
    assert first.recorded(timeout=10)
    # The second process had not heard of them: one take gets ahead of the limit...
    assert second.take([key], limit, time.time()) == [0]
    assert second.recorded(timeout=10)
    # ...and no more, in either process.
    assert second.take([key], limit, time.time())[0] > 0
    assert first.take([key], limit, time.time())[0] > 0


def test_without_redis_each_process_still_limits_and_says_so_once(caplog):
    shared = SharedBuckets("redis://127.0.0.1:1/0")
    key = f"bucket-{uuid.uuid4().hex}"
    limit = Limit(burst=2, rate=0.001)
    for _ in range(3):
        waits = shared.take([key, key, key], limit, time.time())
        assert shared.recorded(timeout=10)
    assert waits[0] > 0
    warnings = [r for r in caplog.records if "cannot reach Redis" in r.getMessage()]
    assert len(warnings) == 1


def test_an_unreachable_store_still_limits(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "message": (2, 0.001)}
    rate_limit(user_id=1, action="message")
    refused = rate_limits(user_ids=[1, 1, 2], action="message")
    assert refused[0] is None and refused[2] is None
    assert isinstance(refused[1], RateLimited)


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
