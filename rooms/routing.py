from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from rooms.consumers import ChatConsumer


class NoSuchPath(AsyncWebsocketConsumer):
    """Refuses a handshake to any other path cleanly, instead of a server error."""

    async def connect(self) -> None:
        await self.close()


websocket_urlpatterns = [
    path("ws/", ChatConsumer.as_asgi()),
    re_path(r"", NoSuchPath.as_asgi()),
]
