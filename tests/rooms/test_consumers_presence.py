"""Presence through the transports: sockets count as present while open and report
away; event streams and polls count under the id their page gives, and report over
POST; only connections that ask get presence events: a socket by reporting presence,
a stream or poll with `presence=1`."""

import asyncio

import pytest
import redis
from channels.db import database_sync_to_async

from rooms import presence, streams
from rooms.errors import ChatError
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


async def watching(user):
    """A socket whose client reports presence, and so gets presence events; returned
    once nothing of its own connecting is left to arrive.

    Its user's "online" from connecting may come before or after the first report
    asks for events; "away" then "online" again come after it, and in order."""
    socket = await connected(user)
    for status in ("away", "online"):
        await realtime.send(socket, {"type": "presence", "status": status})
        own = {"type": "presence", "user": user.pk, "status": status}
        while (frame := await receive(socket)) != own:
            assert frame["type"] == "presence"
    return socket


@database_sync_to_async
def status_of(user) -> str:
    return presence.presence_statuses(user_ids=[user.pk])[user.pk]


async def test_a_socket_makes_its_user_online_and_away_and_offline_for_roommates():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await watching(bob)

    alice_socket = await connected(alice)
    assert await receive(bob_socket) == {
        "type": "presence",
        "user": alice.pk,
        "status": "online",
    }

    await realtime.send(alice_socket, {"type": "presence", "status": "away"})
    assert await receive(bob_socket) == {
        "type": "presence",
        "user": alice.pk,
        "status": "away",
    }
    assert await status_of(alice) == "away"

    await alice_socket.disconnect()
    assert await receive(bob_socket) == {
        "type": "presence",
        "user": alice.pk,
        "status": "offline",
    }
    await bob_socket.disconnect()


async def test_a_second_tab_keeps_the_user_online_when_the_first_closes():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await watching(bob)
    first = await connected(alice)
    assert (await receive(bob_socket))["status"] == "online"
    second = await connected(alice)

    await first.disconnect()

    assert await status_of(alice) == "online"
    await post(room, alice, "sentinel")  # and nothing was announced meanwhile
    await receive_sentinel(bob_socket, "sentinel")
    await close_all(second, bob_socket)


async def test_a_socket_that_does_not_ask_gets_no_presence_events():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await connected(bob)

    alice_socket = await connected(alice)
    await realtime.send(alice_socket, {"type": "presence", "status": "away"})
    await post(room, alice, "sentinel")

    await receive_sentinel(bob_socket, "sentinel")
    assert await status_of(alice) == "away"
    await close_all(alice_socket, bob_socket)


async def test_a_bad_presence_report_gets_an_error_and_changes_nothing():
    alice = await make_user()
    socket = await connected(alice)

    await realtime.send(socket, {"type": "presence", "status": "offline"})

    error = await receive(socket)
    # Malformed, like any frame that cannot be read: no ref.
    assert (error["type"], error["code"], error["ref"]) == ("error", "invalid", None)
    assert await status_of(alice) == "online"
    await socket.disconnect()


async def test_a_socket_reports_for_itself_whatever_connection_the_frame_names():
    alice = await make_user()
    socket = await connected(alice)

    await realtime.send(
        socket, {"type": "presence", "status": "away", "connection": "someone-else"}
    )
    await realtime.send(socket, {"type": "ping"})

    assert (await receive(socket))["type"] == "pong"  # no error came first
    assert await status_of(alice) == "away"
    await socket.disconnect()


async def test_an_event_stream_counts_under_its_pages_id_and_reports_over_post():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await watching(bob)
    page = streams.Presence(connection="page-1a2b3c4d", events=True)

    async with streams.Listener(alice, None, page):
        assert (await receive(bob_socket))["status"] == "online"
        status, answer = await realtime.post_frame(
            alice,
            {"type": "presence", "status": "away", "connection": "page-1a2b3c4d"},
        )
        assert (status, answer) == (200, {"frames": []})
        assert (await receive(bob_socket))["status"] == "away"

        # Another user cannot report for it; nor can one name no connection.
        _, answer = await realtime.post_frame(
            bob, {"type": "presence", "status": "online", "connection": "page-1a2b3c4d"}
        )
        assert answer["frames"][0]["code"] == "not_found"
        _, answer = await realtime.post_frame(
            alice, {"type": "presence", "status": "online"}
        )
        assert answer["frames"][0]["code"] == "invalid"
        assert await status_of(alice) == "away"

    assert (await receive(bob_socket))["status"] == "offline"
    await bob_socket.disconnect()


async def test_a_stream_gets_presence_events_only_when_it_asks():
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)

    async with (
        streams.Listener(bob, None, streams.Presence(events=True)) as asked,
        streams.Listener(bob, None) as not_asked,
    ):
        alice_socket = await connected(alice)
        await post(room, alice, "sentinel")
        cursor = streams.Cursor({}, {})

        assert (await asked.next(cursor, 10))["type"] == "presence"
        assert (await not_asked.next(cursor, 10))["message"]["body"] == "sentinel"
        await alice_socket.disconnect()


async def test_a_polling_client_stays_present_between_polls():
    alice = await make_user()
    page = streams.Presence(connection="poller-9z8y7x6w")

    await streams.poll(alice, None, streams.Cursor({}, {}), wait=0.01, presence=page)

    assert await status_of(alice) == "online"


def test_a_malformed_connection_id_is_refused():
    with pytest.raises(ChatError):
        streams.Presence.parse({"connection": "no spaces or slashes/"})
    assert streams.Presence.parse({"presence": "1"}) == streams.Presence(events=True)


async def test_an_open_socket_stays_present_past_the_ttl_as_its_process_refreshes(
    settings,
):
    settings.CHAT_PRESENCE_TTL = 0.6
    alice = await make_user()
    socket = await connected(alice)

    await asyncio.sleep(1.5)  # more than twice the TTL

    assert await status_of(alice) == "online"
    await socket.disconnect()
    assert await status_of(alice) == "offline"


def presence_script_calls(settings) -> int:
    """How many presence scripts Redis has run (presence runs them by digest)."""
    stats = redis.Redis.from_url(settings.REDIS_URL).info("commandstats")
    return stats.get("cmdstat_evalsha", {}).get("calls", 0)


async def test_reporting_the_status_a_socket_already_has_costs_no_round_trip(settings):
    """Every client reports "online" as it connects, which its socket already is."""
    room = await make_room()
    alice, bob = await add_member(room), await add_member(room)
    bob_socket = await watching(bob)
    alice_socket = await connected(alice)
    assert (await receive(bob_socket))["status"] == "online"

    before = presence_script_calls(settings)
    await realtime.send(alice_socket, {"type": "presence", "status": "online"})
    await realtime.send(alice_socket, {"type": "ping"})
    assert await receive(alice_socket) == {"type": "pong"}
    assert presence_script_calls(settings) == before

    # Reporting presence still asks for presence events, and a change still counts.
    await realtime.send(bob_socket, {"type": "presence", "status": "away"})
    assert await receive(alice_socket) == {
        "type": "presence",
        "user": bob.pk,
        "status": "away",
    }
    assert await status_of(bob) == "away"
    await close_all(alice_socket, bob_socket)
