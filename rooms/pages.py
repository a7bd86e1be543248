"""Pages of a room's messages, as payloads: history, catch-up and changed messages.

These are the reads every page load, scroll back, reconnect and poll makes, so they
skip the ORM: one hand-written statement per page, its rows converted as the ORM would
convert them (rooms.rows), and payloads made by rooms.events.message_payload from
plain row objects. Through the ORM, compiling the query and building 100 model
instances was 95 % of an older page's read (docs/performance.md).
tests/rooms/test_pages.py holds these payloads equal to the ones made from models.

Callers authorize first: every function takes a room the reader may read.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Field, Model

from accounts.models import User, shown_name
from rooms import events, rows
from rooms.models import Message, Reaction, Room

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Person:
    """What a payload shows of a message's author."""

    pk: int
    username: str
    display_name: str

    @property
    def shown_name(self) -> str:
        return shown_name(self.username, self.display_name)


@dataclass(frozen=True, slots=True)
class Parent:
    """What a reply shows of the message it answers."""

    pk: int
    seq: int
    body: str
    deleted_at: datetime | None
    author: Person | None


@dataclass(frozen=True, slots=True)
class PageMessage:
    """A message as read for a page: what rooms.events.message_payload reads."""

    pk: int
    room: Room
    seq: int
    author_id: int | None
    author: Person | None
    body: str
    html: str
    client_id: UUID | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    change: int | None
    reply_to: Parent | None
    has_reactions: bool


def _fields(model: type[Model], *names: str) -> tuple[Field, ...]:
    return tuple(model._meta.get_field(name) for name in names)


# What a page reads of the message (m), its author (a), the message it answers (p)
# and that one's author (pa).
_MESSAGE = _fields(
    Message,
    *("id", "seq", "author", "body", "html", "client_id", "created_at"),
    *("edited_at", "deleted_at", "change", "reply_to"),
)
_AUTHOR = _fields(User, "username", "display_name")
_PARENT = _fields(Message, "seq", "body", "deleted_at", "author")
_FIELDS = _MESSAGE + _AUTHOR + _PARENT + _AUTHOR

# Those columns, then whether the message has reactions. The LEFT JOINs keep
# messages whose author or parent is gone.
_SELECT = f"""
SELECT {rows.columns("m", _MESSAGE)}, {rows.columns("a", _AUTHOR)},
       {rows.columns("p", _PARENT)}, {rows.columns("pa", _AUTHOR)},
       EXISTS (SELECT 1 FROM {Reaction._meta.db_table} r WHERE r.message_id = m.id)
FROM {Message._meta.db_table} m
LEFT JOIN {User._meta.db_table} a ON a.id = m.author_id
LEFT JOIN {Message._meta.db_table} p ON p.id = m.reply_to_id
LEFT JOIN {User._meta.db_table} pa ON pa.id = p.author_id
WHERE m.room_id = %s AND """


def _read(room: Room, where: str, params: list[Any]) -> list[PageMessage]:
    found = rows.read(_SELECT + where, [room.pk, *params], _FIELDS)
    return [_message(room, values) for values in found]


def _message(room: Room, v: list) -> PageMessage:
    """From the values of _SELECT's columns, in order."""
    return PageMessage(
        pk=v[0],
        room=room,
        seq=v[1],
        author_id=v[2],
        author=None if v[2] is None else Person(v[2], v[11], v[12]),
        body=v[3],
        html=v[4],
        client_id=v[5],
        created_at=v[6],
        edited_at=v[7],
        deleted_at=v[8],
        change=v[9],
        reply_to=None
        if v[10] is None
        else Parent(
            pk=v[10],
            seq=v[13],
            body=v[14],
            deleted_at=v[15],
            author=None if v[16] is None else Person(v[16], v[17], v[18]),
        ),
        has_reactions=bool(v[19]),
    )


def _payloads(messages: list[PageMessage]) -> list[Payload]:
    """Their payloads; reactions are read, in one query, only for the messages that
    have some (most have none)."""
    reactions: defaultdict[int, list[Reaction]] = defaultdict(list)
    reacted = [message.pk for message in messages if message.has_reactions]
    if reacted:
        for reaction in Reaction.objects.select_related("user").filter(
            message__in=reacted
        ):
            reactions[reaction.message_id].append(reaction)
    return [
        events.message_payload(message, reactions=reactions[message.pk])
        for message in messages
    ]


def page_limit(limit: int | None) -> int:
    """A history page's size: as asked, at most CHAT_HISTORY_PAGE_SIZE (the default)."""
    return min(
        limit or settings.CHAT_HISTORY_PAGE_SIZE, settings.CHAT_HISTORY_PAGE_SIZE
    )


def history(*, room: Room, before_seq: int, limit: int | None = None) -> list[Payload]:
    """The page of messages just before `before_seq`, oldest first (keyset by seq)."""
    page = _read(
        room, "m.seq < %s ORDER BY m.seq DESC LIMIT %s", [before_seq, page_limit(limit)]
    )
    page.reverse()
    return _payloads(page)


def after(*, room: Room, after_seq: int, limit: int) -> list[Payload]:
    """Messages with seq > after_seq, oldest first, at most `limit`."""
    return _payloads(
        _read(room, "m.seq > %s ORDER BY m.seq LIMIT %s", [after_seq, limit])
    )


def changed(
    *, room: Room, after_change: int, through_seq: int, limit: int
) -> list[Payload]:
    """Messages up to `through_seq` whose latest change is after `after_change`, in
    the order of those changes, at most `limit`: what a client holding the room up to
    that seq and that change has not seen change.

    None are read when the room has had no change since (its last_change as read with
    it), the common case."""
    if after_change >= room.last_change:
        return []
    return _payloads(
        _read(
            room,
            "m.change > %s AND m.seq <= %s ORDER BY m.change LIMIT %s",
            [after_change, through_seq, limit],
        )
    )
