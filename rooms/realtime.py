"""What one live connection follows, shared by every transport.

A WebSocket consumer and an event stream both hold a Follower: it joins the channel-
layer groups of the user and of the rooms the connection follows, and decides which
events the connection may see. Keeping this in one place is what makes a removed
member's sockets and streams go quiet at the same moment. It also keeps the connection
present (rooms.presence) while it lives, through this process's PresenceTracker."""

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.models import User
from rooms import events, presence, protocol, selectors, sessions
from rooms.errors import ChatError
from rooms.sessions import EVERY_SESSION, SessionEnded

logger = logging.getLogger(__name__)


@database_sync_to_async
def member_room_ids(user: User) -> list[int]:
    return selectors.member_room_ids(user=user)


@database_sync_to_async
def may_read(user: User, room_id: int) -> bool:
    return selectors.may_read(user=user, room_id=room_id)


def _account_closed(frame: dict[str, Any]) -> protocol.Reply:
    """The answer to any frame of an account closed since its connection signed in
    (maybe hours ago): it may do nothing more, as an HTTP request would be refused."""
    error = ChatError(
        "This account is no longer active; log in again.", code="unauthenticated"
    )
    return protocol.Reply(frames=[protocol.error_frame(error, protocol.ref_of(frame))])


@database_sync_to_async
def handle_frame(
    user: User, frame: dict[str, Any], connection: str | None = None
) -> protocol.Reply:
    if not sessions.account_active(user.pk):
        return _account_closed(frame)
    return protocol.handle(user, frame, connection=connection)


@database_sync_to_async
def handle_sends(sends: list[tuple[User, dict[str, Any]]]) -> list[protocol.Reply]:
    """`send` frames of several connections, answered together (SendBatches)."""
    active = sessions.active_accounts({user.pk for user, _ in sends})
    stored = iter(protocol.handle_sends([s for s in sends if s[0].pk in active]))
    return [
        next(stored) if user.pk in active else _account_closed(frame)
        for user, frame in sends
    ]


# Sends taken into one batch at most: a batch is one transaction, holding its rooms'
# locks, and its first sends wait for its last.
MAX_SEND_BATCH = 50


class SendBatches:
    """This process's socket sends, stored in batches: a group commit.

    A send that finds the database thread idle goes at once, alone. Sends that
    arrive while it is busy wait here, and its next trip takes them all (up to
    MAX_SEND_BATCH) into one transaction (services.messages_send). So batches grow
    with the load: the trip to the thread and the commit are shared by more sends
    just when the server is busiest, instead of each send paying for them while the
    next ones queue. Each connection's own frames are
    still answered one at a time, in the order sent.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[User, dict[str, Any], asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def send(self, user: User, frame: dict[str, Any]) -> protocol.Reply:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((user, frame, future))
        if self._task is None:
            self._task = asyncio.create_task(self._store())
        return await future

    async def _store(self) -> None:
        batch: list[tuple[User, dict[str, Any], asyncio.Future]] = []
        try:
            while self._waiting:
                batch = self._waiting[:MAX_SEND_BATCH]
                del self._waiting[:MAX_SEND_BATCH]
                try:
                    replies = await handle_sends([(u, f) for u, f, _ in batch])
                except Exception as error:
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (*_, future), reply in zip(batch, replies, strict=True):
                    if not future.done():
                        future.set_result(reply)
        finally:
            # Cancelled (the server is stopping): no one is left waiting forever.
            self._task = None
            for *_, future in batch + self._waiting:
                future.cancel()
            self._waiting.clear()


# Presence reaches the database only on a transition (to find whom to tell).
presence_connect = database_sync_to_async(presence.presence_connect)
presence_remove = database_sync_to_async(presence.presence_remove)
presence_refresh = database_sync_to_async(presence.presence_refresh)


class PresenceTracker:
    """This process's live connections, kept present in rooms.presence.

    Every CHAT_PRESENCE_TTL / 3 seconds it pushes their entries' expiry forward and
    sweeps the entries that lapsed anywhere (a crashed process's). The refresh is the
    server's, not the client's: a busy socket never needs to ping, and a background
    tab whose timers the browser slows down stays present while its connection lives.
    It runs only while the process has connections.
    """

    def __init__(self) -> None:
        # connection -> (user id, the status its client last reported here)
        self.connections: dict[str, tuple[int, str]] = {}
        self._task: asyncio.Task | None = None

    async def add(self, user_id: int, connection: str, room_ids: list[int]) -> None:
        """`room_ids`: the user's member rooms, just read (presence_connect)."""
        self.connections[connection] = (user_id, "online")
        if self._task is None:
            self._task = asyncio.create_task(self._refresh())
        await presence_connect(
            user_id=user_id, connection=connection, room_ids=room_ids
        )

    def note(self, connection: str, status: str) -> bool:
        """What the client reported, to restore if its entry is ever lost; False if
        its connection here already had that status."""
        if connection not in self.connections:
            return True
        user_id, before = self.connections[connection]
        self.connections[connection] = (user_id, status)
        return status != before

    async def discard(self, connection: str, *, remove: bool) -> None:
        """Stops refreshing; `remove` also ends its entry now instead of letting it
        lapse (a long-poll's entry outlives each poll)."""
        entry = self.connections.pop(connection, None)
        if not self.connections and self._task is not None:
            self._task.cancel()
            self._task = None
        if entry is not None and remove:
            await presence_remove(user_id=entry[0], connection=connection)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(settings.CHAT_PRESENCE_TTL / 3)
            entries = [(u, c, s) for c, (u, s) in self.connections.items()]
            try:
                await presence_refresh(entries=entries)
            except Exception:
                logger.exception("Presence refresh failed; trying again later")


T = TypeVar("T")
_trackers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_send_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _of_loop(registry: weakref.WeakKeyDictionary, make: Callable[[], T]) -> T:
    """The running event loop's one `make()` (daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    if loop not in registry:
        registry[loop] = make()
    return registry[loop]


def tracker() -> PresenceTracker:
    return _of_loop(_trackers, PresenceTracker)


def send_batches() -> SendBatches:
    return _of_loop(_send_batches, SendBatches)


class Follower:
    def __init__(
        self,
        channel_layer: Any,
        channel_name: str,
        user: User,
        session_key: str | None = None,
        *,
        presence_id: str | None = None,
        presence_events: bool = False,
        presence_lingers: bool = False,
    ) -> None:
        """`session_key`: the session the connection signed in with (rooms.sessions);
        `presence_id` names the connection in rooms.presence (None: it does not
        count); `presence_events`: forward presence events (they are chatty, so only
        clients that show presence ask); `presence_lingers`: leave the entry to lapse
        rather than remove it on stop (each long-poll is a short Follower)."""
        self.channel_layer = channel_layer
        self.channel_name = channel_name
        self.user = user
        self.session_key = session_key
        self.room_ids: set[int] = set()
        self.presence_id = presence_id
        self.presence_events = presence_events
        self.presence_lingers = presence_lingers

    async def start(self) -> None:
        """Follows the user's own group and every room they are a member of, then
        counts as present. If that fails (the channel layer cannot reach Redis),
        whatever it had joined is left again before the error goes on.

        What was committed before it starts (a password change it signed in after)
        is published first, so none of it reaches this connection."""
        try:
            await events.published_so_far()
            await self.channel_layer.group_add(
                events.user_group(self.user.pk), self.channel_name
            )
            room_ids = await member_room_ids(self.user)
            for room_id in room_ids:
                await self.follow(room_id)
            if self.presence_id is not None:
                await tracker().add(self.user.pk, self.presence_id, room_ids)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self.presence_id is not None:
            await tracker().discard(self.presence_id, remove=not self.presence_lingers)
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
            if self.presence_events:
                await self.channel_layer.group_add(
                    events.presence_group(room_id), self.channel_name
                )

    async def unfollow(self, room_id: int) -> None:
        if room_id in self.room_ids:
            self.room_ids.discard(room_id)
            await self.channel_layer.group_discard(
                events.room_group(room_id), self.channel_name
            )
            if self.presence_events:
                await self.channel_layer.group_discard(
                    events.presence_group(room_id), self.channel_name
                )

    async def show_presence(self) -> None:
        """From now on this connection gets the presence events of its rooms."""
        if not self.presence_events:
            self.presence_events = True
            for room_id in self.room_ids:
                await self.channel_layer.group_add(
                    events.presence_group(room_id), self.channel_name
                )

    async def admit(self, event: dict[str, Any]) -> list[str]:
        """The texts to forward for a chat event, in order (events.merged), or none if
        this connection may not see it.

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
        room_id = event.get("members_only")
        if room_id in self.room_ids and not await may_read(self.user, room_id):
            # Told why, once, as it stops following.
            await self.unfollow(room_id)
            return events.texts_of(event)
        room_id = event.get("room_id")
        if room_id is not None and room_id not in self.room_ids:
            return []
        if event.get("topic") == events.PRESENCE_TOPIC and not self.presence_events:
            return []
        return events.texts_of(event)

    async def answer(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """Handles a client frame and follows whatever rooms the answer opens.

        A presence report is about this connection, whatever the frame names, and a
        client that reports presence shows it: from then on it gets presence events.
        A report of the status the connection has already changes nothing and costs
        nothing: every client reports "online" as soon as it connects.
        """
        if frame["type"] == "presence" and self.presence_id is not None:
            changed = tracker().note(self.presence_id, frame["status"])
            await self.show_presence()
            if not changed:
                return []
        if frame["type"] == "send":
            reply = await send_batches().send(self.user, frame)
        else:
            reply = await handle_frame(self.user, frame, self.presence_id)
        for room_id in reply.follow:
            await self.follow(room_id)
        return reply.frames
