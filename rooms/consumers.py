"""The WebSocket adapter: one socket per browser tab at /ws/.

Thin on purpose: frames are parsed and answered by rooms.protocol; events arrive
already rendered to text and are forwarded as they are.
"""

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from rooms import events, protocol, selectors
from rooms.errors import ChatError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def _member_room_ids(user) -> list[int]:
    return selectors.member_room_ids(user=user)


@database_sync_to_async
def _handle(user, frame: dict[str, Any]) -> protocol.Reply:
    return protocol.handle(user, frame)


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            # Closing before accept refuses the handshake (HTTP 403).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.room_ids: set[int] = set()
        await self.channel_layer.group_add(events.user_group(self.user.pk), self.channel_name)
        for room_id in await _member_room_ids(self.user):
            await self._follow(room_id)
        await self.accept()
        await self._send_frame(
            {"type": "hello", "user": events.user_payload(self.user)}
        )

    async def disconnect(self, code: int) -> None:
        if not self.scope["user"].is_authenticated:
            return
        await self.channel_layer.group_discard(
            events.user_group(self.user.pk), self.channel_name
        )
        for room_id in list(self.room_ids):
            await self._unfollow(room_id)

    async def receive(self, text_data: str | None = None, bytes_data=None) -> None:
        if text_data is None:
            await self._send_frame(
                protocol.error_frame(
                    protocol.ProtocolError("Send text frames.", code="bad_json")
                )
            )
            return
        try:
            frame = protocol.parse(text_data)
        except ChatError as error:
            await self._send_frame(protocol.error_frame(error))
            return
        try:
            reply = await _handle(self.user, frame)
        except Exception:
            logger.exception("Frame %s failed", frame["type"])
            await self._send_frame(
                protocol.error_frame(
                    ChatError("Something went wrong on the server; try again.", code="internal"),
                    protocol.ref_of(frame),
                )
            )
            return
        for room_id in reply.follow:
            await self._follow(room_id)
        for out in reply.frames:
            await self._send_frame(out)

    async def chat_event(self, event: dict[str, Any]) -> None:
        if room_id := event.get("subscribe"):
            await self._follow(room_id)
        if room_id := event.get("unsubscribe"):
            await self._unfollow(room_id)
        room_id = event.get("room_id")
        if room_id is not None and room_id not in self.room_ids:
            return
        await self.send(text_data=event["text"])

    async def _follow(self, room_id: int) -> None:
        if room_id not in self.room_ids:
            self.room_ids.add(room_id)
            await self.channel_layer.group_add(events.room_group(room_id), self.channel_name)

    async def _unfollow(self, room_id: int) -> None:
        if room_id in self.room_ids:
            self.room_ids.discard(room_id)
            await self.channel_layer.group_discard(
                events.room_group(room_id), self.channel_name
            )

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=events.encode(frame))
