"""rooms.routing: which consumer a WebSocket handshake reaches."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests import realtime
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(path: str, root_path: str = "") -> WebsocketCommunicator:
    user = await database_sync_to_async(UserFactory)()
    return await realtime.connect(user, path=path, root_path=root_path)


@pytest.mark.parametrize("path", ["/ws/elsewhere/", "/ws", "/", "/wsx/"])
async def test_a_handshake_to_an_unknown_path_is_refused_not_an_error(path):
    communicator = await handshake(path)

    assert not communicator.connected


async def test_the_chat_socket_is_at_ws_and_says_hello():
    communicator = await handshake("/ws/")

    assert communicator.connected
    assert (await realtime.receive(communicator))["type"] == "hello"
    await communicator.disconnect()


async def test_mounted_under_a_root_path_the_chat_socket_is_below_it():
    inside = await handshake("/chat/ws/", root_path="/chat")
    outside = await handshake("/ws/", root_path="/chat")

    assert inside.connected
    assert (await realtime.receive(inside))["type"] == "hello"
    assert not outside.connected
    await inside.disconnect()
