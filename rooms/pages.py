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
from django.db import connection

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


_MESSAGE, _USER = Message._meta, User._meta
# What each column of _SELECT holds, in order (for rooms.rows' converters).
_FIELDS = (
    *(_MESSAGE.get_field(name) for name in ("id", "seq", "author")),
    *(_USER.get_field(name) for name in ("username", "display_name")),
    *(_MESSAGE.get_field(name) for name in ("body", "html", "client_id")),
    *(_MESSAGE.get_field(name) for name in ("created_at", "edited_at")),
    *(_MESSAGE.get_field(name) for name in ("deleted_at", "change", "reply_to")),
    *(_MESSAGE.get_field(name) for name in ("seq", "body", "deleted_at", "author")),
    *(_USER.get_field(name) for name in ("username", "display_name")),
)


# The columns of _FIELDS, from the message (m), its author (a), the message it
# answers (p) and that one's author (pa); then whether it has reactions. The LEFT
# JOINs keep messages whose author or parent is gone.
_SELECT = f"""
SELECT m.id, m.seq, m.author_id, a.username, a.display_name,
       m.body, m.html, m.client_id, m.created_at, m.edited_at,
       m.deleted_at, m.change, m.reply_to_id,
       p.seq, p.body, p.deleted_at, p.author_id, pa.username, pa.display_name,
       EXISTS (SELECT 1 FROM {Reaction._meta.db_table} r WHERE r.message_id = m.id)
FROM {Message._meta.db_table} m
LEFT JOIN {User._meta.db_table} a ON a.id = m.author_id
LEFT JOIN {Message._meta.db_table} p ON p.id = m.reply_to_id
LEFT JOIN {User._meta.db_table} pa ON pa.id = p.author_id
WHERE m.room_id = %s AND """


def _read(room: Room, where: str, params: list[Any]) -> list[PageMessage]:
    with connection.cursor() as cursor:
        cursor.execute(_SELECT + where, [room.pk, *params])
        found = cursor.fetchall()
    return [_message(room, rows.converted(row, _FIELDS)) for row in found]


def _message(room: Room, v: list) -> PageMessage:
    return PageMessage(
        pk=v[0],
        room=room,
        seq=v[1],
        author_id=v[2],
        author=None if v[2] is None else Person(v[2], v[3], v[4]),
        body=v[5],
        html=v[6],
        client_id=v[7],
        created_at=v[8],
        edited_at=v[9],
        deleted_at=v[10],
        change=v[11],
        reply_to=None
        if v[12] is None
        else Parent(
            pk=v[12],
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
