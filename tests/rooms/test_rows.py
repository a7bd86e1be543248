"""rooms.rows: hand-written SQL's rows, converted as the ORM converts them."""

import pytest

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
