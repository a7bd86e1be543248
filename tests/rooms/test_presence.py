"""rooms.presence: entries per connection, combined per user, expiring, announced on
transitions only. Every rule runs against both stores: Redis (several processes) and
memory (one process without REDIS_URL)."""

import asyncio
import json
import time

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import events, presence
from tests.factories import RoomFactory, UserFactory, member

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["redis", "memory"])
def store(request, settings):
    if request.param == "memory":
        settings.REDIS_URL = ""
        presence._memory.clear()
    return request.param


def status_of(user) -> str:
    return presence.presence_statuses(user_ids=[user.pk])[user.pk]


class RoomEar:
    """A channel in a room's groups on the real channel layer: hears what the room's
    sockets that show presence would, including the `topic` they filter on."""

    @classmethod
    async def of(cls, room) -> "RoomEar":
        ear = cls()
        ear.layer = get_channel_layer()
        ear.channel = await ear.layer.new_channel()
        await ear.layer.group_add(events.room_group(room.pk), ear.channel)
        await ear.layer.group_add(events.presence_group(room.pk), ear.channel)
        return ear

    async def next(self) -> dict:
        event = await asyncio.wait_for(self.layer.receive(self.channel), 10)
        return {**json.loads(event["text"]), "topic": event.get("topic")}


# The services as a consumer calls them: in the database thread, publishing through
# the running loop.
connect = database_sync_to_async(presence.presence_connect)
report = database_sync_to_async(presence.presence_report)
refresh = database_sync_to_async(presence.presence_refresh)
sweep = database_sync_to_async(presence.presence_sweep)
make_user = database_sync_to_async(UserFactory)
make_room = database_sync_to_async(RoomFactory)
add_member = database_sync_to_async(member)


def test_one_connection_is_online_then_away_then_offline(store):
    alice = UserFactory()
    assert status_of(alice) == "offline"

    presence.presence_connect(user_id=alice.pk, connection="tab-one-1")
    assert status_of(alice) == "online"

    assert presence.presence_report(
        user_id=alice.pk, connection="tab-one-1", status="away"
    )
    assert status_of(alice) == "away"

    presence.presence_remove(user_id=alice.pk, connection="tab-one-1")
    assert status_of(alice) == "offline"


def test_when_redis_has_lost_its_scripts_changes_and_reads_still_work(settings):
    """A Redis restart empties its script cache: each call loads the script again."""
    scripts = redis.Redis.from_url(settings.REDIS_URL)
    alice = UserFactory()

    scripts.script_flush()
    presence.presence_connect(user_id=alice.pk, connection="tab-one-1")
    scripts.script_flush()
    assert status_of(alice) == "online"

    scripts.script_flush()
    presence.presence_remove(user_id=alice.pk, connection="tab-one-1")
    assert status_of(alice) == "offline"


def test_with_several_tabs_any_online_one_makes_the_user_online(store):
    alice = UserFactory()
    presence.presence_connect(user_id=alice.pk, connection="tab-one-1")
    presence.presence_connect(user_id=alice.pk, connection="tab-two-2")

    presence.presence_report(user_id=alice.pk, connection="tab-one-1", status="away")
    assert status_of(alice) == "online"

    presence.presence_report(user_id=alice.pk, connection="tab-two-2", status="away")
    assert status_of(alice) == "away"

    presence.presence_report(user_id=alice.pk, connection="tab-one-1", status="online")
    presence.presence_remove(user_id=alice.pk, connection="tab-one-1")
    assert status_of(alice) == "away"

    presence.presence_remove(user_id=alice.pk, connection="tab-two-2")
    assert status_of(alice) == "offline"


def test_a_refresh_keeps_the_status_a_client_reported(store):
    """A stream's process refreshes it as online; its client said away over HTTP."""
    alice = UserFactory()
    presence.presence_connect(user_id=alice.pk, connection="stream-1x")
    presence.presence_report(user_id=alice.pk, connection="stream-1x", status="away")

    presence.presence_refresh(entries=[(alice.pk, "stream-1x", "online")])

    assert status_of(alice) == "away"


def test_a_report_for_a_connection_that_is_not_live_changes_nothing(store):
    alice, bob = UserFactory(), UserFactory()
    presence.presence_connect(user_id=bob.pk, connection="bobs-tab-1")

    assert not presence.presence_report(
        user_id=alice.pk, connection="bobs-tab-1", status="online"
    )
    assert status_of(alice) == "offline"
    # Nor can anyone else set Bob's connection: entries are per user.
    assert presence.presence_report(
        user_id=bob.pk, connection="bobs-tab-1", status="away"
    )
    assert status_of(bob) == "away"


def test_an_entry_no_process_refreshes_lapses_for_readers_at_once(store, settings):
    settings.CHAT_PRESENCE_TTL = 0.5
    alice, bob = UserFactory(), UserFactory()
    presence.presence_connect(user_id=alice.pk, connection="crashed-1")
    presence.presence_connect(user_id=bob.pk, connection="alive-one")
    assert status_of(alice) == "online"

    time.sleep(0.3)
    presence.presence_refresh(entries=[(bob.pk, "alive-one", "online")])
    time.sleep(0.35)

    # No sweep has run: the read applies the expiry itself.
    assert presence.presence_statuses(user_ids=[alice.pk, bob.pk]) == {
        alice.pk: "offline",
        bob.pk: "online",
    }


async def test_the_sweep_announces_who_a_crashed_process_left_behind(store, settings):
    settings.CHAT_PRESENCE_TTL = 0.5
    room = await make_room()
    alice = await add_member(room)
    await connect(user_id=alice.pk, connection="crashed-1")
    ear = await RoomEar.of(room)

    await asyncio.sleep(0.6)
    await sweep()

    assert await ear.next() == {
        "type": "presence",
        "user": alice.pk,
        "status": "offline",
        "topic": events.PRESENCE_TOPIC,
    }
    # Announced once: nothing is left due for a second sweep.
    assert presence._store().due(time.time()) == []


@database_sync_to_async
def queries_of_connect(**kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        presence.presence_connect(**kwargs)
    return len(queries)


async def test_coming_online_with_the_rooms_known_announces_there_without_a_read(
    store,
):
    """A socket has just read the user's rooms to follow them: no second read."""
    room = await make_room()
    alice = await add_member(room)
    ear = await RoomEar.of(room)

    assert (
        await queries_of_connect(
            user_id=alice.pk, connection="tab-one-1", room_ids=[room.pk]
        )
        == 0
    )

    assert await ear.next() == {
        "type": "presence",
        "user": alice.pk,
        "status": "online",
        "topic": events.PRESENCE_TOPIC,
    }


async def test_only_transitions_are_announced_to_the_users_rooms(store):
    room, elsewhere = await make_room(), await make_room()
    alice = await add_member(room)
    ear, other_ear = await RoomEar.of(room), await RoomEar.of(elsewhere)

    await connect(user_id=alice.pk, connection="tab-one-1")
    assert (await ear.next())["status"] == "online"
    # A second tab, a refresh and an "online" report change nothing: no event...
    await connect(user_id=alice.pk, connection="tab-two-2")
    await refresh(entries=[(alice.pk, "tab-one-1", "online")])
    await report(user_id=alice.pk, connection="tab-two-2", status="online")
    await report(user_id=alice.pk, connection="tab-one-1", status="away")
    # ...so the next event heard is the next transition, when both tabs are away.
    await report(user_id=alice.pk, connection="tab-two-2", status="away")
    assert await ear.next() == {
        "type": "presence",
        "user": alice.pk,
        "status": "away",
        "topic": events.PRESENCE_TOPIC,
    }
    # A room Alice is not in heard nothing of her: the first thing it gets is ours.
    await get_channel_layer().group_send(
        events.room_group(elsewhere.pk),
        {"type": events.EVENT_HANDLER, "text": '{"type":"sentinel"}'},
    )
    assert (await other_ear.next())["type"] == "sentinel"


def test_without_redis_reachable_presence_fails_open(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    alice = UserFactory()

    presence.presence_connect(user_id=alice.pk, connection="tab-one-1")
    presence.presence_sweep()

    assert status_of(alice) == "offline"
