"""rooms.notifications: a member mutes a room for themselves; their tabs follow."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from rooms import notifications
from rooms.errors import InvalidInput
from rooms.models import Membership, Room
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member

TIMEOUT = 10


@pytest.mark.django_db
def test_when_a_member_mutes_a_room_then_it_is_stored_apart_from_moderation():
    room = RoomFactory()
    alice = member(room)

    membership = notifications.membership_set_notifications(
        user=alice, room=room, muted=True
    )

    stored = Membership.objects.get(pk=membership.pk)
    assert stored.notifications_muted is True
    assert stored.muted_until is None


@pytest.mark.django_db
def test_when_a_non_member_mutes_a_room_then_it_is_refused():
    room = RoomFactory()

    with pytest.raises(InvalidInput) as caught:
        notifications.membership_set_notifications(
            user=UserFactory(), room=room, muted=True
        )

    assert caught.value.code == "not_member"


@pytest.mark.django_db
def test_when_the_sidebar_is_drawn_then_it_says_which_rooms_are_muted():
    muted, loud = RoomFactory(name="A muted"), RoomFactory(name="B loud")
    alice = member(muted)
    member(loud, alice)
    notifications.membership_set_notifications(user=alice, room=muted, muted=True)
    client = Client()
    client.force_login(alice)

    response = client.get(reverse("rooms:detail", args=[loud.slug]))

    rooms = {r["slug"]: r["muted"] for r in response.context["client_state"]["rooms"]}
    assert rooms == {muted.slug: True, loud.slug: False}


@pytest.mark.django_db(transaction=True)
async def test_when_a_tab_mutes_a_room_then_the_users_other_tabs_hear_it():
    room = await database_sync_to_async(RoomFactory)()
    alice = await database_sync_to_async(member)(room)
    first, second = await realtime.connect(alice), await realtime.connect(alice)
    for tab in (first, second):
        await realtime.receive_until(tab, "hello", TIMEOUT)

    await realtime.send(
        first, {"type": "notifications", "room": room.slug, "muted": True}
    )

    expected = {"type": "room_notifications", "room": room.slug, "muted": True}
    assert await realtime.receive(first, TIMEOUT) == expected
    assert await realtime.receive_until(second, "room_notifications", TIMEOUT) == (
        expected
    )
    for tab in (first, second):
        await tab.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"muted": "yes"}, "invalid"),
        ({"muted": True, "room": "not a slug"}, "invalid"),
        ({"muted": True, "room": "no-such-room"}, "not_found"),
    ],
)
async def test_when_a_mute_frame_is_wrong_then_the_error_says_why(frame, code):
    user = await database_sync_to_async(UserFactory)()
    socket = await realtime.connect(user)
    await realtime.receive_until(socket, "hello", TIMEOUT)

    await realtime.send(socket, {"type": "notifications", "room": "general", **frame})

    error = await realtime.receive(socket, TIMEOUT)
    assert (error["type"], error["code"]) == ("error", code)
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_when_a_private_room_is_muted_by_an_outsider_then_it_looks_missing():
    room = await database_sync_to_async(RoomFactory)(kind=Room.Kind.PRIVATE)
    outsider = await database_sync_to_async(UserFactory)()
    socket = await realtime.connect(outsider)
    await realtime.receive_until(socket, "hello", TIMEOUT)

    await realtime.send(
        socket, {"type": "notifications", "room": room.slug, "muted": True}
    )

    error = await realtime.receive(socket, TIMEOUT)
    assert (error["type"], error["code"]) == ("error", "not_found")
    await socket.disconnect()
