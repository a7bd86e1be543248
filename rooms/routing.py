"""The WebSocket routes: /ws/ is the chat socket, any other path is refused cleanly."""

from collections.abc import Awaitable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from rooms.consumers import ChatConsumer

CHAT_SOCKET_PATH = "/ws/"


class NoSuchPath(AsyncWebsocketConsumer):
    """Refuses a handshake to any other path cleanly, instead of a server error."""

    async def connect(self) -> None:
        await self.close()


def websocket_application(scope: dict[str, Any], receive: Any, send: Any) -> Awaitable:
    """Hands the socket to its consumer by returning the consumer's own coroutine.

    channels' URLRouter and as_asgi would do the same with a pattern match, but each
    stays on the stack for as long as the socket is open, the router with a copy of
    the scope: 2 KB per idle socket (docs/performance.md). With one route there is
    nothing for a router to do.
    """
    # As ASGI has it, the path includes the root path the site is mounted at.
    chat = scope["path"] == scope.get("root_path", "") + CHAT_SOCKET_PATH
    consumer = ChatConsumer() if chat else NoSuchPath()
    return consumer(scope, receive, send)
