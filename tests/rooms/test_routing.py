import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatsite.asgi import application
from tests import realtime
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
async def test_a_handshake_to_an_unknown_path_is_refused_not_an_error():
    user = await database_sync_to_async(UserFactory)()
    cookie = await realtime.session_cookie(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/elsewhere/",
        headers=[
            (b"origin", realtime.ORIGIN),
            (b"host", b"127.0.0.1"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
