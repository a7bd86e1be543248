"""Event payloads and publishing after commit.

An event is rendered to its final JSON text once, here, and that text crosses the
channel layer; consumers forward it as is. Publishing waits for the transaction to
commit, so no one sees a message that was rolled back. The channel layer is only a
doorbell: if it fails, the database still holds the truth and clients catch up by seq.
"""

import asyncio
import json
import logging
import os
import threading
import weakref
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.models import User
from rooms import markdown
from rooms.models import Message, Reaction, Room

if TYPE_CHECKING:
    from rooms.pages import PageMessage, Parent, Person

logger = logging.getLogger(__name__)

# The consumer handler every chat event is dispatched to (type "chat.event").
EVENT_HANDLER = "chat.event"


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def presence_group(room_id: int) -> str:
    """A room's presence events go to a group of their own, joined only by the
    connections that show presence: the others never receive them to drop them."""
    return f"presence.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_payload(user: "User | Person | None") -> dict[str, Any]:
    if user is None:
        return {"id": None, "username": "", "name": "Deleted user"}
    return {"id": user.pk, "username": user.username, "name": user.shown_name}


def room_payload(room: Room, *, name: str | None = None) -> dict[str, Any]:
    """`name` overrides the stored one: a DM is named for whoever reads it."""
    return {
        "id": room.pk,
        "slug": room.slug,
        "name": name or room.name,
        "topic": room.topic,
        "kind": room.kind,
        "last_seq": room.last_seq,
        "last_change": room.last_change,
    }


# Where rooms.services puts a message's reactions (a list), read by message_payload.
PREFETCHED_REACTIONS = "prefetched_reactions"


def message_payload(
    message: "Message | PageMessage", *, reactions: Iterable[Reaction] | None = None
) -> dict[str, Any]:
    """The one shape of a message, for history, catch-up and live events alike.

    `body` is the text as typed (for editing); `html` is that text rendered and
    sanitized when it was stored (rooms.markdown), the only HTML a client inserts.
    `mentions` are the ids of the people it names: each reader's client highlights
    the messages naming them (the payload is the same for everyone). `change` is the
    room's number of its latest change (null if none): a client keeps the newest state
    it has seen of each message, whatever order events and catch-up answers come in.
    Its reactions are `reactions` when the caller knows them (a new message has none,
    rooms.pages reads a page's), else reactions_of(message). `message` is a model or
    a row of rooms.pages: both have the attributes read here.
    """
    if reactions is None:
        reactions = reactions_of(message)
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "room": message.room.slug,
        "seq": message.seq,
        "author": user_payload(message.author),
        "body": "" if deleted else message.body,
        "html": "" if deleted else message.html,
        "client_id": str(message.client_id) if message.client_id else None,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "reply_to": None if deleted else reply_payload(message.reply_to),
        "reactions": [] if deleted else reactions_payload(reactions),
        "mentions": [] if deleted else mention_ids(message),
        "change": message.change,
    }


def reactions_of(message: Message) -> Iterable[Reaction]:
    """Those rooms.services put on the message, else read now."""
    reactions = getattr(message, PREFETCHED_REACTIONS, None)
    if reactions is None:
        reactions = message.reactions.select_related("user")
    return reactions


def mention_ids(message: "Message | PageMessage") -> list[int]:
    """Whom the message names, less its author: read off its stored HTML, which is
    what the reader sees, so no query (the Mention rows, which count unread mentions,
    are made from the same rendering)."""
    return sorted(markdown.mentioned_ids(message.html) - {message.author_id})


REPLY_EXCERPT_LENGTH = 100


def reply_payload(parent: "Message | Parent | None") -> dict[str, Any] | None:
    """What a reply shows of the message it answers: who, and how it began."""
    if parent is None:
        return None
    deleted = parent.deleted_at is not None
    text = "" if deleted else " ".join(parent.body.split())
    if len(text) > REPLY_EXCERPT_LENGTH:
        text = text[: REPLY_EXCERPT_LENGTH - 1].rstrip() + "…"
    return {
        "id": parent.pk,
        "seq": parent.seq,
        "author": user_payload(parent.author),
        "excerpt": text,
        "deleted": deleted,
    }


def reactions_payload(reactions: Iterable[Reaction]) -> list[dict[str, Any]]:
    """Reactions by emoji, in the order each emoji was first used."""
    by_emoji: dict[str, dict[str, Any]] = {}
    for reaction in sorted(reactions, key=lambda r: r.pk):
        entry = by_emoji.setdefault(
            reaction.emoji,
            {"emoji": reaction.emoji, "count": 0, "users": [], "user_ids": []},
        )
        entry["count"] += 1
        entry["users"].append(reaction.user.shown_name)
        entry["user_ids"].append(reaction.user_id)
    return list(by_emoji.values())


def message_edited_event(message: Message) -> dict[str, Any]:
    return {
        "type": "message_edited",
        "room": message.room.slug,
        "message": message_payload(message),
        "change": message.change,
    }


def message_deleted_event(message: Message) -> dict[str, Any]:
    return {
        "type": "message_deleted",
        "room": message.room.slug,
        "id": message.pk,
        "seq": message.seq,
        "change": message.change,
    }


def reactions_event(message: Message) -> dict[str, Any]:
    return {
        "type": "reactions",
        "room": message.room.slug,
        "id": message.pk,
        "seq": message.seq,
        "reactions": reactions_payload(reactions_of(message)),
        "change": message.change,
    }


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def publish_on_commit(
    group: str,
    payload: dict[str, Any],
    *,
    room_id: int | None = None,
    subscribe: int | None = None,
    unsubscribe: int | None = None,
    members_only: int | None = None,
    ends_session: str | None = None,
) -> None:
    """Sends `payload` to `group` once the current transaction commits.

    `room_id` lets a consumer drop the event if its socket has just left that room.
    `subscribe` / `unsubscribe` ask the user's consumers to start or stop following a
    room's group before they forward the event; `members_only` asks every connection
    following the room to stop unless its user may still read it. `ends_session` (a
    session key, or "*" for all) ends the connections signed in on it after they
    forward the event (rooms.sessions). Only the hints given travel with the event.
    """
    hints = {
        "subscribe": subscribe,
        "unsubscribe": unsubscribe,
        "members_only": members_only,
        "ends_session": ends_session,
    }
    publish_many_on_commit(
        [(group, room_id)],
        payload,
        **{name: value for name, value in hints.items() if value is not None},
    )


# Events of this topic reach only the connections that asked for them (rooms.realtime).
PRESENCE_TOPIC = "presence"


def publish_many_on_commit(
    targets: Iterable[tuple[str, int | None]],
    payload: dict[str, Any],
    **hints: int | str | None,
) -> None:
    """Sends `payload` to each (group, room_id) target after commit, encoded once: for
    an event meant for some people, or for several rooms, rather than one group.

    Each target's room_id lets a consumer drop the event as publish_on_commit's does.
    Every event carries `hints` as given, and only those, so an event sent to
    thousands of sockets carries no routing it does not use: publish_on_commit's
    hints, or a `topic` (PRESENCE_TOPIC: only the connections that show presence
    forward it)."""
    text = encode(payload)
    for group, room_id in targets:
        event = {"type": EVENT_HANDLER, "text": text, "room_id": room_id, **hints}
        transaction.on_commit(partial(_send, group, event))


def _send(group: str, event: dict[str, Any]) -> None:
    try:
        loop = _server_loop()
        if loop is not None and loop.is_running():
            # In a worker thread of the running server (a consumer's or a view's
            # database call): hand the publish to the server's event loop and carry
            # on, instead of holding the database thread until Redis has answered.
            _outbox(loop).put(group, event)
        elif loop is None or loop.is_closed():
            # No server (a command, a test): publish here and now.
            async_to_sync(get_channel_layer().group_send)(group, event)
        else:
            # Its loop has stopped (the server is stopping) but not been closed:
            # async_to_sync would wait for it forever, and the process could not
            # exit (its database thread is joined at exit).
            logger.warning(
                "Not published to %s: the server is stopping; clients will catch up "
                "by seq",
                group,
            )
    except Exception:
        logger.exception("Could not publish to %s; clients will catch up by seq", group)


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that called into this thread through sync_to_async, if any:
    running, stopped or closed."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop


class Outbox:
    """Events committed in the server's worker threads, published from its event loop
    in commit order, in as few round trips to Redis as the load allows.

    A worker thread only appends, and rings the loop once when nothing is being
    published. One task on the loop then publishes everything gathered so far in one
    pipelined round trip (chatsite.layers), and again until nothing is left. So a
    batch of sends (rooms.realtime.SendBatches) costs one wake-up of the loop and one
    round trip, not one of each per event; and with one publish in flight at a time,
    events leave in the order they were committed. The layer is asked for when
    publishing, so a test's own layer settings apply.

    Events put while a publish is in flight wait for it, so a subscription asked for
    meanwhile could reach Redis before them and hear what was committed before it
    existed (a new socket ended by the `signed_out` of the password change it signed
    in after): `flushed()` is what a subscriber waits for first."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._ringing = False
        self._task: asyncio.Task | None = None
        self._put = 0  # events put so far; under the lock
        self._done = 0  # of them, handed to the layer (or failed); on the loop only
        self._flushers: list[tuple[int, asyncio.Future[None]]] = []

    def put(self, group: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._events.append((group, event))
            self._put += 1
            if self._ringing:
                return
            self._ringing = True
        self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        self._task = self._loop.create_task(self._publish())

    async def _publish(self) -> None:
        while True:
            with self._lock:
                gathered, self._events = self._events, []
                if not gathered:
                    self._ringing = False
                    return
            try:
                await publish_all(get_channel_layer(), merged(gathered))
            except Exception:
                logger.exception(
                    "Could not publish %d events; clients will catch up by seq",
                    len(gathered),
                )
            self._done += len(gathered)
            waiting, self._flushers = self._flushers, []
            for target, future in waiting:
                if self._done < target:
                    self._flushers.append((target, future))
                elif not future.done():
                    future.set_result(None)

    async def flushed(self) -> None:
        """Returns once every event put before the call has been published (or its
        publish has failed). On the outbox's loop."""
        with self._lock:
            target = self._put
        if self._done < target:
            future = self._loop.create_future()
            self._flushers.append((target, future))
            await future


# A chat event with nothing but its text and room: what most events are (messages).
_PLAIN = {"type", "text", "room_id"}
_MERGED = {"type", "texts", "room_id"}


def merged(
    published: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """Each run of plain events for one group as one event carrying their texts in
    order (`texts` instead of `text`).

    A batch of sends (rooms.realtime.SendBatches) commits its messages room by room,
    so under load a room's messages come in runs. One event for a run is one message
    through Redis, one pass over the room's sockets and one write to each instead of
    one per message, and its texts still reach each socket in order. Only
    consecutive events are merged, so no event overtakes one published before it
    (a `subscribe` hint must arrive before the room's next messages)."""
    runs: list[tuple[str, dict[str, Any]]] = []
    for group, event in published:
        last = runs[-1][1] if runs and runs[-1][0] == group else None
        if (
            last is not None
            and event.keys() == _PLAIN
            and last.keys() in (_PLAIN, _MERGED)
            and last["room_id"] == event["room_id"]
        ):
            if "texts" not in last:
                last = {
                    "type": EVENT_HANDLER,
                    "texts": [last["text"]],
                    "room_id": last["room_id"],
                }
                runs[-1] = (group, last)
            last["texts"].append(event["text"])
        else:
            runs.append((group, event))
    return runs


def texts_of(event: dict[str, Any]) -> list[str]:
    """The texts an event carries, in order: one, or a merged run's (`merged`)."""
    return event["texts"] if "texts" in event else [event["text"]]


def split(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A merged event as the events it was made of, for a consumer of one at a time."""
    if "texts" not in event:
        return [event]
    rest = {k: v for k, v in event.items() if k != "texts"}
    return [rest | {"text": text} for text in event["texts"]]


async def publish_all(layer: Any, published: list[tuple[str, dict[str, Any]]]) -> None:
    """Sends each (group, event) in order: in one round trip where the layer can
    (chatsite.layers), one by one on any other layer."""
    if hasattr(layer, "group_send_many"):
        await layer.group_send_many(published)
        return
    for group, event in published:
        await layer.group_send(group, event)


_outboxes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_outboxes_lock = threading.Lock()


async def published_so_far() -> None:
    """Returns once every event committed so far by this server's worker threads has
    been published: a subscription made after it hears nothing committed before."""
    with _outboxes_lock:
        outbox = _outboxes.get(asyncio.get_running_loop())
    if outbox is not None:
        await outbox.flushed()


def _outbox(loop: asyncio.AbstractEventLoop) -> Outbox:
    with _outboxes_lock:
        if (outbox := _outboxes.get(loop)) is None:
            outbox = _outboxes[loop] = Outbox(loop)
    return outbox
