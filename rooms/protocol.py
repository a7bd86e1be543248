"""The realtime protocol, independent of transport (see docs/protocol.md).

`parse` turns a client frame's text into a validated dict; `handle` answers it for a
user, calling services and selectors. A WebSocket consumer and any other transport use
these same two functions, so every transport has the same rules.
"""

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from accounts.models import User
from rooms import (
    events,
    notifications,
    pages,
    presence,
    recent,
    selectors,
    services,
    typing_status,
)
from rooms.errors import ChatError, InvalidInput, NotFound
from rooms.models import Message

logger = logging.getLogger(__name__)

MAX_RESUME_ROOMS = 500
MAX_ID = 2**63 - 1
# Frames that act on one stored message: errors name it in `ref` as "<type>:<id>".
MESSAGE_FRAMES = {"edit", "delete", "react"}
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")
# A connection's name in presence: a WebSocket's channel name, or an id that an HTTP
# client makes up once per page for its stream or polls.
CONNECTION = re.compile(r"[-a-zA-Z0-9_.!]{8,100}")


class ProtocolError(ChatError):
    """A frame the server cannot make sense of."""


@dataclass
class Reply:
    frames: list[dict[str, Any]] = field(default_factory=list)
    # Rooms whose live events this connection should now follow.
    follow: list[int] = field(default_factory=list)


def error_frame(error: ChatError, ref: str | None = None) -> dict[str, Any]:
    return {
        "type": "error",
        "code": error.code,
        "message": error.message,
        "ref": ref,
        **error.details(),
    }


def _slug(frame: dict[str, Any], key: str = "room") -> str:
    value = frame.get(key)
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise ProtocolError(f"“{key}” must be a room slug.", code="invalid")
    return value


def _seq(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        message = f"“{name}” must be a whole number ≥ 0."
        raise ProtocolError(message, code="invalid")
    return value


def _id(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise ProtocolError(f"“{name}” must be a message id.", code="invalid")
    return value


def _client_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ProtocolError("“client_id” must be a UUID.", code="invalid") from exc


def parse(text: str) -> dict[str, Any]:
    """Validates a frame's shape; a wrong one raises ProtocolError saying why."""
    if len(text.encode()) > settings.CHAT_MAX_FRAME_BYTES:
        raise ProtocolError(
            f"Frames are limited to {settings.CHAT_MAX_FRAME_BYTES:,} bytes.",
            code="too_large",
        )
    try:
        frame = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("The frame is not valid JSON.", code="bad_json") from exc
    if not isinstance(frame, dict):
        raise ProtocolError("A frame must be a JSON object.", code="bad_json")
    kind = frame.get("type")
    if kind == "send":
        if "client_id" not in frame:
            raise ProtocolError("“client_id” is required.", code="invalid")
        return {
            "type": "send",
            "room": _slug(frame),
            "body": frame.get("body"),
            "client_id": _client_id(frame["client_id"]),
            "reply_to": (
                None
                if frame.get("reply_to") is None
                else _id(frame["reply_to"], "reply_to")
            ),
        }
    if kind == "edit":
        return {
            "type": "edit",
            "room": _slug(frame),
            "id": _id(frame.get("id"), "id"),
            "body": frame.get("body"),
        }
    if kind == "delete":
        parsed = {
            "type": "delete",
            "room": _slug(frame),
            "id": _id(frame.get("id"), "id"),
        }
        if "reason" in frame:  # a moderator's, for the log
            if not isinstance(frame["reason"], str):
                raise ProtocolError("“reason” must be text.", code="invalid")
            parsed["reason"] = frame["reason"]
        return parsed
    if kind == "react":
        if not isinstance(frame.get("on"), bool):
            raise ProtocolError("“on” must be true or false.", code="invalid")
        return {
            "type": "react",
            "room": _slug(frame),
            "id": _id(frame.get("id"), "id"),
            "emoji": frame.get("emoji"),
            "on": frame["on"],
        }
    if kind == "resume":
        return _parse_resume(frame)
    if kind == "read":
        return {
            "type": "read",
            "room": _slug(frame),
            "seq": _seq(frame.get("seq"), "seq"),
        }
    if kind == "notifications":
        if not isinstance(frame.get("muted"), bool):
            raise ProtocolError("“muted” must be true or false.", code="invalid")
        return {"type": "notifications", "room": _slug(frame), "muted": frame["muted"]}
    if kind == "ping":
        return {"type": "ping"}
    if kind == "typing":
        return {"type": "typing", "room": _slug(frame)}
    if kind == "presence":
        if frame.get("status") not in presence.REPORTABLE:
            raise ProtocolError("“status” must be online or away.", code="invalid")
        parsed = {"type": "presence", "status": frame["status"]}
        if "connection" in frame:
            parsed["connection"] = connection_id(frame["connection"])
        return parsed
    raise ProtocolError(f"Unknown frame type {kind!r}.", code="unknown_type")


def _parse_resume(frame: dict[str, Any]) -> dict[str, Any]:
    """`rooms` maps slugs to the last seq held; `changes`, optional, maps some of
    them to the last change number seen (a client that tracks changes)."""
    rooms = frame.get("rooms")
    if not isinstance(rooms, dict) or len(rooms) > MAX_RESUME_ROOMS:
        raise ProtocolError("“rooms” must map room slugs to last seqs.", code="invalid")
    changes = frame.get("changes", {})
    if not isinstance(changes, dict) or not changes.keys() <= rooms.keys():
        raise ProtocolError(
            "“changes” must map rooms of “rooms” to last change numbers.",
            code="invalid",
        )
    return {
        "type": "resume",
        "rooms": {_slug({"room": s}): _seq(n, s) for s, n in rooms.items()},
        "changes": {s: _seq(n, s) for s, n in changes.items()},
    }


def connection_id(value: object) -> str:
    if not isinstance(value, str) or not CONNECTION.fullmatch(value):
        raise ProtocolError("“connection” must be a connection id.", code="invalid")
    return value


def ref_of(frame: dict[str, Any]) -> str | None:
    if frame["type"] == "presence":
        return "presence"
    if frame["type"] == "typing":
        return f"typing:{frame['room']}"
    if frame["type"] == "send":
        return str(frame["client_id"])
    if frame["type"] in MESSAGE_FRAMES:
        return f"{frame['type']}:{frame['id']}"
    return frame.get("room")


def handle(
    user: User, frame: dict[str, Any], *, connection: str | None = None
) -> Reply:
    """Answers a parsed frame; domain errors become error frames, nothing half-done.

    `connection` is the transport's own connection (a WebSocket's), which a
    `presence` frame is about; over HTTP the frame names it."""
    if frame["type"] == "presence" and connection is not None:
        frame = {**frame, "connection": connection}
    try:
        return _HANDLERS[frame["type"]](user, frame)
    except ChatError as error:
        return Reply(frames=[error_frame(error, ref_of(frame))])


def internal_error_frame(frame: dict[str, Any]) -> dict[str, Any]:
    """The answer to a frame that failed for a fault of the server's (logged)."""
    error = ChatError("Something went wrong on the server; try again.", code="internal")
    return error_frame(error, ref_of(frame))


def handle_sends(sends: list[tuple[User, dict[str, Any]]]) -> list[Reply]:
    """Answers several `send` frames, stored together (services.messages_send): each
    gets its ack or its error frame, as `handle` would answer it alone."""
    # Access is checked by messages_send, with the membership it reads under its lock.
    outcomes = services.messages_send(
        [
            services.SendRequest(
                author=user,
                room=frame["room"],
                body=frame["body"],
                client_id=frame["client_id"],
                reply_to=frame["reply_to"],
            )
            for user, frame in sends
        ]
    )
    return [
        Reply(frames=[_send_answer(frame, outcome)])
        for (_, frame), outcome in zip(sends, outcomes, strict=True)
    ]


def _send_answer(
    frame: dict[str, Any], outcome: services.SendResult | Exception
) -> dict[str, Any]:
    if isinstance(outcome, ChatError):
        return error_frame(outcome, ref_of(frame))
    if isinstance(outcome, Exception):
        logger.error("A send failed", exc_info=outcome)
        return internal_error_frame(frame)
    return {
        "type": "ack",
        "client_id": str(frame["client_id"]),
        "room": frame["room"],
        "seq": outcome.message.seq,
        "id": outcome.message.pk,
        "duplicate": not outcome.created,
        "message": outcome.payload,
    }


def _send(user: User, frame: dict[str, Any]) -> Reply:
    (reply,) = handle_sends([(user, frame)])
    return reply


def catch_up(
    user: User, slug: str, last_seq: int, last_change: int | None = None
) -> tuple[dict[str, Any], int]:
    """What a client holding `slug` up to `last_seq` is missing, and the room's id:
    the messages after it, and, if the client says which it has seen (`last_change`),
    the messages it holds that changed since (edited, deleted, restored, reacted to),
    each in its state now.

    `last_change` in the answer is the room's when it was read: every change up to
    it is in the answer or in a message's state there, and later ones come live.
    Too much to replay becomes a `resync` frame: the client reloads recent history.
    That is more than CHAT_RESUME_LIMIT messages, or an answer over
    CHAT_RESUME_MAX_BYTES: the server's WebSocket refuses to send a message over
    its size limit (1 MiB under daphne), and a few hundred long messages pass it.
    """
    room = selectors.room_access(user=user, slug=slug).room
    limit = settings.CHAT_RESUME_LIMIT
    missing = recent.after(room=room, after_seq=last_seq, limit=limit + 1)
    changed = (
        []
        if last_change is None
        else pages.changed(
            room=room, after_change=last_change, through_seq=last_seq, limit=limit + 1
        )
    )
    resync = {
        "type": "resync",
        "room": slug,
        "last_seq": room.last_seq,
        "last_change": room.last_change,
    }
    if len(missing) > limit or len(changed) > limit:
        return resync, room.pk
    frame = {
        "type": "messages",
        "room": slug,
        "messages": missing,
        "changed": changed,
        "last_change": room.last_change,
    }
    if (missing or changed) and len(
        events.encode(frame).encode()
    ) > settings.CHAT_RESUME_MAX_BYTES:
        return resync, room.pk
    return frame, room.pk


def _resume(user: User, frame: dict[str, Any]) -> Reply:
    reply = Reply()
    for slug, last_seq in frame["rooms"].items():
        try:
            answer, room_id = catch_up(user, slug, last_seq, frame["changes"].get(slug))
        except NotFound as error:
            reply.frames.append(error_frame(error, slug))
            continue
        reply.frames.append(answer)
        reply.follow.append(room_id)
    return reply


def _read(user: User, frame: dict[str, Any]) -> Reply:
    access = selectors.room_access(user=user, slug=frame["room"])
    if not access.is_member:
        raise InvalidInput("You are not in this room.", code="not_member")
    services.membership_mark_read(user=user, room=access.room, seq=frame["seq"])
    return Reply()


def _notifications(user: User, frame: dict[str, Any]) -> Reply:
    access = selectors.room_access(user=user, slug=frame["room"])
    membership = notifications.membership_set_notifications(
        user=user, room=access.room, muted=frame["muted"]
    )
    return Reply(frames=[notifications.notifications_event(membership)])


def _ping(user: User, frame: dict[str, Any]) -> Reply:
    return Reply(frames=[{"type": "pong"}])


def _typing(user: User, frame: dict[str, Any]) -> Reply:
    access = selectors.room_access(user=user, slug=frame["room"])
    typing_status.typing_notify(user=user, access=access)
    return Reply()


def _presence(user: User, frame: dict[str, Any]) -> Reply:
    if "connection" not in frame:
        raise InvalidInput("Over HTTP, “connection” names the stream or polls.")
    if not presence.presence_report(
        user_id=user.pk, connection=frame["connection"], status=frame["status"]
    ):
        raise NotFound("No such connection: open the stream or poll first.")
    return Reply()


def _message(user: User, frame: dict[str, Any]) -> Message:
    """The frame's message, in a room the user may read (else not_found)."""
    access = selectors.room_access(user=user, slug=frame["room"])
    return selectors.room_message(room=access.room, message_id=frame["id"])


# Each change comes back to its sender at once, in the shape of the event everyone
# following the room receives (the sender too): a client treats both alike.


def _edit(user: User, frame: dict[str, Any]) -> Reply:
    message = services.message_edit(
        actor=user, message=_message(user, frame), body=frame["body"]
    )
    return Reply(frames=[events.message_edited_event(message)])


def _delete(user: User, frame: dict[str, Any]) -> Reply:
    message = services.message_delete(
        actor=user, message=_message(user, frame), reason=frame.get("reason", "")
    )
    return Reply(frames=[events.message_deleted_event(message)])


def _react(user: User, frame: dict[str, Any]) -> Reply:
    message = services.reaction_set(
        user=user, message=_message(user, frame), emoji=frame["emoji"], on=frame["on"]
    )
    return Reply(frames=[events.reactions_event(message)])


_HANDLERS = {
    "send": _send,
    "resume": _resume,
    "read": _read,
    "notifications": _notifications,
    "ping": _ping,
    "typing": _typing,
    "presence": _presence,
    "edit": _edit,
    "delete": _delete,
    "react": _react,
}
