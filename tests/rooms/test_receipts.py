"""rooms.receipts: who has seen the newest message, in DMs and small rooms."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from rooms import receipts, services
from rooms.models import Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = pytest.mark.django_db


def positions(room: Room) -> dict[str, int]:
    found = receipts.room_receipts(room=room)
    return {entry["user"]["username"]: entry["seq"] for entry in found["read"]}


def test_when_members_read_then_their_positions_make_the_receipts(settings):
    room = RoomFactory()
    alice = member(room, UserFactory(username="alice"))
    bob = member(room, UserFactory(username="bob"))
    send(room, alice, "one")
    send(room, alice, "two")

    services.membership_mark_read(user=bob, room=room, seq=1)

    assert receipts.room_receipts(room=room)["members"] == 2
    assert positions(room) == {"alice": 2, "bob": 1}


def test_when_a_room_is_bigger_than_the_limit_then_it_has_no_receipts(settings):
    settings.CHAT_RECEIPTS_MAX_MEMBERS = 2
    room = RoomFactory()
    member(room)
    member(room)
    assert receipts.room_receipts(room=room) is not None

    member(room)

    assert receipts.room_receipts(room=room) is None
    assert not receipts.receipts_apply(room=room)


def test_when_a_dm_is_bigger_than_the_limit_then_it_still_has_receipts(settings):
    settings.CHAT_RECEIPTS_MAX_MEMBERS = 1
    alice, bob = UserFactory(), UserFactory()

    room = services.dm_open(user=alice, usernames=[bob.username])

    assert receipts.receipts_apply(room=room)


def test_when_someone_does_not_share_receipts_then_they_never_appear():
    room = RoomFactory()
    member(room, UserFactory(username="alice"))
    private = member(room, UserFactory(username="quiet", share_read_receipts=False))
    send(room, private, "hi")

    assert positions(room) == {"alice": 0}
    assert receipts.room_receipts(room=room)["members"] == 2


def test_when_sharing_is_turned_off_on_the_profile_then_it_is_stored_and_shown():
    user = UserFactory(username="alice")
    room = RoomFactory()
    member(room, user)
    client = Client()
    client.force_login(user)

    page = client.get(reverse("profile"))
    response = client.post(
        reverse("profile"), {"display_name": "Alice"}
    )  # an unticked checkbox is absent

    assert b"Share read receipts" in page.content
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.share_read_receipts is False
    assert positions(room) == {}


def test_when_the_profile_is_saved_without_the_setting_then_sharing_is_unchanged():
    user = UserFactory(share_read_receipts=False)

    account_services.user_update_profile(user=user, display_name="New")

    user.refresh_from_db()
    assert (user.display_name, user.share_read_receipts) == ("New", False)


def test_when_a_non_member_opens_a_small_public_room_then_the_page_has_no_receipts():
    room = RoomFactory()
    member(room, UserFactory(username="alice"))
    outsider = UserFactory()
    client = Client()
    client.force_login(outsider)

    response = client.get(reverse("rooms:detail", args=[room.slug]))

    assert response.status_code == 200
    assert response.context["client_state"]["receipts"] is None
    assert (
        b"alice"
        not in response.content.split(b'id="client-state"')[1].split(b"</script>")[0]
    )


def test_when_a_member_opens_a_small_room_then_the_page_carries_the_receipts():
    room = RoomFactory()
    alice = member(room, UserFactory(username="alice"))
    client = Client()
    client.force_login(alice)

    response = client.get(reverse("rooms:detail", args=[room.slug]))

    state = response.context["client_state"]
    assert state["receipts"]["members"] == 1
    assert [e["user"]["username"] for e in state["receipts"]["read"]] == ["alice"]
