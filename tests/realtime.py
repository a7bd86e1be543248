"""Helpers for consumer tests: sockets through the full ASGI stack, as a browser has,
and frames POSTed to /api/frames, the transport a page uses when it has no socket."""

import json
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts.models import User
from chatsite.asgi import application

ORIGIN = b"http://127.0.0.1"


@database_sync_to_async
def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(
    user: User | None,
    *,
    origin: bytes = ORIGIN,
    path: str = "/ws/",
    root_path: str = "",
) -> WebsocketCommunicator:
    """Opens `path` (the chat socket by default) as `user` (anonymous if None) and
    waits for the handshake."""
    cookie = None if user is None else await session_cookie(user)
    return await connect_with_cookie(
        cookie, origin=origin, path=path, root_path=root_path
    )


async def connect_with_cookie(
    cookie: str | None,
    *,
    origin: bytes = ORIGIN,
    path: str = "/ws/",
    root_path: str = "",
) -> WebsocketCommunicator:
    """Opens `path` on the session `cookie` names and waits for the handshake;
    `root_path`: where the site is mounted, as a server would put it in the scope."""
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    # The application reads its scope when it first runs, after this.
    communicator.scope["root_path"] = root_path
    communicator.connected, communicator.close_code = await communicator.connect(
        timeout=5
    )
    return communicator


async def receive(
    communicator: WebsocketCommunicator, timeout: float = 3
) -> dict[str, Any]:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(
    communicator: WebsocketCommunicator, kind: str, timeout: float = 3
) -> dict[str, Any]:
    """Skips frames until one of type `kind` arrives."""
    while True:
        frame = await receive(communicator, timeout)
        if frame["type"] == kind:
            return frame


async def send(
    communicator: WebsocketCommunicator, frame: dict[str, Any] | str
) -> None:
    await communicator.send_to(
        text_data=frame if isinstance(frame, str) else json.dumps(frame)
    )


async def still_open(communicator: WebsocketCommunicator, timeout: float = 10) -> None:
    """The socket still answers: a ping gets its pong."""
    await send(communicator, {"type": "ping"})
    assert await receive_until(communicator, "pong", timeout) == {"type": "pong"}


@database_sync_to_async
def post_frame(user: User, frame: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POSTs `frame` as `user`, so a test can check what a posted frame does to the
    sockets it has open."""
    client = Client()
    client.force_login(user)
    response = client.post(
        "/api/frames", json.dumps(frame), content_type="application/json"
    )
    return response.status_code, response.json()


def group_send_from_a_thread(group: str, event: dict[str, Any]) -> None:
    """group_send for a synchronous test, from a thread of its own: the browser tests'
    driver may keep an event loop running in the test's thread."""
    worker = threading.Thread(
        target=async_to_sync(get_channel_layer().group_send), args=(group, event)
    )
    worker.start()
    worker.join(timeout=10)
