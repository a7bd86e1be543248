"""rooms.rows: hand-written SQL's rows, converted as the ORM converts them, and the
plain insert."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from rooms import rows
from rooms.models import Message
from tests.factories import RoomFactory, member, send

pytestmark = [pytest.mark.django_db]

FIELDS = rows.fields_of(Message)


def read(message: Message) -> list:
    [values] = rows.read(
        f"SELECT {rows.columns('m', FIELDS)} FROM {Message._meta.db_table} m"
        " WHERE m.id = %s",
        [message.pk],
        FIELDS,
    )
    return values


def test_values_come_back_as_from_a_queryset():
    room = RoomFactory()
    message = send(room, member(room), "hello")
    expected = Message.objects.get(pk=message.pk)

    values = read(message)

    assert values == [getattr(expected, f.attname) for f in FIELDS]
    assert values[[f.name for f in FIELDS].index("created_at")].tzinfo is not None


def test_an_instance_is_as_if_loaded_from_the_database():
    room = RoomFactory()
    message = send(room, member(room), "hello")

    loaded = rows.instance(Message, read(message))

    assert loaded == message and not loaded._state.adding
    assert loaded.client_id == message.client_id
    assert loaded.created_at == Message.objects.get(pk=message.pk).created_at


def test_an_insert_stores_what_save_would_and_gives_the_instance_its_key():
    room = RoomFactory()
    author = member(room)
    reply_to = send(room, author, "first")
    client_id = uuid.uuid4()
    before = timezone.now()
    message = Message(
        room=room,
        seq=reply_to.seq + 1,
        author=author,
        body="second",
        html="<p>second</p>",
        client_id=client_id,
        reply_to=reply_to,
    )

    rows.insert(message)

    assert message.pk is not None and not message._state.adding
    stored = Message.objects.get(pk=message.pk)
    assert [getattr(stored, f.attname) for f in FIELDS] == [
        getattr(message, f.attname) for f in FIELDS
    ]
    assert stored.client_id == client_id and stored.reply_to_id == reply_to.pk
    assert before <= stored.created_at <= timezone.now()
    assert (stored.edited_at, stored.deleted_at, stored.change) == (None, None, None)


def test_an_insert_that_breaks_a_constraint_raises_integrity_error():
    room = RoomFactory()
    author = member(room)
    first = send(room, author, "first")
    twin = Message(room=room, seq=first.seq, author=author, body="same seq")

    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert(twin)
    assert twin.pk is None
