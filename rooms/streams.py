"""Fallback transports for when a WebSocket cannot get through.

An event stream (`text/event-stream`, resumable with Last-Event-ID) and long-polling
carry the same events as the socket, from the same Follower and protocol code; the
client sends its frames with plain POSTs to /api/frames. The event id is a cursor,
`slug:seq:change,...`: the last seq and the last change number delivered per room,
so a reconnecting stream or the next poll catches up from the database exactly where
the last one stopped, edits, deletions and reactions included."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from accounts.models import User
from chatsite.layers import CONNECTION_LOST
from rooms import events, protocol, sessions
from rooms.realtime import Follower
from rooms.sessions import SessionEnded

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
POLL_SECONDS = 25
POLL_GATHER_SECONDS = 0.05
# A frame, not an SSE comment: scripts never see comments, and a client needs a sign
# of life to tell a quiet stream from a dead one.
KEEPALIVE = 'data: {"type":"keepalive"}\n\n'


# Events about a stored message's change; each carries the room's change number.
CHANGE_EVENTS = {"message_edited", "message_deleted", "reactions"}


class Cursor:
    """The last seq and change number delivered per room; drops messages the client
    already has.

    A change number advances only over an unbroken run (change numbers have no gaps,
    but two processes may publish two changes in either order), so catching up from
    it may repeat a change, never skip one; a client keeps the newest state of each
    message whatever order they come in."""

    def __init__(self, seqs: dict[str, int], changes: dict[str, int]) -> None:
        self.seqs = dict(seqs)
        self.changes = dict(changes)

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """Reads `slug:seq:change,...` (`:change` optional: a room whose changes the
        client does not track); raises ProtocolError on anything else."""
        rooms: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        for part in filter(None, text.split(",")):
            slug, *numbers = part.split(":")
            if (
                not slug
                or not 1 <= len(numbers) <= 2
                or not all(number.isdigit() for number in numbers)
            ):
                raise protocol.ProtocolError("The cursor is malformed.", code="invalid")
            rooms[slug] = int(numbers[0])
            if len(numbers) == 2:
                changes[slug] = int(numbers[1])
        frame = protocol.parse(
            json.dumps({"type": "resume", "rooms": rooms, "changes": changes})
        )
        return cls(frame["rooms"], frame["changes"])

    def __str__(self) -> str:
        return ",".join(
            f"{slug}:{seq}" + (f":{self.changes[slug]}" if slug in self.changes else "")
            for slug, seq in self.seqs.items()
        )

    def resume_frame(self) -> dict[str, Any]:
        return {"type": "resume", "rooms": self.seqs, "changes": self.changes}

    def admit(self, frame: dict[str, Any]) -> bool:
        """Advances over the messages and changes in `frame`; False if it holds
        nothing new."""
        kind = frame.get("type")
        room = frame.get("room")
        if kind == "message":
            return self._advance(room, frame["message"]["seq"])
        if kind == "messages":
            fresh = [m for m in frame["messages"] if m["seq"] > self.seqs.get(room, 0)]
            frame["messages"] = fresh
            for message in fresh:
                self.seqs[room] = message["seq"]
            self._caught_up(room, frame["last_change"])
            return True
        if kind == "resync":
            self.seqs[room] = frame["last_seq"]
            self._caught_up(room, frame["last_change"])
        if kind in CHANGE_EVENTS and self.changes.get(room) == frame["change"] - 1:
            self.changes[room] = frame["change"]
        return True

    def _caught_up(self, room: str, last_change: int) -> None:
        if room in self.changes:
            self.changes[room] = max(self.changes[room], last_change)

    def _advance(self, room: str, seq: int) -> bool:
        if seq <= self.seqs.get(room, 0):
            return False
        self.seqs[room] = seq
        return True


@dataclass(frozen=True)
class Presence:
    """What a stream or poll asks of presence: `connection`, an id its page made up,
    under which it counts as present (and names itself in POSTed `presence` frames);
    `events`, whether it wants presence events."""

    connection: str | None = None
    events: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> "Presence":
        """Reads `?connection=<id>&presence=1`; raises ProtocolError on a bad id."""
        connection = query.get("connection")
        if connection is not None:
            connection = protocol.connection_id(connection)
        return cls(connection=connection, events=query.get("presence") == "1")


class Listener:
    """One connection's channel, its Follower, and a queue of the events it may see."""

    def __init__(
        self,
        user: User,
        session_key: str | None,
        presence: Presence = Presence(),
        *,
        lingers: bool = False,
    ) -> None:
        """`lingers`: its presence outlives it (a poll's, until the next poll)."""
        self.user = user
        self.session_key = session_key
        self.presence = presence
        self.lingers = lingers
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.follower: Follower | None = None
        self._receiver: asyncio.Task | None = None

    async def __aenter__(self) -> "Listener":
        layer = get_channel_layer()
        channel = await layer.new_channel()
        self.follower = Follower(
            layer,
            channel,
            self.user,
            self.session_key,
            presence_id=self.presence.connection,
            presence_events=self.presence.events,
            presence_lingers=self.lingers,
        )
        # One long-lived receive: cancelling a pending receive would drop the channel.
        self._receiver = asyncio.create_task(self._receive(layer, channel))
        try:
            await self.follower.start()
        except BaseException:
            await self._stop_receiving()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop_receiving()
        await self.follower.stop()

    async def _stop_receiving(self) -> None:
        self._receiver.cancel()
        await asyncio.gather(self._receiver, return_exceptions=True)

    async def _receive(self, layer: Any, channel: str) -> None:
        while True:
            for event in events.split(await layer.receive(channel)):
                self.queue.put_nowait(event)

    async def catch_up(self, cursor: Cursor) -> list[dict[str, Any]]:
        """What the cursor is missing, from the database; rooms in it are followed."""
        if not cursor.seqs:
            return []
        frames = await self.follower.answer(cursor.resume_frame())
        return [f for f in frames if cursor.admit(f)]

    async def next(self, cursor: Cursor, wait: float) -> dict[str, Any] | None:
        """The next live event this connection may see and has not had, or None.

        Raises SessionEnded when the connection's sign-in ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (left := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(self.queue.get(), left)
            except TimeoutError:
                return None
            if event == CONNECTION_LOST:
                # Events may have been lost: end, so the client comes back and
                # catches up from its cursor.
                raise ConnectionError("the channel layer lost its Redis connection")
            for text in await self.follower.admit(event):
                frame = json.loads(text)
                if cursor.admit(frame):
                    return frame
        return None


def sse(frame: dict[str, Any], cursor: Cursor) -> str:
    # No `event:` field: every frame is an EventSource "message", so a browser needs
    # one handler whatever the frame's type (and a server `error` frame cannot be
    # mistaken for the EventSource's own error event).
    return f"id: {cursor}\ndata: {events.encode(frame)}\n\n"


async def event_stream(
    user: User, session_key: str | None, cursor: Cursor, presence: Presence = Presence()
) -> AsyncIterator[str]:
    """An endless text/event-stream; ends when the client goes away.

    If following fails (the channel layer is down), the stream ends at once, before
    any hello: the client reconnects later and catches up from its cursor. When the
    sign-in ends (a `signed_out` event, or the session found gone by the periodic
    re-check), the last frame says so."""
    # First, before anything can fail: an error before a streaming response's first
    # chunk leaves the request hanging under daphne instead of ending it.
    yield "retry: 2000\n\n"
    try:
        async with Listener(user, session_key, presence) as listener:
            yield sse({"type": "hello", "user": events.user_payload(user)}, cursor)
            for frame in await listener.catch_up(cursor):
                yield sse(frame, cursor)
            loop = asyncio.get_running_loop()
            recheck_at = loop.time() + settings.CHAT_SESSION_RECHECK_SECONDS
            while True:
                frame = await listener.next(cursor, KEEPALIVE_SECONDS)
                yield KEEPALIVE if frame is None else sse(frame, cursor)
                if loop.time() >= recheck_at:
                    await sessions.recheck(user.pk, session_key)
                    recheck_at = loop.time() + settings.CHAT_SESSION_RECHECK_SECONDS
    except SessionEnded as ended:
        yield sse(ended.frame, cursor)
    except Exception:
        logger.exception("An event stream failed; its client will reconnect")


async def poll_body(
    user: User, session_key: str | None, cursor: Cursor, presence: Presence = Presence()
) -> AsyncIterator[str]:
    """One long-poll's JSON answer, as a streaming body.

    Streamed so that the wait runs on the event loop: a plain async view behind the
    site's sync middleware would hold a request thread for the whole wait, and a
    daphne told to stop would wait for it too. If following fails (the channel layer
    is down), the body ends without JSON: for the client, a failed poll."""
    # First, before anything can fail (JSON allows leading whitespace): an error before
    # a streaming response's first chunk leaves the request hanging under daphne.
    yield " "
    try:
        found = await poll(user, session_key, cursor, presence=presence)
    except Exception:
        logger.exception("A long-poll failed; its client will retry")
        return
    yield events.encode({"events": found, "cursor": str(cursor)})


async def poll(
    user: User,
    session_key: str | None,
    cursor: Cursor,
    wait: float = POLL_SECONDS,
    *,
    presence: Presence = Presence(),
) -> list[dict]:
    """One long-poll: what is missed, else waits for the first live events.

    A poll that sees the sign-in end answers with what it has and the `signed_out`
    frame."""
    async with Listener(user, session_key, presence, lingers=True) as listener:
        frames = [
            f
            for f in await listener.catch_up(cursor)
            if f.get("type") != "messages" or f["messages"] or f["changed"]
        ]
        if frames:
            return frames
        frames = []
        try:
            first = await listener.next(cursor, wait)
            if first is None:
                return []
            frames.append(first)
            while (
                more := await listener.next(cursor, POLL_GATHER_SECONDS)
            ) is not None:
                frames.append(more)
        except SessionEnded as ended:
            frames.append(ended.frame)
        return frames
