"""Membership changes reach every open tab of the person at once."""

import uuid

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Room
from tests import realtime
from tests.factories import UserFactory, send

pytestmark = pytest.mark.django_db(transaction=True)


def _people(*names):
    return [UserFactory(username=f"{n}-{uuid.uuid4().hex[:6]}") for n in names]


@database_sync_to_async
def private_room_of(owner):
    return services.room_create(creator=owner, name="Backroom", kind=Room.Kind.PRIVATE)


async def test_being_added_shows_the_room_in_every_tab_and_its_messages_follow():
    owner, bob = await database_sync_to_async(_people)("owner", "bob")
    room = await private_room_of(owner)
    tabs = [await realtime.connect(bob), await realtime.connect(bob)]
    for tab in tabs:
        await realtime.receive_until(tab, "hello")

    await database_sync_to_async(services.membership_add)(
        actor=owner, room=room, username=bob.username
    )
    for tab in tabs:
        joined = await realtime.receive_until(tab, "room_joined")
        assert joined["room"]["slug"] == room.slug
        assert joined["room"]["name"] == "Backroom"

    await database_sync_to_async(send)(room, owner, "welcome in")
    for tab in tabs:
        message = await realtime.receive_until(tab, "message")
        assert message["message"]["body"] == "welcome in"
        await tab.disconnect()


async def test_being_removed_hides_the_room_and_nothing_more_arrives_from_it():
    owner, bob = await database_sync_to_async(_people)("owner", "bob")
    room = await private_room_of(owner)
    await database_sync_to_async(services.membership_add)(
        actor=owner, room=room, username=bob.username
    )
    tab = await realtime.connect(bob)
    await realtime.receive_until(tab, "hello")

    await database_sync_to_async(services.membership_remove)(
        actor=owner, room=room, user=bob
    )
    assert await realtime.receive_until(tab, "room_left") == {
        "type": "room_left",
        "room": room.slug,
    }
    await database_sync_to_async(send)(room, owner, "said after bob left")
    assert await tab.receive_nothing(timeout=1)

    await realtime.send(tab, {"type": "resume", "rooms": {room.slug: 0}})
    error = await realtime.receive(tab)
    assert error["type"] == "error" and error["code"] == "not_found"
    await tab.disconnect()


async def test_a_first_dm_appears_in_the_other_person_s_open_tab_named_for_the_starter():
    alice, bob = await database_sync_to_async(_people)("alice", "bob")
    tab = await realtime.connect(bob)
    await realtime.receive_until(tab, "hello")

    room = await database_sync_to_async(services.dm_open)(
        user=alice, usernames=[bob.username]
    )
    joined = await realtime.receive_until(tab, "room_joined")
    assert joined["room"]["slug"] == room.slug
    assert joined["room"]["kind"] == "direct"
    assert joined["room"]["name"] == alice.shown_name

    await database_sync_to_async(send)(room, alice, "psst")
    assert (await realtime.receive_until(tab, "message"))["message"]["body"] == "psst"
    await tab.disconnect()


async def test_a_room_made_private_stops_reaching_readers_who_are_not_members():
    owner, member, reader = await database_sync_to_async(_people)(
        "owner", "member", "reader"
    )
    room = await database_sync_to_async(services.room_create)(
        creator=owner, name=f"Open {uuid.uuid4().hex[:6]}"
    )
    await database_sync_to_async(services.membership_join)(user=member, room=room)
    tabs = {}
    for person in (member, reader):
        tab = tabs[person] = await realtime.connect(person)
        await realtime.receive_until(tab, "hello")
        # The reader follows the room as a public one, by resuming it.
        await realtime.send(tab, {"type": "resume", "rooms": {room.slug: 0}})
        await realtime.receive_until(tab, "messages")

    await database_sync_to_async(services.room_edit)(
        room=room, name=room.name, topic=room.topic, kind=Room.Kind.PRIVATE
    )
    for tab in tabs.values():
        assert await realtime.receive_until(tab, "room_private") == {
            "type": "room_private",
            "room": room.slug,
        }
    await database_sync_to_async(send)(room, owner, "members only now")

    said = await realtime.receive_until(tabs[member], "message")
    assert said["message"]["body"] == "members only now"
    assert await tabs[reader].receive_nothing(timeout=1)
    await realtime.send(tabs[reader], {"type": "resume", "rooms": {room.slug: 0}})
    error = await realtime.receive(tabs[reader])
    assert error["type"] == "error" and error["code"] == "not_found"
    for tab in tabs.values():
        await tab.disconnect()
