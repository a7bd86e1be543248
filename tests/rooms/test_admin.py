"""Moderation from the Django admin: searchable lists, and writes through the services."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from rooms import services
from rooms.models import Membership, Message, Room
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member, send


def listed(response) -> list:
    assert response.status_code == 200, response
    # An unknown filter makes the admin redirect with ?e=1; a 200 means it applied.
    return list(response.context["cl"].result_list)


# --- change lists: search and filters -----------------------------------------------------


@pytest.mark.django_db
def test_when_staff_search_and_filter_users_then_the_list_narrows(admin_client):
    UserFactory(username="zelda", display_name="Princess")
    UserFactory(username="link", display_name="Hero", is_staff=True)
    url = reverse("admin:accounts_user_changelist")

    assert [u.username for u in listed(admin_client.get(url, {"q": "princess"}))] == [
        "zelda"
    ]
    staff = {
        u.username for u in listed(admin_client.get(url, {"is_staff__exact": "1"}))
    }
    assert "link" in staff and "zelda" not in staff
    assert listed(admin_client.get(url, {"is_active__exact": "0"})) == []


@pytest.mark.django_db
def test_when_staff_search_and_filter_rooms_then_the_list_narrows(admin_client):
    RoomFactory(name="Knitting", slug="knitting", topic="wool and needles")
    RoomFactory(name="Secret", slug="secret", kind=Room.Kind.PRIVATE)
    RoomFactory(name="Old", slug="old", is_archived=True)
    url = reverse("admin:rooms_room_changelist")

    assert [r.slug for r in listed(admin_client.get(url, {"q": "needles"}))] == [
        "knitting"
    ]
    assert [
        r.slug for r in listed(admin_client.get(url, {"kind__exact": "private"}))
    ] == ["secret"]
    assert [
        r.slug for r in listed(admin_client.get(url, {"is_archived__exact": "1"}))
    ] == ["old"]


@pytest.mark.django_db
def test_when_staff_search_and_filter_memberships_then_the_list_narrows(admin_client):
    room = RoomFactory(name="Knitting", slug="knitting")
    member(room, UserFactory(username="zelda"), role=Membership.Role.OWNER)
    member(room, UserFactory(username="link"))
    private = RoomFactory(kind=Room.Kind.PRIVATE)
    member(private, UserFactory(username="ganon"))
    url = reverse("admin:rooms_membership_changelist")

    assert [m.user.username for m in listed(admin_client.get(url, {"q": "zelda"}))] == [
        "zelda"
    ]
    assert [
        m.user.username for m in listed(admin_client.get(url, {"role__exact": "owner"}))
    ] == ["zelda"]
    by_kind = listed(admin_client.get(url, {"room__kind__exact": "private"}))
    assert [m.user.username for m in by_kind] == ["ganon"]
    by_room = listed(admin_client.get(url, {"room__id__exact": room.pk}))
    assert sorted(m.user.username for m in by_room) == ["link", "zelda"]


@pytest.mark.django_db
def test_when_staff_search_and_filter_messages_then_the_list_narrows(admin_client):
    room = RoomFactory()
    other = RoomFactory()
    alice = member(room, UserFactory(username="alice"))
    member(other, alice)
    send(room, alice, "the quick brown fox")
    doomed = send(room, alice, "lazy dog")
    send(other, alice, "elsewhere")
    from rooms import services

    services.message_delete(actor=alice, message=doomed)
    url = reverse("admin:rooms_message_changelist")

    assert [m.body for m in listed(admin_client.get(url, {"q": "brown"}))] == [
        "the quick brown fox"
    ]
    in_room = listed(admin_client.get(url, {"room__id__exact": room.pk}))
    assert {m.body for m in in_room} == {"the quick brown fox", "lazy dog"}
    deleted = listed(admin_client.get(url, {"deleted_at__isempty": "0"}))
    assert [m.body for m in deleted] == ["lazy dog"]
    this_year = listed(
        admin_client.get(url, {"created_at__year": doomed.created_at.year})
    )
    assert len(this_year) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["accounts_user", "rooms_room", "rooms_membership", "rooms_message"]
)
def test_when_staff_open_a_change_page_then_it_loads(admin_client, name):
    room = RoomFactory()
    message = send(room, member(room))
    obj = {
        "accounts_user": message.author,
        "rooms_room": room,
        "rooms_membership": Membership.objects.get(room=room),
        "rooms_message": message,
    }[name]

    response = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))

    assert response.status_code == 200


@pytest.mark.django_db
def test_when_staff_open_an_edited_message_then_they_see_earlier_texts(admin_client):
    room = RoomFactory()
    alice = member(room, UserFactory(username="alice"))
    message = send(room, alice, "first <b>draft</b>")
    services.message_edit(actor=alice, message=message, body="second draft")
    services.message_edit(actor=alice, message=message, body="final")

    response = admin_client.get(
        reverse("admin:rooms_message_change", args=[message.pk])
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Edit history" in page
    # Oldest first, as text (escaped), with who edited.
    assert page.index("first &lt;b&gt;draft&lt;/b&gt;") < page.index("second draft")
    assert "alice" in page
    assert "<b>draft</b>" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["accounts_user", "rooms_room", "rooms_membership", "rooms_message"]
)
def test_when_a_non_staff_user_opens_the_admin_then_they_are_sent_to_its_login(name):
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse(f"admin:{name}_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_when_staff_add_a_room_in_the_admin_then_it_is_made_by_the_service(
    admin_client, admin_user
):
    response = admin_client.post(
        reverse("admin:rooms_room_add"),
        {"name": "Board Games", "topic": "dice", "kind": "public"},
    )

    assert response.status_code == 302
    room = Room.objects.get(name="Board Games")
    assert room.slug == "board-games"
    assert Membership.objects.get(room=room).user == admin_user


@pytest.mark.django_db(transaction=True)
async def test_when_staff_make_a_room_private_in_the_admin_then_readers_are_cut_off_live(
    admin_client,
):
    room = await database_sync_to_async(RoomFactory)(name="Open house")
    reader = await database_sync_to_async(UserFactory)()
    socket = await realtime.connect(reader)
    await realtime.receive_until(socket, "hello")
    await realtime.send(socket, {"type": "resume", "rooms": {room.slug: 0}})
    await realtime.receive_until(socket, "messages")

    response = await database_sync_to_async(admin_client.post)(
        reverse("admin:rooms_room_change", args=[room.pk]),
        {"name": "Open house", "topic": "", "kind": "private"},
    )

    assert response.status_code == 302
    assert (await realtime.receive_until(socket, "room_private"))["room"] == room.slug
    stored = await database_sync_to_async(Room.objects.get)(pk=room.pk)
    assert stored.kind == Room.Kind.PRIVATE
    await socket.disconnect()


@pytest.mark.django_db
def test_when_staff_edit_rooms_in_the_admin_then_no_room_becomes_a_dm_nor_a_dm_a_room(
    admin_client,
):
    room = RoomFactory(kind=Room.Kind.PUBLIC)
    dm = RoomFactory(kind=Room.Kind.DIRECT)

    refused = admin_client.post(
        reverse("admin:rooms_room_change", args=[room.pk]),
        {"name": room.name, "topic": "", "kind": "direct"},
    )
    admin_client.post(
        reverse("admin:rooms_room_change", args=[dm.pk]),
        {"name": dm.name, "topic": "", "kind": "public"},
    )

    assert refused.status_code == 200  # the form again, with its error
    assert "kind" in refused.context["adminform"].form.errors
    assert Room.objects.get(pk=room.pk).kind == Room.Kind.PUBLIC
    assert Room.objects.get(pk=dm.pk).kind == Room.Kind.DIRECT


@pytest.mark.django_db
def test_when_staff_remove_a_membership_in_the_admin_then_it_is_left_through_the_service(
    admin_client,
):
    room = RoomFactory()
    owner = member(room, role=Membership.Role.OWNER)
    other = member(room)
    membership = Membership.objects.get(user=owner, room=room)

    response = admin_client.post(
        reverse("admin:rooms_membership_delete", args=[membership.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Membership.objects.filter(user=owner, room=room).exists()
    # The service handed ownership on, which a plain row delete would not.
    assert Membership.objects.get(user=other, room=room).role == Membership.Role.OWNER


# --- deleting messages goes through the service, live -------------------------------------


@database_sync_to_async
def room_with_message():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    return room, alice, bob, send(room, alice, "out of line")


async def assert_deleted_live(socket, room, message, admin_user):
    assert await realtime.receive(socket, 10) == {
        "type": "message_deleted",
        "room": room.slug,
        "id": message.pk,
        "seq": message.seq,
        "change": 1,
    }
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert stored.deleted_at is not None
    assert stored.deleted_by_id == admin_user.pk
    assert stored.body == "out of line"  # the row stays, for the record


@pytest.mark.django_db(transaction=True)
async def test_when_staff_delete_a_message_from_its_page_then_soft_deleted_and_live(
    admin_client, admin_user
):
    room, alice, bob, message = await room_with_message()
    socket = await realtime.connect(bob)
    assert (await realtime.receive(socket, 10))["type"] == "hello"

    url = reverse("admin:rooms_message_delete", args=[message.pk])
    confirm = await database_sync_to_async(admin_client.get)(url)
    response = await database_sync_to_async(admin_client.post)(url, {"post": "yes"})

    assert confirm.status_code == 200
    assert response.status_code == 302
    await assert_deleted_live(socket, room, message, admin_user)
    assert await database_sync_to_async(Message.objects.count)() == 1
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_when_staff_bulk_delete_messages_then_each_is_soft_deleted_and_live(
    admin_client, admin_user
):
    room, alice, bob, message = await room_with_message()
    second = await database_sync_to_async(send)(room, alice, "also out of line")
    socket = await realtime.connect(bob)
    assert (await realtime.receive(socket, 10))["type"] == "hello"

    response = await database_sync_to_async(admin_client.post)(
        reverse("admin:rooms_message_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [message.pk, second.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    frames = [await realtime.receive(socket, 10), await realtime.receive(socket, 10)]
    assert sorted(f["seq"] for f in frames) == [1, 2]
    assert {f["type"] for f in frames} == {"message_deleted"}
    stored = await database_sync_to_async(
        lambda: list(Message.objects.values_list("deleted_by_id", flat=True))
    )()
    assert stored == [admin_user.pk, admin_user.pk]
    await socket.disconnect()


@pytest.mark.django_db
def test_when_staff_look_at_the_user_admin_then_display_names_are_editable(
    admin_client,
):
    user = UserFactory(display_name="Old Name")

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assert "display_name" in response.context["adminform"].form.fields
