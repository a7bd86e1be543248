"""Moderation from the Django admin: actions on many rows at once with a reason, the
report queue, and a moderation log that no one can edit or delete there."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from rooms import moderation, services
from rooms.models import Membership, Message, ModerationLog, Report, Room, RoomBan
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]

Action = ModerationLog.Action


def run_action(client, changelist: str, action: str, rows, **fields):
    return client.post(
        reverse(f"admin:{changelist}_changelist"),
        {"action": action, "_selected_action": [row.pk for row in rows], **fields},
        follow=True,
    )


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def actions() -> list[tuple]:
    rows = ModerationLog.objects.order_by("pk")
    return list(rows.values_list("action", "target_user", "room", "reason"))


# --- the moderation log: visible, filterable, never editable -----------------------------


@pytest.fixture
def logged(admin_user):
    room = RoomFactory()
    alice = member(room)
    moderation.room_lock(actor=admin_user, room=room, reason="raid")
    moderation.user_mute(
        actor=admin_user,
        user=alice,
        duration=timezone.timedelta(hours=1),
        reason="spam",
    )
    return ModerationLog.objects.order_by("pk")


def test_staff_see_and_filter_the_moderation_log(admin_client, logged):
    url = reverse("admin:rooms_moderationlog_changelist")

    everything = admin_client.get(url)
    muted = admin_client.get(url, {"action__exact": "user_mute"})
    searched = admin_client.get(url, {"q": "raid"})

    assert everything.status_code == 200
    assert len(everything.context["cl"].result_list) == 2
    assert [row.action for row in muted.context["cl"].result_list] == ["user_mute"]
    assert [row.reason for row in searched.context["cl"].result_list] == ["raid"]


def test_the_log_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    admin_client, admin_user, logged
):
    assert admin_user.is_superuser
    entry = logged.first()
    change = reverse("admin:rooms_moderationlog_change", args=[entry.pk])

    page = admin_client.get(change)
    edited = admin_client.post(change, {"reason": "nothing happened", "action": "x"})
    deleted = admin_client.post(
        reverse("admin:rooms_moderationlog_delete", args=[entry.pk]), {"post": "yes"}
    )
    added = admin_client.get(reverse("admin:rooms_moderationlog_add"))
    bulk = admin_client.post(
        reverse("admin:rooms_moderationlog_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    # The change page is a read-only view: no form fields, no save button.
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}
    assert not page.context["has_change_permission"]
    assert b'name="_save"' not in page.content
    assert edited.status_code == 403
    assert deleted.status_code == 403
    assert added.status_code == 403
    assert bulk.status_code in {200, 302}
    assert ModerationLog.objects.count() == 2
    entry.refresh_from_db()
    assert entry.reason == "raid"


# --- messages ------------------------------------------------------------------------------


def test_staff_delete_several_messages_with_one_reason_and_each_is_logged(
    admin_client, admin_user
):
    room = RoomFactory()
    alice = member(room)
    first, second = send(room, alice, "spam 1"), send(room, alice, "spam 2")
    url = reverse("admin:rooms_message_changelist")
    selected = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}

    confirm = admin_client.post(url, {**selected, "reason": "spam wave"})
    response = admin_client.post(
        url, {**selected, "post": "yes", "reason": "spam wave"}
    )

    assert b'name="reason"' in confirm.content and b"spam wave" in confirm.content
    assert response.status_code == 302
    assert Message.objects.filter(deleted_at__isnull=False).count() == 2
    assert Message.objects.count() == 2  # soft: the rows stay
    assert actions() == [
        (Action.MESSAGE_DELETE, alice.pk, room.pk, "spam wave"),
        (Action.MESSAGE_DELETE, alice.pk, room.pk, "spam wave"),
    ]


def test_a_reported_message_can_still_be_deleted_from_its_page(admin_client):
    room = RoomFactory()
    alice, bob = member(room), member(room)
    message = send(room, alice, "rude")
    moderation.report_create(reporter=bob, message=message, reason="rude")
    url = reverse("admin:rooms_message_delete", args=[message.pk])

    page = admin_client.get(url)
    admin_client.post(url, {"post": "yes", "reason": "rude"})

    assert page.status_code == 200 and b'name="reason"' in page.content
    assert Message.objects.get(pk=message.pk).deleted_at is not None
    assert Report.objects.count() == 1


def test_staff_restore_deleted_messages(admin_client, admin_user):
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)
    services.message_delete(actor=admin_user, message=message, reason="oops")

    response = run_action(
        admin_client, "rooms_message", "restore", [message], reason="not spam"
    )

    assert Message.objects.get(pk=message.pk).deleted_at is None
    assert "Restored: 1." in shown_messages(response)
    assert actions()[-1] == (Action.MESSAGE_RESTORE, alice.pk, room.pk, "not spam")


# --- people ----------------------------------------------------------------------------------


def test_staff_mute_several_people_for_a_chosen_time(admin_client):
    alice, bob = UserFactory(), UserFactory()
    before = timezone.now()

    response = run_action(
        admin_client,
        "accounts_user",
        "mute",
        [alice, bob],
        minutes="1440",
        reason="flooding",
    )

    assert "Muted: 2." in shown_messages(response)
    for user in (alice, bob):
        until = User.objects.get(pk=user.pk).muted_until
        assert (
            timezone.timedelta(hours=23)
            < until - before
            <= timezone.timedelta(days=1, minutes=1)
        )
    assert [row[0] for row in actions()] == [Action.USER_MUTE, Action.USER_MUTE]
    muted = admin_client.get(
        reverse("admin:accounts_user_changelist"), {"muted": "yes"}
    )
    assert {u.pk for u in muted.context["cl"].result_list} == {alice.pk, bob.pk}


def test_a_ban_without_a_reason_is_refused_and_changes_nothing(admin_client):
    alice = UserFactory()

    response = run_action(admin_client, "accounts_user", "ban", [alice], reason=" ")

    assert User.objects.get(pk=alice.pk).is_active
    assert any("Give a reason" in text for text in shown_messages(response))
    assert actions() == []


def test_staff_ban_and_reinstate_accounts(admin_client):
    alice = UserFactory()

    run_action(admin_client, "accounts_user", "ban", [alice], reason="abuse")
    assert not User.objects.get(pk=alice.pk).is_active
    run_action(admin_client, "accounts_user", "unban", [alice], reason="appeal")

    assert User.objects.get(pk=alice.pk).is_active
    assert [row[0] for row in actions()] == [Action.USER_BAN, Action.USER_UNBAN]


def test_bans_and_mutes_are_not_edited_in_the_user_form(admin_client):
    alice = UserFactory()

    page = admin_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))

    fields = page.context["adminform"].form.fields
    assert "is_active" not in fields and "muted_until" not in fields


def test_staff_ban_people_from_their_rooms_from_the_membership_list(admin_client):
    room = RoomFactory()
    alice = member(room)
    membership = Membership.objects.get(user=alice)

    run_action(admin_client, "rooms_membership", "ban", [membership], reason="raid")

    assert RoomBan.objects.filter(room=room, user=alice).exists()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert actions() == [(Action.MEMBER_BAN, alice.pk, room.pk, "raid")]


# --- rooms --------------------------------------------------------------------------------


def test_staff_lock_and_archive_several_rooms_and_each_is_logged(admin_client):
    rooms = [RoomFactory(), RoomFactory()]

    run_action(admin_client, "rooms_room", "lock", rooms, reason="raid")
    run_action(admin_client, "rooms_room", "archive", rooms[:1], reason="over")

    assert list(
        Room.objects.filter(pk__in=[r.pk for r in rooms])
        .order_by("pk")
        .values_list("is_locked", "is_archived")
    ) == [
        (True, True),
        (True, False),
    ]
    assert [row[0] for row in actions()] == [
        Action.ROOM_LOCK,
        Action.ROOM_LOCK,
        Action.ROOM_ARCHIVE,
    ]
    page = admin_client.get(reverse("admin:rooms_room_change", args=[rooms[0].pk]))
    fields = page.context["adminform"].form.fields
    assert "is_locked" not in fields and "is_archived" not in fields


# --- reports ------------------------------------------------------------------------------


@pytest.fixture
def report():
    room = RoomFactory(name="Lounge", slug="lounge")
    alice, bob = member(room), member(room)
    message = send(room, alice, "you are all idiots")
    return moderation.report_create(reporter=bob, message=message, reason="insult")


def test_reports_queue_in_the_admin_with_links_to_the_message_and_room(
    admin_client, report
):
    page = admin_client.get(reverse("admin:rooms_report_changelist"))
    open_only = admin_client.get(
        reverse("admin:rooms_report_changelist"), {"resolved_at__isempty": "1"}
    )

    assert page.status_code == 200
    assert [r.pk for r in open_only.context["cl"].result_list] == [report.pk]
    html = page.content.decode()
    assert reverse("admin:rooms_message_change", args=[report.message.pk]) in html
    assert reverse("rooms:detail", args=["lounge"]) in html
    assert "you are all idiots" in html


def test_resolving_reports_with_a_note_is_logged(admin_client, admin_user, report):
    response = run_action(
        admin_client, "rooms_report", "resolve", [report], reason="warned the author"
    )

    report.refresh_from_db()
    assert "Resolved: 1." in shown_messages(response)
    assert (report.resolved_by, report.resolution) == (admin_user, "warned the author")
    assert actions() == [
        (
            Action.REPORT_RESOLVE,
            report.message.author_id,
            report.message.room_id,
            "warned the author",
        )
    ]


def test_deleting_reported_messages_resolves_their_reports(admin_client, report):
    run_action(
        admin_client,
        "rooms_report",
        "delete_messages_and_resolve",
        [report],
        reason="insult",
    )

    report.refresh_from_db()
    assert report.message.deleted_at is not None
    assert report.resolution == "Deleted: insult"
    assert [row[0] for row in actions()] == [
        Action.MESSAGE_DELETE,
        Action.REPORT_RESOLVE,
    ]


def test_reports_are_not_edited_or_deleted_in_the_admin(admin_client, report):
    change = reverse("admin:rooms_report_change", args=[report.pk])

    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"resolution": "x"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:rooms_report_delete", args=[report.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_people_who_are_not_staff_cannot_reach_moderation_in_the_admin(report):
    client = Client()
    client.force_login(UserFactory())

    for name in ("rooms_moderationlog", "rooms_report", "rooms_roomban"):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
