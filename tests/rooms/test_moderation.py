"""rooms.moderation: who may moderate what, what each act changes and publishes, and
the one ModerationLog row every act writes."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from rooms import events, moderation, services
from rooms.errors import Banned, Forbidden, InvalidInput, Muted, NotFound, RateLimited
from rooms.models import Membership, Message, ModerationLog, Report, Room, RoomBan
from tests.factories import PASSWORD, RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]

Action = ModerationLog.Action
HOUR = timedelta(hours=1)


@dataclass
class Published:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (group, payload)
            for group, payload in self.events
            if payload["type"] == kind
        ]


@pytest.fixture
def published(monkeypatch) -> Published:
    """What services publish once their transaction commits, as JSON (so a payload that
    cannot be serialized fails here)."""
    record = Published()

    def publish_on_commit(group, payload, **routing):
        text = events.encode(payload)
        transaction.on_commit(lambda: record.events.append((group, json.loads(text))))

    monkeypatch.setattr(events, "publish_on_commit", publish_on_commit)
    return record


@pytest.fixture
def room():
    return RoomFactory()


@pytest.fixture
def owner(room):
    return member(room, role=Membership.Role.OWNER)


@pytest.fixture
def mod(room):
    return member(room, role=Membership.Role.MODERATOR)


@pytest.fixture
def alice(room):
    return member(room)


@pytest.fixture
def bob(room):
    return member(room)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def log_rows() -> list[tuple]:
    return list(
        ModerationLog.objects.order_by("pk").values_list(
            "actor", "action", "target_user", "room", "message", "reason"
        )
    )


def stored(room: Room) -> tuple[int, int]:
    room.refresh_from_db()
    return Message.objects.filter(room=room).count(), room.last_seq


def try_send(room: Room, author: User, body: str = "hi"):
    return services.message_send(
        author=author, room=room, body=body, client_id=uuid.uuid4()
    )


# --- deleting and restoring messages -----------------------------------------------------


def test_when_a_moderator_deletes_someone_elses_message_then_one_log_row_has_the_reason(
    room, mod, alice, published, django_capture_on_commit_callbacks
):
    message = send(room, alice, "spam spam")

    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete(actor=mod, message=message, reason="  spam,\n links ")

    assert Message.objects.get(pk=message.pk).deleted_by == mod
    assert log_rows() == [
        (mod.pk, Action.MESSAGE_DELETE, alice.pk, room.pk, message.pk, "spam, links")
    ]
    assert ModerationLog.objects.get().details == {"seq": message.seq}
    assert [p for _, p in published.of_type("message_deleted")] == [
        {
            "type": "message_deleted",
            "room": room.slug,
            "id": message.pk,
            "seq": 1,
            "change": 1,
        }
    ]


def test_when_authors_delete_their_own_message_then_it_is_not_moderation(room, alice):
    services.message_delete(actor=alice, message=send(room, alice))

    assert log_rows() == []


def test_when_a_message_is_deleted_twice_then_one_log_row(room, mod, alice):
    message = send(room, alice)
    services.message_delete(actor=mod, message=message, reason="once")
    services.message_delete(actor=mod, message=message, reason="twice")

    assert [row[-1] for row in log_rows()] == ["once"]


def test_when_an_ordinary_member_deletes_someone_elses_message_then_refused(
    room, alice, bob
):
    message = send(room, alice)

    with pytest.raises(Forbidden):
        services.message_delete(actor=bob, message=message, reason="I dislike it")

    assert Message.objects.get(pk=message.pk).deleted_at is None
    assert log_rows() == []


def test_when_staff_restore_a_message_then_it_is_back_live_and_logged(
    room, alice, staff, published, django_capture_on_commit_callbacks
):
    message = send(room, alice, "not spam after all")
    services.message_delete(actor=staff, message=message, reason="looked like spam")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.message_restore(actor=staff, message=message, reason="my mistake")

    message.refresh_from_db()
    assert message.deleted_at is None and message.deleted_by is None
    assert [row[1] for row in log_rows()] == [
        Action.MESSAGE_DELETE,
        Action.MESSAGE_RESTORE,
    ]
    assert log_rows()[-1][-1] == "my mistake"
    [(group, event)] = published.of_type("message_edited")
    assert group == events.room_group(room.pk)
    assert event["message"]["body"] == "not spam after all"
    assert event["message"]["deleted"] is False


def test_when_a_member_restores_a_message_then_refused(room, mod, alice, bob):
    message = send(room, alice)
    services.message_delete(actor=mod, message=message, reason="r")

    with pytest.raises(Forbidden):
        moderation.message_restore(actor=bob, message=message)

    assert Message.objects.get(pk=message.pk).deleted_at is not None


# --- site-wide mute and ban (staff) -------------------------------------------------------


def test_when_staff_mute_someone_then_their_send_is_refused_with_until_and_nothing_stored(
    room, alice, staff, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.user_mute(actor=staff, user=alice, duration=HOUR, reason="flooding")
    before = stored(room)

    with pytest.raises(Muted) as refused:
        try_send(room, alice)

    assert refused.value.code == "muted"
    until = User.objects.get(pk=alice.pk).muted_until
    assert refused.value.details() == {"until": until.isoformat(), "reason": "flooding"}
    assert "flooding" in refused.value.message and "everywhere" in refused.value.message
    assert stored(room) == before
    assert log_rows() == [
        (staff.pk, Action.USER_MUTE, alice.pk, None, None, "flooding")
    ]
    assert published.of_type("muted") == [
        (
            events.user_group(alice.pk),
            {
                "type": "muted",
                "room": None,
                "until": until.isoformat(),
                "reason": "flooding",
            },
        )
    ]


def test_when_a_mute_has_run_out_or_is_lifted_then_sending_works(room, alice, staff):
    moderation.user_mute(actor=staff, user=alice, duration=HOUR, reason="r")
    User.objects.filter(pk=alice.pk).update(muted_until=timezone.now())
    try_send(room, alice, "time served")

    moderation.user_mute(actor=staff, user=alice, duration=HOUR, reason="r")
    moderation.user_unmute(actor=staff, user=alice, reason="apologised")
    try_send(room, alice, "unmuted")

    assert [row[1] for row in log_rows()] == [
        Action.USER_MUTE,
        Action.USER_MUTE,
        Action.USER_UNMUTE,
    ]


def test_when_a_muted_person_edits_or_reacts_then_refused_too(room, alice, staff):
    message = send(room, alice, "before")
    moderation.user_mute(actor=staff, user=alice, duration=HOUR, reason="r")

    with pytest.raises(Muted):
        services.message_edit(actor=alice, message=message, body="after")
    with pytest.raises(Muted):
        services.reaction_set(user=alice, message=message, emoji="👍", on=True)


@pytest.mark.parametrize(
    "act",
    [
        lambda actor, user: moderation.user_mute(
            actor=actor, user=user, duration=HOUR, reason="r"
        ),
        lambda actor, user: moderation.user_ban(actor=actor, user=user, reason="r"),
    ],
    ids=["mute", "ban"],
)
def test_who_may_mute_and_ban_site_wide(act):
    ordinary, target = UserFactory(), UserFactory()
    staff, other_staff = UserFactory(is_staff=True), UserFactory(is_staff=True)
    superuser = UserFactory(is_staff=True, is_superuser=True)

    with pytest.raises(Forbidden):
        act(ordinary, target)  # not staff
    with pytest.raises(Forbidden):
        act(staff, other_staff)  # staff on staff: superusers only
    with pytest.raises(InvalidInput):
        act(staff, staff)  # not yourself
    act(staff, target)
    act(superuser, other_staff)

    assert {row[2] for row in log_rows()} == {target.pk, other_staff.pk}


def test_when_a_mute_is_out_of_bounds_or_has_no_reason_then_refused(alice, staff):
    for duration in (timedelta(0), timedelta(days=400)):
        with pytest.raises(InvalidInput):
            moderation.user_mute(actor=staff, user=alice, duration=duration, reason="r")
    with pytest.raises(InvalidInput) as no_reason:
        moderation.user_mute(actor=staff, user=alice, duration=HOUR, reason="  ")
    assert no_reason.value.code == "reason_required"
    assert User.objects.get(pk=alice.pk).muted_until is None
    assert log_rows() == []


def test_when_staff_ban_an_account_then_it_is_closed_logged_and_told(
    alice, staff, published, django_capture_on_commit_callbacks
):
    session = Client()
    session.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        moderation.user_ban(actor=staff, user=alice, reason="abuse")

    assert User.objects.get(pk=alice.pk).is_active is False
    assert log_rows() == [(staff.pk, Action.USER_BAN, alice.pk, None, None, "abuse")]
    assert published.of_type("signed_out") == [
        (
            events.user_group(alice.pk),
            {
                "type": "signed_out",
                "reason": "account_closed",
                "message": "This account has been closed.",
                "detail": "abuse",
            },
        )
    ]
    # Their session no longer counts, and the password no longer lets them in.
    assert session.get(reverse("rooms:home"))["Location"].startswith(reverse("login"))
    response = Client().post(
        reverse("login"), {"username": alice.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_when_staff_lift_a_ban_then_the_person_can_log_in_again(alice, staff):
    moderation.user_ban(actor=staff, user=alice, reason="abuse")
    moderation.user_unban(actor=staff, user=alice, reason="appeal accepted")

    response = Client().post(
        reverse("login"), {"username": alice.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).is_active is True
    assert [row[1] for row in log_rows()] == [Action.USER_BAN, Action.USER_UNBAN]


# --- locked rooms ----------------------------------------------------------------------


def test_when_a_room_is_locked_then_members_cannot_post_but_moderators_can(
    room, mod, alice, staff, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.room_lock(actor=staff, room=room, reason="raid")
    before = stored(room)

    with pytest.raises(Forbidden) as refused:
        try_send(room, alice)

    assert refused.value.code == "locked"
    assert stored(room) == before
    try_send(room, mod, "we are looking into it")
    assert log_rows() == [(staff.pk, Action.ROOM_LOCK, None, room.pk, None, "raid")]
    assert published.of_type("room_locked") == [
        (
            events.room_group(room.pk),
            {"type": "room_locked", "room": room.slug, "locked": True},
        )
    ]

    moderation.room_unlock(actor=staff, room=room)
    try_send(room, alice, "back")
    assert log_rows()[-1][1] == Action.ROOM_UNLOCK


def test_when_a_locked_room_is_locked_again_then_nothing_more_is_logged(room, mod):
    moderation.room_lock(actor=mod, room=room, reason="raid")
    moderation.room_lock(actor=mod, room=room, reason="raid again")

    assert len(log_rows()) == 1


def test_who_may_lock_and_archive_a_room(room, owner, mod, alice, staff):
    with pytest.raises(Forbidden):
        moderation.room_lock(actor=alice, room=room, reason="r")
    with pytest.raises(Forbidden):
        moderation.room_archive(actor=owner, room=room, reason="r")  # staff only
    moderation.room_lock(actor=owner, room=room, reason="r")
    moderation.room_archive(actor=staff, room=room, reason="done")

    room.refresh_from_db()
    assert room.is_locked and room.is_archived
    assert [row[1] for row in log_rows()] == [Action.ROOM_LOCK, Action.ROOM_ARCHIVE]


# --- in a room: mute, remove, ban (owner and moderators) --------------------------------


def test_when_a_moderator_mutes_a_member_then_their_send_here_is_refused(
    room, mod, alice, published, django_capture_on_commit_callbacks
):
    other_room = RoomFactory()
    member(other_room, alice)

    with django_capture_on_commit_callbacks(execute=True):
        moderation.membership_mute(
            actor=mod, room=room, user=alice, duration=HOUR, reason="calm down"
        )

    with pytest.raises(Muted) as refused:
        try_send(room, alice)
    assert "in this room" in refused.value.message
    assert refused.value.details()["reason"] == "calm down"
    try_send(other_room, alice, "elsewhere is fine")
    assert log_rows() == [
        (mod.pk, Action.MEMBER_MUTE, alice.pk, room.pk, None, "calm down")
    ]
    [(group, event)] = published.of_type("muted")
    assert group == events.user_group(alice.pk) and event["room"] == room.slug


def test_when_a_member_is_unmuted_then_they_post_again(room, mod, alice):
    moderation.membership_mute(
        actor=mod, room=room, user=alice, duration=HOUR, reason=""
    )
    moderation.membership_unmute(actor=mod, room=room, user=alice)

    try_send(room, alice)
    assert [row[1] for row in log_rows()] == [
        Action.MEMBER_MUTE,
        Action.MEMBER_UNMUTE,
    ]


def test_who_may_mute_whom_in_a_room(room, owner, mod, alice, bob, staff):
    other_mod = member(room, role=Membership.Role.MODERATOR)

    def mute(actor, user):
        moderation.membership_mute(
            actor=actor, room=room, user=user, duration=HOUR, reason="r"
        )

    with pytest.raises(Forbidden):
        mute(alice, bob)  # an ordinary member cannot moderate
    with pytest.raises(Forbidden):
        mute(mod, other_mod)  # a moderator acts on members only
    with pytest.raises(Forbidden):
        mute(mod, owner)  # no one acts on the owner
    with pytest.raises(Forbidden):
        mute(staff, owner)
    with pytest.raises(InvalidInput):
        mute(mod, mod)
    with pytest.raises(NotFound):
        moderation.membership_mute(
            actor=UserFactory(),
            room=RoomFactory(kind=Room.Kind.PRIVATE),
            user=alice,
            duration=HOUR,
            reason="r",
        )
    mute(mod, alice)
    mute(owner, other_mod)
    mute(staff, bob)  # staff act on any room from the admin

    assert [(row[0], row[2]) for row in log_rows()] == [
        (mod.pk, alice.pk),
        (owner.pk, other_mod.pk),
        (staff.pk, bob.pk),
    ]


def test_when_a_moderator_removes_a_member_then_logged_and_they_may_rejoin(
    room, mod, alice, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.membership_remove(
            actor=mod, room=room, user=alice, reason="cool off"
        )

    assert not Membership.objects.filter(room=room, user=alice).exists()
    assert log_rows() == [
        (mod.pk, Action.MEMBER_REMOVE, alice.pk, room.pk, None, "cool off")
    ]
    assert published.of_type("room_left") == [
        (events.user_group(alice.pk), {"type": "room_left", "room": room.slug})
    ]
    services.membership_join(user=alice, room=room)


def test_when_a_moderator_bans_a_member_then_they_are_out_and_cannot_come_back(
    room, owner, mod, alice, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        moderation.membership_ban(actor=mod, room=room, user=alice, reason="harassment")

    assert not Membership.objects.filter(room=room, user=alice).exists()
    assert published.of_type("room_left") == [
        (events.user_group(alice.pk), {"type": "room_left", "room": room.slug})
    ]
    with pytest.raises(Banned) as refused:
        services.membership_join(user=alice, room=room)
    assert refused.value.code == "banned"
    assert "harassment" in refused.value.message
    with pytest.raises(Banned):
        services.membership_add(actor=owner, room=room, username=alice.username)
    assert not Membership.objects.filter(room=room, user=alice).exists()
    assert log_rows() == [
        (mod.pk, Action.MEMBER_BAN, alice.pk, room.pk, None, "harassment")
    ]


def test_when_someone_banned_from_a_private_room_opens_an_invite_then_refused(owner):
    private = services.room_create(creator=owner, name="Den", kind=Room.Kind.PRIVATE)
    services.membership_add(actor=owner, room=private, username=UserFactory().username)
    alice = UserFactory()
    services.membership_add(actor=owner, room=private, username=alice.username)
    moderation.membership_ban(actor=owner, room=private, user=alice, reason="leaks")
    invite = services.invite_create(actor=owner, room=private)

    with pytest.raises(Banned):
        services.invite_accept(user=alice, token=invite.token)

    assert not Membership.objects.filter(room=private, user=alice).exists()


def test_when_a_ban_is_lifted_then_they_may_rejoin(room, mod, alice):
    moderation.membership_ban(actor=mod, room=room, user=alice, reason="r")
    moderation.membership_unban(
        actor=mod, room=room, user=alice, reason="second chance"
    )

    services.membership_join(user=alice, room=room)
    assert not RoomBan.objects.exists()
    assert [row[1] for row in log_rows()] == [Action.MEMBER_BAN, Action.MEMBER_UNBAN]


def test_a_ban_needs_a_reason_and_an_ordinary_member_cannot_ban(room, mod, alice, bob):
    with pytest.raises(InvalidInput):
        moderation.membership_ban(actor=mod, room=room, user=alice, reason="")
    with pytest.raises(Forbidden):
        moderation.membership_ban(actor=bob, room=room, user=alice, reason="r")

    assert Membership.objects.filter(room=room, user=alice).exists()
    assert not RoomBan.objects.exists() and log_rows() == []


def test_a_direct_message_has_no_moderators(alice, bob, staff):
    dm = services.dm_open(user=alice, usernames=[bob.username])

    with pytest.raises(Forbidden):
        moderation.membership_ban(actor=alice, room=dm, user=bob, reason="r")
    with pytest.raises(InvalidInput):
        moderation.membership_ban(actor=staff, room=dm, user=bob, reason="r")


# --- reports ------------------------------------------------------------------------------


def test_when_a_member_reports_a_message_then_it_queues_once(room, alice, bob):
    message = send(room, alice, "rude")

    report = moderation.report_create(reporter=bob, message=message, reason=" rude ")
    again = moderation.report_create(reporter=bob, message=message, reason="still")

    assert again == report
    assert (report.reporter, report.message, report.reason) == (bob, message, "rude")
    assert report.resolved_at is None
    assert log_rows() == []  # reporting is not moderation; resolving is


def test_what_cannot_be_reported(room, alice, bob):
    mine = send(room, alice)
    with pytest.raises(InvalidInput):
        moderation.report_create(reporter=alice, message=mine, reason="r")
    with pytest.raises(InvalidInput):
        moderation.report_create(reporter=bob, message=mine, reason="")
    mine = services.message_delete(actor=alice, message=mine)
    with pytest.raises(InvalidInput):
        moderation.report_create(reporter=bob, message=mine, reason="r")
    private = RoomFactory(kind=Room.Kind.PRIVATE)
    secret = send(private, member(private))
    with pytest.raises(NotFound):
        moderation.report_create(reporter=bob, message=secret, reason="r")
    assert not Report.objects.exists()


@pytest.mark.rate_limits
def test_when_someone_reports_too_fast_then_rate_limited(room, alice, bob, settings):
    burst, _ = settings.CHAT_RATE_LIMITS["report"]
    messages = [send(room, alice, f"m{n}") for n in range(burst + 1)]
    for message in messages[:burst]:
        moderation.report_create(reporter=bob, message=message, reason="r")

    with pytest.raises(RateLimited):
        moderation.report_create(reporter=bob, message=messages[-1], reason="r")

    assert Report.objects.count() == burst


def test_when_staff_resolve_a_report_then_it_is_closed_and_logged_once(
    room, alice, bob, staff
):
    message = send(room, alice, "rude")
    report = moderation.report_create(reporter=bob, message=message, reason="rude")

    with pytest.raises(Forbidden):
        moderation.report_resolve(actor=bob, report=report, resolution="fine")
    moderation.report_resolve(actor=staff, report=report, resolution="warned them")
    moderation.report_resolve(actor=staff, report=report, resolution="again")

    report.refresh_from_db()
    assert (report.resolved_by, report.resolution) == (staff, "warned them")
    assert log_rows() == [
        (staff.pk, Action.REPORT_RESOLVE, alice.pk, room.pk, message.pk, "warned them")
    ]
    assert ModerationLog.objects.get().details == {
        "report": report.pk,
        "reporter": bob.pk,
    }


def test_acts_that_would_change_nothing_are_refused_and_not_logged(
    room, mod, alice, staff
):
    moderation.user_ban(actor=staff, user=alice, reason="abuse")
    with pytest.raises(InvalidInput):
        moderation.user_ban(actor=staff, user=alice, reason="abuse again")
    bob = UserFactory()
    with pytest.raises(InvalidInput):
        moderation.user_unban(actor=staff, user=bob)
    with pytest.raises(InvalidInput):
        moderation.user_unmute(actor=staff, user=bob)
    with pytest.raises(InvalidInput):
        moderation.membership_unmute(actor=mod, room=room, user=member(room))

    assert [row[1] for row in log_rows()] == [Action.USER_BAN]
