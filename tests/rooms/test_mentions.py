"""rooms.mentions: @mentions of room members, stored, counted unread, suggested."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from rooms import events, mentions, moderation, services
from rooms.models import Membership, Mention, Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = pytest.mark.django_db


def mentioned(message) -> set[int]:
    return set(
        Mention.objects.filter(message=message).values_list("user_id", flat=True)
    )


@pytest.fixture
def room():
    return RoomFactory()


@pytest.fixture
def alice(room):
    return member(room, UserFactory(username="alice", display_name="Alice Liddell"))


@pytest.fixture
def bob(room):
    return member(room, UserFactory(username="bob", display_name="Bob Builder"))


def test_when_a_message_names_a_member_then_it_renders_a_mention_and_stores_it(
    room, alice, bob
):
    message = send(room, alice, "hi @bob, lunch?")

    assert message.html == (
        f'<p>hi <span class="mention" data-user-id="{bob.pk}">@bob</span>, lunch?</p>'
    )
    assert mentioned(message) == {bob.pk}
    assert events.message_payload(message)["mentions"] == [bob.pk]
    stored = Mention.objects.get(message=message)
    assert (stored.room_id, stored.seq) == (room.pk, message.seq)


def test_when_a_name_is_not_a_member_then_it_stays_plain_text(room, alice):
    outsider = UserFactory(username="carol")

    message = send(room, alice, "ask @carol or @nobody")

    assert message.html == "<p>ask @carol or @nobody</p>"
    assert mentioned(message) == set()
    assert outsider.mentions.count() == 0


def test_when_a_name_differs_in_case_then_it_still_names_the_member(room, alice, bob):
    message = send(room, alice, "@BOB!")

    assert f'data-user-id="{bob.pk}">@bob</span>!' in message.html
    assert mentioned(message) == {bob.pk}


def test_when_authors_name_themselves_then_no_mention_counts_for_them(room, alice):
    message = send(room, alice, "note to self @alice")

    assert 'class="mention"' in message.html
    assert mentioned(message) == set()
    assert events.message_payload(message)["mentions"] == []


def test_when_a_mention_is_in_code_then_it_is_not_one(room, alice, bob):
    message = send(room, alice, "`@bob` and\n```\n@bob\n```")

    assert "mention" not in message.html
    assert mentioned(message) == set()


def test_when_a_member_has_unread_mentions_then_the_server_counts_them_per_room(
    room, alice, bob
):
    other = RoomFactory()
    member(other, alice)
    member(other, bob)
    first = send(room, alice, "@bob one")
    send(room, alice, "no mention")
    second = send(room, alice, "@bob two")
    elsewhere = send(other, alice, "@bob three")

    assert mentions.unread_mention_seqs(user=bob) == {
        room.pk: [first.seq, second.seq],
        other.pk: [elsewhere.seq],
    }
    assert mentions.unread_mention_seqs(user=alice) == {}


def test_when_the_member_reads_then_their_mentions_up_to_there_are_no_longer_unread(
    room, alice, bob
):
    first = send(room, alice, "@bob one")
    second = send(room, alice, "@bob two")

    services.membership_mark_read(user=bob, room=room, seq=first.seq)

    assert mentions.unread_mention_seqs(user=bob) == {room.pk: [second.seq]}
    services.membership_mark_read(user=bob, room=room, seq=second.seq)
    assert mentions.unread_mention_seqs(user=bob) == {}


def test_when_an_edit_changes_who_is_named_then_the_mentions_follow(room, alice, bob):
    carol = member(room, UserFactory(username="carol"))
    message = send(room, alice, "@bob look")

    edited = services.message_edit(actor=alice, message=message, body="@carol look")

    assert mentioned(edited) == {carol.pk}
    assert events.message_edited_event(edited)["message"]["mentions"] == [carol.pk]
    assert mentions.unread_mention_seqs(user=bob) == {}
    assert mentions.unread_mention_seqs(user=carol) == {room.pk: [message.seq]}


def test_when_a_message_is_deleted_then_its_mentions_go_and_come_back_on_restore(
    room, alice, bob
):
    moderator = member(room, role=Membership.Role.MODERATOR)
    message = send(room, alice, "@bob look")

    message = services.message_delete(actor=alice, message=message)

    assert mentioned(message) == set()
    assert mentions.unread_mention_seqs(user=bob) == {}
    assert events.message_payload(message)["mentions"] == []

    moderation.message_restore(actor=moderator, message=message)

    assert mentioned(message) == {bob.pk}


def test_when_someone_is_suggested_then_usernames_and_display_name_words_match(
    room, alice, bob
):
    member(room, UserFactory(username="zed", display_name="Robert Zed"))
    UserFactory(username="bobby")  # not a member

    found = mentions.member_suggestions(room=room, query="@bo", exclude=alice)
    by_word = mentions.member_suggestions(room=room, query="liddell", exclude=bob)

    assert [u.username for u in found] == ["bob"]
    assert [u.username for u in by_word] == ["alice"]
    assert [
        u.username
        for u in mentions.member_suggestions(room=room, query="", exclude=bob)
    ] == ["alice", "zed"]


def test_when_a_message_names_many_people_then_one_query_finds_them(
    room, alice, django_assert_max_num_queries
):
    body = " ".join(f"@name{n}" for n in range(500))

    with django_assert_max_num_queries(1):
        found = mentions.mentionable(room=room, text=body)

    assert found == {}


# --- the suggestions endpoint --------------------------------------------------------


def suggestions(user, room: Room, query: str = ""):
    client = Client()
    client.force_login(user)
    return client.get(reverse("rooms:api_members", args=[room.slug]), {"q": query})


def test_when_a_member_asks_for_suggestions_then_matching_members_come_back(
    room, alice, bob
):
    response = suggestions(alice, room, "b")

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "users": [{"id": bob.pk, "username": "bob", "name": "Bob Builder"}]
    }


@pytest.mark.parametrize("kind", [Room.Kind.PRIVATE, Room.Kind.PUBLIC])
def test_when_a_non_member_asks_for_suggestions_then_the_room_looks_missing(kind):
    room = RoomFactory(kind=kind)
    member(room, UserFactory(username="secretive"))
    outsider = UserFactory()

    response = suggestions(outsider, room, "s")
    missing = suggestions(outsider, RoomFactory.build(slug="no-such-room"), "s")

    assert response.status_code == missing.status_code == 404
    assert json.loads(response.content) == json.loads(missing.content)
    assert b"secretive" not in response.content


def test_when_an_anonymous_client_asks_for_suggestions_then_it_must_log_in(room, bob):
    response = Client().get(reverse("rooms:api_members", args=[room.slug]))

    assert response.status_code == 401
    assert b"bob" not in response.content


def test_when_a_page_is_drawn_then_the_sidebar_carries_the_unread_mentions(
    room, alice, bob
):
    other = RoomFactory(name="Other")
    member(other, bob)
    first = send(room, alice, "@bob one")
    second = send(room, alice, "@bob two")
    client = Client()
    client.force_login(bob)

    response = client.get(reverse("rooms:detail", args=[other.slug]))

    rooms = {r["slug"]: r for r in response.context["client_state"]["rooms"]}
    assert rooms[room.slug]["mentions"] == [first.seq, second.seq]
    assert rooms[other.slug]["mentions"] == []
    html = response.content.decode()
    entry = html.split(f'data-slug="{room.slug}"')[1].split("</li>")[0]
    # Shown (no hidden attribute), with its count.
    assert (
        'data-mention-badge><span aria-hidden="true">@</span><span data-count>2</span>'
        in entry
    )
    assert " mentions</span>" in entry
