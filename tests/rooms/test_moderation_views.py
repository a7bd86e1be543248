"""Moderation from the chat's pages: a message's menu (report, delete with a reason),
the members page (mute, ban, lift a ban), and what the muted, banned and locked-out see."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from rooms import moderation, services
from rooms.models import Membership, Message, ModerationLog, Report, Room, RoomBan
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def room():
    return RoomFactory(name="Lounge", slug="lounge")


@pytest.fixture
def mod(room):
    return member(room, role=Membership.Role.MODERATOR)


@pytest.fixture
def alice(room):
    return member(room)


@pytest.fixture
def bob(room):
    return member(room)


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, room) -> str:
    response = as_(user).get(reverse("rooms:detail", args=[room.slug]))
    assert response.status_code == 200
    return response.content.decode()


# --- a message's menu --------------------------------------------------------------------


def test_a_moderator_deletes_a_message_from_its_menu_with_a_reason(room, mod, alice):
    message = send(room, alice, "spam")

    response = as_(mod).post(
        reverse("rooms:message_delete", args=[room.slug, message.pk]),
        {"reason": "spam"},
        **JSON,
    )

    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "Message deleted."}
    assert Message.objects.get(pk=message.pk).deleted_by == mod
    assert ModerationLog.objects.get().reason == "spam"


def test_an_ordinary_member_cannot_delete_someone_elses_message(room, alice, bob):
    message = send(room, alice)

    response = as_(bob).post(
        reverse("rooms:message_delete", args=[room.slug, message.pk]),
        {"reason": "x"},
        **JSON,
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Message.objects.get(pk=message.pk).deleted_at is None


def test_outsiders_get_404_for_messages_of_a_private_room():
    private = RoomFactory(kind=Room.Kind.PRIVATE)
    message = send(private, member(private))
    outsider = as_(UserFactory())

    for name in ("rooms:message_delete", "rooms:message_report"):
        url = reverse(name, args=[private.slug, message.pk])
        assert outsider.post(url, {"reason": "x"}, **JSON).status_code == 404
    assert not Report.objects.exists()


def test_a_message_of_another_room_is_not_found_through_this_one(room, mod):
    elsewhere = RoomFactory()
    message = send(elsewhere, member(elsewhere))

    response = as_(mod).post(
        reverse("rooms:message_delete", args=[room.slug, message.pk]), **JSON
    )

    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).deleted_at is None


def test_a_member_reports_a_message_from_its_menu(room, alice, bob):
    message = send(room, alice, "rude")

    response = as_(bob).post(
        reverse("rooms:message_report", args=[room.slug, message.pk]),
        {"reason": "rude"},
        **JSON,
    )

    assert response.status_code == 200
    assert response.json()["ok"] is True
    report = Report.objects.get()
    assert (report.reporter, report.message, report.reason) == (bob, message, "rude")


@pytest.mark.rate_limits
def test_reports_too_fast_get_429_with_retry_after(room, alice, bob, settings):
    burst, _ = settings.CHAT_RATE_LIMITS["report"]
    client = as_(bob)
    answers = [
        client.post(
            reverse("rooms:message_report", args=[room.slug, send(room, alice).pk]),
            {"reason": "r"},
            **JSON,
        )
        for _ in range(burst + 1)
    ]

    assert [a.status_code for a in answers] == [200] * burst + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert answers[-1].json()["error"]["retry_after"] > 0


def test_the_room_page_offers_delete_only_to_moderators(room, mod, alice):
    assert "data-can-moderate" in page(mod, room)
    assert "data-can-moderate" not in page(alice, room)
    assert "moderation-menu-template" in page(alice, room)  # Report, for everyone


# --- the members page ----------------------------------------------------------------------


def test_a_moderator_mutes_a_member_for_an_hour_from_the_members_page(room, mod, alice):
    response = as_(mod).post(
        reverse("rooms:member_mute", args=[room.slug, alice.pk]),
        {"minutes": "60", "reason": "heated"},
        follow=True,
    )

    membership = Membership.objects.get(room=room, user=alice)
    assert membership.muted_reason == "heated"
    assert (
        timedelta(minutes=59)
        < membership.muted_until
        - ModerationLog.objects.get(action="member_mute").created_at
        <= timedelta(minutes=60)
    )
    html = response.content.decode()
    assert f"Muted {alice.shown_name}." in html
    assert "Muted until" in html
    assert f'aria-label="Unmute {alice.shown_name}"' in html


def test_the_members_page_shows_moderation_controls_to_moderators_only(
    room, mod, alice, bob
):
    url = reverse("rooms:members", args=[room.slug])

    for_mod = as_(mod).get(url).content.decode()
    for_member = as_(bob).get(url).content.decode()

    for label in (
        f"Mute {alice.shown_name} for 10 minutes",
        f"Mute {alice.shown_name} for 1 hour",
        f"Mute {alice.shown_name} for 1 day",
        f"Ban {alice.shown_name} from this room",
        f"Remove {alice.shown_name}",
    ):
        assert f'aria-label="{label}"' in for_mod
        assert label not in for_member


def test_a_moderator_bans_then_lifts_the_ban_from_the_members_page(room, mod, alice):
    client = as_(mod)

    banned = client.post(
        reverse("rooms:member_ban", args=[room.slug, alice.pk]),
        {"reason": "harassment"},
        follow=True,
    )

    assert not Membership.objects.filter(room=room, user=alice).exists()
    html = banned.content.decode()
    assert f"Banned {alice.shown_name} from this room." in html
    assert "harassment" in html
    assert f'aria-label="Lift the ban on {alice.shown_name}"' in html

    client.post(reverse("rooms:member_unban", args=[room.slug, alice.pk]))
    assert not RoomBan.objects.exists()


def test_a_ban_without_a_reason_is_refused_on_the_members_page(room, mod, alice):
    response = as_(mod).post(
        reverse("rooms:member_ban", args=[room.slug, alice.pk]), follow=True
    )

    assert "Give a reason." in response.content.decode()
    assert Membership.objects.filter(room=room, user=alice).exists()


def test_an_ordinary_member_cannot_mute_or_ban(room, alice, bob):
    client = as_(bob)
    for name, data in (
        ("rooms:member_mute", {"minutes": "10"}),
        ("rooms:member_ban", {}),
    ):
        response = client.post(
            reverse(name, args=[room.slug, alice.pk]),
            {**data, "reason": "r"},
            follow=True,
        )
        assert "Only the room" in response.content.decode()
    assert Membership.objects.get(room=room, user=alice).muted_until is None
    assert not RoomBan.objects.exists()


def test_removing_from_the_members_page_is_logged_with_its_reason(room, mod, alice):
    as_(mod).post(
        reverse("rooms:member_remove", args=[room.slug, alice.pk]), {"reason": "rude"}
    )

    log = ModerationLog.objects.get()
    assert (log.action, log.target_user, log.reason) == ("member_remove", alice, "rude")


# --- what the muted, banned and locked-out see --------------------------------------------


def test_a_muted_member_sees_why_and_until_when(room, mod, alice):
    moderation.membership_mute(
        actor=mod, room=room, user=alice, duration=timedelta(days=1), reason="flood"
    )
    until = Membership.objects.get(room=room, user=alice).muted_until

    html = page(alice, room)

    assert "You are muted in this room until" in html
    assert f'datetime="{until.isoformat()}"' in html
    assert "flood" in html


def test_someone_muted_site_wide_sees_it_in_every_room(room, alice):
    moderation.user_mute(
        actor=UserFactory(is_staff=True),
        user=alice,
        duration=timedelta(hours=1),
        reason="spam",
    )

    assert "You are muted everywhere until" in page(alice, room)


def test_a_locked_room_reads_as_read_only_to_members_but_not_moderators(
    room, mod, alice
):
    moderation.room_lock(actor=mod, room=room, reason="raid")

    for_member, for_mod = page(alice, room), page(mod, room)

    assert "This room is locked" in for_member
    assert "you can read it, but not post" in for_member
    assert "data-composer" not in for_member
    assert "As a moderator, you can still post." in for_mod
    assert "data-composer" in for_mod


def test_someone_banned_from_a_public_room_reads_why_and_cannot_join(room, mod, alice):
    moderation.membership_ban(actor=mod, room=room, user=alice, reason="harassment")
    client = as_(alice)

    html = page(alice, room)
    joined = client.post(reverse("rooms:join", args=[room.slug]), follow=True)

    assert "You were banned from this room by its moderators" in html
    assert "harassment" in html
    assert reverse("rooms:join", args=[room.slug]) not in html
    assert "banned" in joined.content.decode()
    assert not Membership.objects.filter(room=room, user=alice).exists()


def test_someone_banned_from_a_private_room_cannot_use_an_invite_link():
    owner, alice = UserFactory(), UserFactory()
    private = services.room_create(creator=owner, name="Den", kind=Room.Kind.PRIVATE)
    services.membership_add(actor=owner, room=private, username=alice.username)
    moderation.membership_ban(actor=owner, room=private, user=alice, reason="leaks")
    invite = services.invite_create(actor=owner, room=private)
    url = reverse("rooms:invite_accept", args=[invite.token])
    client = as_(alice)

    landing, accepted = client.get(url), client.post(url)

    assert landing.status_code == accepted.status_code == 403
    assert "banned you from it: leaks" in landing.content.decode()
    assert not Membership.objects.filter(room=private, user=alice).exists()
