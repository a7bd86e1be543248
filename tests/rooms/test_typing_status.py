"""rooms.typing_status: who may say they are typing, what the room hears, and that
nothing is stored."""

import asyncio
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from rooms import events, selectors, typing_status
from rooms.errors import Forbidden, Muted, NotFound
from rooms.models import Message, Room
from tests.factories import RoomFactory, UserFactory, member

pytestmark = [pytest.mark.django_db(transaction=True)]


async def listen(room) -> tuple:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.room_group(room.pk), channel)
    return layer, channel


async def heard(ear) -> dict:
    layer, channel = ear
    event = await asyncio.wait_for(layer.receive(channel), 10)
    return json.loads(event["text"])


async def sentinel(room, ear) -> None:
    """Publishes a marker to the room: the next thing heard must be it."""
    await get_channel_layer().group_send(
        events.room_group(room.pk),
        {"type": events.EVENT_HANDLER, "text": '{"type":"sentinel"}'},
    )
    assert (await heard(ear))["type"] == "sentinel"


@database_sync_to_async
def notify(user, room):
    access = selectors.room_access(user=user, slug=room.slug)
    typing_status.typing_notify(user=user, access=access)


@database_sync_to_async
def stored(room) -> tuple[int, int]:
    return Message.objects.filter(room=room).count(), Room.objects.get(
        pk=room.pk
    ).last_seq


make_room = database_sync_to_async(RoomFactory)
make_user = database_sync_to_async(UserFactory)
add_member = database_sync_to_async(member)


async def test_a_member_typing_is_heard_by_the_room_and_nothing_is_stored():
    room = await make_room()
    alice = await add_member(room, await make_user(display_name="Alice <b>A</b>"))
    ear = await listen(room)

    await notify(alice, room)

    assert await heard(ear) == {
        "type": "typing",
        "room": room.slug,
        "user": {"id": alice.pk, "username": alice.username, "name": "Alice <b>A</b>"},
    }
    assert await stored(room) == (0, 0)


async def test_someone_who_may_not_post_cannot_say_they_are_typing():
    room = await make_room()
    reader = await make_user()  # may read the public room, is not in it
    ear = await listen(room)

    with pytest.raises(Forbidden) as refused:
        await notify(reader, room)

    assert refused.value.code == "not_member"
    await sentinel(room, ear)


async def test_a_private_room_does_not_exist_for_an_outsider_who_types():
    room = await make_room(kind=Room.Kind.PRIVATE)
    with pytest.raises(NotFound):
        await notify(await make_user(), room)


@pytest.mark.parametrize(
    ("room_kwargs", "member_kwargs", "code"),
    [
        ({"is_archived": True}, {}, "archived"),
        ({"is_locked": True}, {}, "locked"),
        ({}, {"muted_until": timezone.now() + timedelta(hours=1)}, "muted"),
    ],
)
async def test_the_rules_of_sending_apply_to_typing(room_kwargs, member_kwargs, code):
    room = await make_room(**room_kwargs)
    alice = await add_member(room, **member_kwargs)
    ear = await listen(room)

    with pytest.raises((Forbidden, Muted)) as refused:
        await notify(alice, room)

    assert refused.value.code == code
    await sentinel(room, ear)


@pytest.mark.rate_limits
async def test_typing_faster_than_the_limit_is_dropped_silently(settings):
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "typing": (2, 0.001)}
    room = await make_room()
    alice = await add_member(room)
    ear = await listen(room)

    for _ in range(3):
        await notify(alice, room)  # the third raises nothing...

    assert (await heard(ear))["type"] == "typing"
    assert (await heard(ear))["type"] == "typing"
    await sentinel(room, ear)  # ...and is never heard
