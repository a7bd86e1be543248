"""Limits on live sockets (rooms/connections.py), over real sockets."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms.consumers import CLOSE_IDLE, CLOSE_TOO_MANY
from tests import realtime
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 10


async def opened(user):
    socket = await realtime.connect(user)
    assert socket.connected
    assert (await realtime.receive(socket, TIMEOUT))["type"] == "hello"
    return socket


async def test_a_user_past_the_socket_limit_is_told_and_closed_and_others_are_not(
    settings,
):
    settings.CHAT_MAX_SOCKETS_PER_USER = 3
    alice = await database_sync_to_async(UserFactory)()
    bob = await database_sync_to_async(UserFactory)()
    tabs = [await opened(alice) for _ in range(3)]

    extra = await realtime.connect(alice)

    error = await realtime.receive(extra, TIMEOUT)
    assert (error["type"], error["code"]) == ("error", "too_many")
    assert await extra.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": CLOSE_TOO_MANY,
    }
    for tab in tabs:
        await realtime.still_open(tab)
    bobs = await opened(bob)

    # Closing one makes room for another.
    await tabs.pop().disconnect()
    tabs.append(await opened(alice))
    for socket in (*tabs, bobs):
        await socket.disconnect()


async def test_a_socket_that_sends_nothing_is_closed_as_idle(settings):
    settings.CHAT_SOCKET_IDLE_SECONDS = 0.5
    alice = await database_sync_to_async(UserFactory)()
    silent = await opened(alice)
    chatty = await opened(alice)

    async def keep_pinging():
        for _ in range(8):
            await realtime.still_open(chatty)
            await asyncio.sleep(0.2)

    pinging = asyncio.create_task(keep_pinging())
    assert await silent.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": CLOSE_IDLE,
    }
    await pinging
    # Past twice the idle limit, and still open: every frame counts as a sign of life.
    await realtime.still_open(chatty)
    await chatty.disconnect()
