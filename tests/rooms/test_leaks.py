"""A non-member of a private room or DM gets nothing of it, from any entry point."""

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from accounts.models import User
from rooms import services
from rooms.models import Message, Room
from tests import realtime
from tests.factories import UserFactory, send


@pytest.fixture
def cast(db):
    """Olive owns a private room with Mia; Dan and Dee share a DM; Eve is in neither."""
    olive, mia, dan, dee, eve = (
        UserFactory(username=name) for name in ("olive", "mia", "dan", "dee", "eve")
    )
    private = services.room_create(
        creator=olive, name="Hidden den", topic="our plans", kind=Room.Kind.PRIVATE
    )
    services.membership_add(actor=olive, room=private, username="mia")
    dm = services.dm_open(user=dan, usernames=["dee"])
    send(private, olive, "private words")
    send(dm, dan, "dm words")
    return {"eve": eve, "olive": olive, "dan": dan, "private": private, "dm": dm}


def rooms_of(cast):
    return [cast["private"], cast["dm"]]


def test_room_pages_answer_404_like_a_room_that_does_not_exist(client, cast):
    client.force_login(cast["eve"])
    for room in rooms_of(cast):
        response = client.get(reverse("rooms:detail", args=[room.slug]))
        assert response.status_code == 404
        missing = client.get(reverse("rooms:detail", args=["no-such-room"]))
        assert response.content == missing.content
        assert b"Hidden den" not in response.content


def test_history_answers_404_like_a_room_that_does_not_exist(client, cast):
    client.force_login(cast["eve"])
    for room in rooms_of(cast):
        response = client.get(reverse("rooms:api_history", args=[room.slug]))
        missing = client.get(reverse("rooms:api_history", args=["no-such-room"]))
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
        response = client.get(
            reverse("rooms:api_history", args=[room.slug]) + "?before=5"
        )
        assert response.status_code == 404


def test_join_and_leave_by_post_reveal_nothing(client, cast):
    client.force_login(cast["eve"])
    for room in rooms_of(cast):
        assert client.post(reverse("rooms:join", args=[room.slug])).status_code == 404
        assert client.post(reverse("rooms:leave", args=[room.slug])).status_code == 404
    assert not cast["private"].memberships.filter(user=cast["eve"]).exists()


def test_the_public_list_and_the_sidebar_hold_only_what_eve_may_see(client, cast):
    client.force_login(cast["eve"])
    listing = client.get(reverse("rooms:list"))
    assert listing.status_code == 200
    page = client.get(reverse("rooms:detail", args=["general"]))
    for response in (listing, page):
        for room in rooms_of(cast):
            assert room.slug.encode() not in response.content
        assert b"Hidden den" not in response.content
        assert b"Dan" not in response.content and b"Dee" not in response.content


def test_posted_frames_naming_a_private_room_get_not_found_and_store_nothing(
    client, cast
):
    client.force_login(cast["eve"])
    before = Message.objects.count()
    for room in rooms_of(cast):
        for frame in (
            {
                "type": "send",
                "room": room.slug,
                "body": "let me in",
                "client_id": str(uuid.uuid4()),
            },
            {"type": "resume", "rooms": {room.slug: 0}},
            {"type": "read", "room": room.slug, "seq": 1},
        ):
            response = client.post(
                reverse("rooms:api_frames"),
                json.dumps(frame),
                content_type="application/json",
            )
            (answer,) = response.json()["frames"]
            assert answer["type"] == "error" and answer["code"] == "not_found"
            assert "words" not in response.content.decode()
    assert Message.objects.count() == before


@pytest.mark.django_db(transaction=True)
async def test_socket_frames_naming_a_private_room_get_errors_and_nothing_is_delivered():
    cast_ = await database_sync_to_async(_make_cast)()
    eve = await realtime.connect(cast_["eve"])
    await realtime.receive_until(eve, "hello")
    for room in (cast_["private"], cast_["dm"]):
        for frame in (
            {
                "type": "send",
                "room": room.slug,
                "body": "x",
                "client_id": str(uuid.uuid4()),
            },
            {"type": "resume", "rooms": {room.slug: 0}},
            {"type": "read", "room": room.slug, "seq": 1},
        ):
            await realtime.send(eve, frame)
            answer = await realtime.receive(eve)
            assert answer["type"] == "error" and answer["code"] == "not_found"

    # Live traffic in both rooms never reaches Eve's socket.
    await database_sync_to_async(send)(
        cast_["private"], cast_["olive"], "more private words"
    )
    await database_sync_to_async(send)(cast_["dm"], cast_["dan"], "more dm words")
    assert await eve.receive_nothing(timeout=1)
    await eve.disconnect()


def _make_cast():
    olive, mia, dan, dee, eve = (
        UserFactory(username=f"{name}-{uuid.uuid4().hex[:6]}")
        for name in ("olive", "mia", "dan", "dee", "eve")
    )
    private = services.room_create(
        creator=olive, name="Hidden den", kind=Room.Kind.PRIVATE
    )
    services.membership_add(actor=olive, room=private, username=mia.username)
    dm = services.dm_open(user=dan, usernames=[dee.username])
    return {
        "eve": eve,
        "olive": olive,
        "mia": mia,
        "dan": dan,
        "private": private,
        "dm": dm,
    }


@pytest.mark.django_db(transaction=True)
async def test_a_forged_author_in_a_send_frame_is_ignored():
    cast_ = await database_sync_to_async(_make_cast)()
    olive = await realtime.connect(cast_["olive"])
    await realtime.receive_until(olive, "hello")
    await realtime.send(
        olive,
        {
            "type": "send",
            "room": cast_["private"].slug,
            "body": "signed by me",
            "client_id": str(uuid.uuid4()),
            "author": cast_["eve"].pk,
            "author_id": cast_["eve"].pk,
        },
    )
    ack = await realtime.receive_until(olive, "ack")
    assert ack["message"]["author"]["id"] == cast_["olive"].pk
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert stored.author_id == cast_["olive"].pk
    await olive.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shares_receipts", [False, True])
async def test_a_read_position_reaches_its_owner_s_other_tabs_and_no_one_else(
    shares_receipts,
):
    cast_ = await database_sync_to_async(_make_cast)()
    room = cast_["private"]
    await database_sync_to_async(User.objects.filter(pk=cast_["olive"].pk).update)(
        share_read_receipts=shares_receipts
    )
    await database_sync_to_async(send)(room, cast_["mia"], "unread by olive")
    olive_tab = await realtime.connect(cast_["olive"])
    olive_other_tab = await realtime.connect(cast_["olive"])
    mia = await realtime.connect(cast_["mia"])
    for socket in (olive_tab, olive_other_tab, mia):
        await realtime.receive_until(socket, "hello")

    await realtime.send(olive_tab, {"type": "read", "room": room.slug, "seq": 1})

    assert await realtime.receive_until(olive_other_tab, "read") == {
        "type": "read",
        "room": room.slug,
        "seq": 1,
    }
    if shares_receipts:
        # Read receipts (rooms.receipts): the small room's other member sees that Olive
        # read it, as a receipt, and nothing more.
        receipt = await realtime.receive(mia)
        assert (receipt["type"], receipt["user"]["id"], receipt["seq"]) == (
            "receipt",
            cast_["olive"].pk,
            1,
        )
    assert await mia.receive_nothing(timeout=1)
    for socket in (olive_tab, olive_other_tab, mia):
        await socket.disconnect()


def test_the_admin_is_closed_to_non_staff(client, cast):
    client.force_login(cast["eve"])
    for name in ("admin:rooms_message_changelist", "admin:rooms_room_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
