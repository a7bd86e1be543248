"""Moderation reaching open sockets (through the full ASGI stack and a real Redis): a
deletion from the admin, refused sends of the muted and in locked rooms, the frames
that tell someone they were banned."""

import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from rooms import moderation, services
from rooms.consumers import CLOSE_UNAUTHENTICATED
from rooms.models import Membership, Message, ModerationLog
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 10


async def connected(user):
    socket = await realtime.connect(user)
    assert socket.connected
    assert (await realtime.receive(socket, TIMEOUT))["type"] == "hello"
    return socket


def send_frame(room, body="hello"):
    return {
        "type": "send",
        "room": room.slug,
        "body": body,
        "client_id": str(uuid.uuid4()),
    }


@database_sync_to_async
def room_with(*roles):
    room = RoomFactory()
    return room, [member(room, role=role) for role in roles]


@database_sync_to_async
def count_messages(room) -> int:
    return Message.objects.filter(room=room).count()


async def test_when_staff_delete_a_message_with_a_reason_in_the_admin_then_it_goes_live(
    admin_client, admin_user
):
    room, (alice, bob) = await room_with("member", "member")
    message = await database_sync_to_async(send)(room, alice, "buy cheap pills")
    socket = await connected(bob)

    response = await database_sync_to_async(admin_client.post)(
        reverse("admin:rooms_message_delete", args=[message.pk]),
        {"post": "yes", "reason": "spam"},
    )

    assert response.status_code == 302
    assert await realtime.receive(socket, TIMEOUT) == {
        "type": "message_deleted",
        "room": room.slug,
        "id": message.pk,
        "seq": message.seq,
        "change": 1,
    }
    log = await database_sync_to_async(
        lambda: list(ModerationLog.objects.values_list("actor", "action", "reason"))
    )()
    assert log == [(admin_user.pk, "message_delete", "spam")]
    await socket.disconnect()


async def test_when_a_muted_member_sends_then_refused_with_until_and_the_socket_stays():
    room, (mod, alice) = await room_with(Membership.Role.MODERATOR, "member")
    socket = await connected(alice)
    await database_sync_to_async(moderation.membership_mute)(
        actor=mod, room=room, user=alice, duration=timedelta(minutes=10), reason="slow"
    )
    assert (await realtime.receive_until(socket, "muted", TIMEOUT))["room"] == room.slug
    frame = send_frame(room)

    await realtime.send(socket, frame)

    error = await realtime.receive_until(socket, "error", TIMEOUT)
    assert error["code"] == "muted"
    assert error["ref"] == frame["client_id"]
    assert error["reason"] == "slow"
    membership = await database_sync_to_async(Membership.objects.get)(
        room=room, user=alice
    )
    assert error["until"] == membership.muted_until.isoformat()
    assert await count_messages(room) == 0
    await realtime.still_open(socket)
    await socket.disconnect()


async def test_when_a_room_is_locked_then_a_members_send_is_refused_with_locked():
    room, (alice,) = await room_with("member")
    staff = await database_sync_to_async(UserFactory)(is_staff=True)
    socket = await connected(alice)
    await database_sync_to_async(moderation.room_lock)(
        actor=staff, room=room, reason="raid"
    )
    assert (await realtime.receive_until(socket, "room_locked", TIMEOUT))["locked"]

    await realtime.send(socket, send_frame(room))

    assert (await realtime.receive_until(socket, "error", TIMEOUT))["code"] == "locked"
    assert await count_messages(room) == 0
    await realtime.still_open(socket)
    await socket.disconnect()


async def test_when_staff_ban_an_account_then_its_open_socket_is_told_why_and_closed(
    admin_client,
):
    room, (alice,) = await room_with("member")
    socket = await connected(alice)

    response = await database_sync_to_async(admin_client.post)(
        reverse("admin:accounts_user_changelist"),
        {"action": "ban", "_selected_action": [alice.pk], "reason": "abuse"},
    )

    assert response.status_code == 302
    assert await realtime.receive_until(socket, "signed_out", TIMEOUT) == {
        "type": "signed_out",
        "reason": "account_closed",
        "message": "This account has been closed.",
        "detail": "abuse",
    }
    assert await socket.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }
    # And it cannot come back.
    again = await realtime.connect(alice)
    assert again.connected is False
    assert await count_messages(room) == 0


async def test_when_a_member_is_banned_from_a_room_then_their_socket_stops_following_it():
    room, (mod, alice, bob) = await room_with(
        Membership.Role.MODERATOR, "member", "member"
    )
    socket = await connected(alice)

    await database_sync_to_async(moderation.membership_ban)(
        actor=mod, room=room, user=alice, reason="harassment"
    )

    assert await realtime.receive(socket, TIMEOUT) == {
        "type": "room_left",
        "room": room.slug,
    }
    # Nothing of the room reaches the socket any more: a message there, then one in a
    # room alice is still in (the sentinel) must be the next frame.
    other = await database_sync_to_async(RoomFactory)()
    await database_sync_to_async(services.membership_join)(user=alice, room=other)
    await database_sync_to_async(send)(room, bob, "after the ban")
    await database_sync_to_async(send)(other, alice, "sentinel")
    frame = await realtime.receive_until(socket, "message", TIMEOUT)
    assert frame["message"]["body"] == "sentinel"
    await socket.disconnect()
