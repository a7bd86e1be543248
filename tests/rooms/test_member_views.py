import pytest
from django.urls import reverse

from rooms import presence, services
from rooms.models import Invite, Membership, Room
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="olive")


@pytest.fixture
def room(owner):
    return services.room_create(creator=owner, name="Den", kind=Room.Kind.PRIVATE)


def test_creating_a_private_room_from_the_form_hides_it_from_the_list(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("rooms:list"), {"name": "Quiet corner", "private": "on"}
    )
    room = Room.objects.get(name="Quiet corner")
    assert room.kind == Room.Kind.PRIVATE
    assert response["Location"] == reverse("rooms:detail", args=[room.slug])
    client.force_login(UserFactory())
    assert b"Quiet corner" not in client.get(reverse("rooms:list")).content


def test_the_owner_adds_a_member_by_username_and_sees_them_listed(client, owner, room):
    bob = UserFactory(username="bob")
    client.force_login(owner)
    response = client.post(
        reverse("rooms:member_add", args=[room.slug]), {"username": "bob"}, follow=True
    )
    assert Membership.objects.filter(room=room, user=bob).exists()
    assert b"Added bob." in response.content
    assert b'data-member="bob"' in response.content


def test_adding_an_unknown_username_shows_the_error_and_changes_nothing(
    client, owner, room
):
    client.force_login(owner)
    response = client.post(
        reverse("rooms:member_add", args=[room.slug]),
        {"username": "ghost"},
        follow=True,
    )
    assert "There is no one called “ghost”.".encode() in response.content
    assert room.memberships.count() == 1


def test_a_member_cannot_manage_and_sees_no_controls(client, owner, room):
    bob = UserFactory()
    services.membership_add(actor=owner, room=room, username=bob.username)
    client.force_login(bob)
    page = client.get(reverse("rooms:members", args=[room.slug]))
    assert page.status_code == 200
    assert b"Add someone" not in page.content and b"Invite links" not in page.content
    response = client.post(
        reverse("rooms:member_remove", args=[room.slug, owner.pk]), follow=True
    )
    assert b"Only the room" in response.content
    assert room.memberships.filter(user=owner).exists()


def test_outsiders_get_404_from_every_members_url(client, owner, room):
    client.force_login(UserFactory())
    invite = services.invite_create(actor=owner, room=room)
    for name, args in [
        ("rooms:members", [room.slug]),
        ("rooms:member_add", [room.slug]),
        ("rooms:member_remove", [room.slug, owner.pk]),
        ("rooms:member_role", [room.slug, owner.pk]),
        ("rooms:invite_create", [room.slug]),
        ("rooms:invite_revoke", [room.slug, invite.pk]),
    ]:
        method = client.get if name == "rooms:members" else client.post
        assert method(reverse(name, args=args)).status_code == 404, name
    assert Invite.objects.get(pk=invite.pk).revoked_at is None


def test_an_invite_link_is_created_accepted_and_revoked_through_the_pages(
    client, owner, room
):
    client.force_login(owner)
    client.post(reverse("rooms:invite_create", args=[room.slug]))
    invite = Invite.objects.get(room=room)
    page = client.get(reverse("rooms:members", args=[room.slug]))
    assert reverse("rooms:invite_accept", args=[invite.token]).encode() in page.content

    guest = UserFactory()
    client.force_login(guest)
    landing = client.get(reverse("rooms:invite_accept", args=[invite.token]))
    assert b"Join #Den" in landing.content
    response = client.post(reverse("rooms:invite_accept", args=[invite.token]))
    assert response["Location"] == reverse("rooms:detail", args=[room.slug])
    assert room.memberships.filter(user=guest).exists()

    client.force_login(owner)
    client.post(reverse("rooms:invite_revoke", args=[room.slug, invite.pk]))
    client.force_login(UserFactory())
    dead = client.get(reverse("rooms:invite_accept", args=[invite.token]))
    assert dead.status_code == 404
    assert b"expired or was revoked" in dead.content
    assert (
        client.post(reverse("rooms:invite_accept", args=[invite.token])).status_code
        == 404
    )


def test_an_invite_link_needs_a_login_first(client, owner, room):
    invite = services.invite_create(actor=owner, room=room)
    response = client.get(reverse("rooms:invite_accept", args=[invite.token]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_last_owner_leaving_is_told_why_not(client, owner, room):
    client.force_login(owner)
    response = client.post(reverse("rooms:leave", args=[room.slug]), follow=True)
    assert b"You are the last member" in response.content
    assert room.memberships.filter(user=owner).exists()


def test_the_member_list_shows_who_is_online_away_or_offline(client, owner, room):
    bob, carol = UserFactory(username="bob"), UserFactory(username="carol")
    for person in (bob, carol):
        services.membership_add(actor=owner, room=room, username=person.username)
    presence.presence_connect(user_id=bob.pk, connection="bobs-tab-1")
    presence.presence_connect(user_id=carol.pk, connection="carols-tab")
    presence.presence_report(user_id=carol.pk, connection="carols-tab", status="away")
    client.force_login(owner)

    html = client.get(reverse("rooms:members", args=[room.slug])).content.decode()

    for person, status in ((bob, "online"), (carol, "away"), (owner, "offline")):
        assert (
            f'data-presence-user="{person.pk}" data-status="{status}" '
            f'title="{status.capitalize()}"'
        ) in html
        assert f"({status})" in html
