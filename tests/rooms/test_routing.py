"""rooms.routing: which consumer a WebSocket handshake reaches."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application
from tests import realtime
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def handshake(path: str, root_path: str = "") -> WebsocketCommunicator:
    user = await database_sync_to_async(UserFactory)()
    cookie = await realtime.session_cookie(user)
    communicator = WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"origin", realtime.ORIGIN),
            (b"host", b"127.0.0.1"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )
    # The application reads its scope when it first runs, after this.
    communicator.scope["root_path"] = root_path
    communicator.connected, _ = await communicator.connect(timeout=5)
    return communicator


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
