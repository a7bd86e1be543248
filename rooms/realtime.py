"""What one live connection follows, shared by every transport.

A WebSocket consumer and an event stream both hold a Follower: it joins the channel-
layer groups of the user and of the rooms the connection follows, and decides which
events the connection may see. Keeping this in one place is what makes a removed
member's sockets and streams go quiet at the same moment."""

import json
from typing import Any

from channels.db import database_sync_to_async

from accounts.models import User
from rooms import events, protocol, selectors
from rooms.errors import ChatError
from rooms.sessions import EVERY_SESSION, SessionEnded


@database_sync_to_async
def member_room_ids(user: User) -> list[int]:
    return selectors.member_room_ids(user=user)


@database_sync_to_async
def handle_frame(user: User, frame: dict[str, Any]) -> protocol.Reply:
    # A live connection signed in once, maybe hours ago: if staff have deactivated the
    # account since, it may do nothing more (an HTTP request would be refused too).
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        error = ChatError(
            "This account is no longer active; log in again.", code="unauthenticated"
        )
        return protocol.Reply(
            frames=[protocol.error_frame(error, protocol.ref_of(frame))]
        )
    return protocol.handle(user, frame)


class Follower:
    def __init__(
        self,
        channel_layer: Any,
        channel_name: str,
        user: User,
        session_key: str | None = None,
    ) -> None:
        self.channel_layer = channel_layer
        self.channel_name = channel_name
        self.user = user
        self.session_key = session_key
        self.room_ids: set[int] = set()

    async def start(self) -> None:
        """Follows the user's own group and every room they are a member of."""
        await self.channel_layer.group_add(
            events.user_group(self.user.pk), self.channel_name
        )
        for room_id in await member_room_ids(self.user):
            await self.follow(room_id)

    async def stop(self) -> None:
        await self.channel_layer.group_discard(
            events.user_group(self.user.pk), self.channel_name
        )
        for room_id in list(self.room_ids):
            await self.unfollow(room_id)

    async def follow(self, room_id: int) -> None:
        if room_id not in self.room_ids:
            self.room_ids.add(room_id)
            await self.channel_layer.group_add(
                events.room_group(room_id), self.channel_name
            )

    async def unfollow(self, room_id: int) -> None:
        if room_id in self.room_ids:
            self.room_ids.discard(room_id)
            await self.channel_layer.group_discard(
                events.room_group(room_id), self.channel_name
            )

    async def admit(self, event: dict[str, Any]) -> str | None:
        """The text to forward for a chat event, or None if this connection may not.

        Membership events change what is followed before anything is forwarded, and an
        event for a room no longer followed is dropped even if its group delivers it.
        Raises SessionEnded for an event that ends this connection's session.
        """
        ends = event.get("ends_session")
        if ends is not None and ends in (EVERY_SESSION, self.session_key):
            raise SessionEnded(json.loads(event["text"]))
        if room_id := event.get("subscribe"):
            await self.follow(room_id)
        if room_id := event.get("unsubscribe"):
            await self.unfollow(room_id)
        room_id = event.get("room_id")
        if room_id is not None and room_id not in self.room_ids:
            return None
        return event["text"]

    async def answer(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Handles a client frame and follows whatever rooms the answer opens."""
        reply = await handle_frame(self.user, frame)
        for room_id in reply.follow:
            await self.follow(room_id)
        return reply.frames
