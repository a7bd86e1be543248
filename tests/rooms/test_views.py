"""rooms.views: the room list, room creation, the room page, join and leave."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from rooms.models import Membership, Message, Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def client_state(response) -> dict:
    """The JSON the room page hands its script (Django's json_script)."""
    html = response.content.decode()
    start = html.index('<script id="client-state" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


# --- room list and creation ---------------------------------------------------------------


def test_when_anonymous_opens_the_room_list_then_they_are_sent_to_log_in():
    response = Client().get(reverse("rooms:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_when_the_room_list_is_shown_then_it_lists_public_rooms_only(alice, client_for):
    RoomFactory(name="Open Air", slug="open-air")
    RoomFactory(name="Hidden Den", slug="hidden-den", kind=Room.Kind.PRIVATE)
    RoomFactory(name="Dusty Attic", slug="dusty-attic", is_archived=True)
    direct = RoomFactory(name="Direct message", slug="dm-abc", kind=Room.Kind.DIRECT)
    member(direct, alice)

    response = client_for(alice).get(reverse("rooms:list"))

    assert response.status_code == 200
    listed = {room.slug for room in response.context["rooms"]}
    assert {"open-air", "general"} <= listed
    assert not listed & {"hidden-den", "dusty-attic", "dm-abc"}
    html = response.content.decode()
    assert "Open Air" in html
    assert "Hidden Den" not in html and "Dusty Attic" not in html


def test_when_a_room_is_created_then_the_creator_lands_in_it_as_owner(
    alice, client_for
):
    response = client_for(alice).post(
        reverse("rooms:list"), {"name": "Book Club", "topic": "novels"}
    )

    room = Room.objects.get(slug="book-club")
    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:detail", args=["book-club"])
    assert (room.name, room.topic, room.kind) == (
        "Book Club",
        "novels",
        Room.Kind.PUBLIC,
    )
    assert Membership.objects.get(room=room).user == alice
    assert Membership.objects.get(room=room).role == Membership.Role.OWNER


def test_when_a_room_name_is_taken_then_the_page_says_so_and_nothing_is_created(
    alice, client_for
):
    RoomFactory(name="Book Club", slug="book-club")
    rooms_before = Room.objects.count()

    response = client_for(alice).post(reverse("rooms:list"), {"name": "book club!"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "A room named “book club!” already exists."
    ]
    assert "already exists" in response.content.decode()
    assert Room.objects.count() == rooms_before


def test_when_a_room_name_has_no_letters_then_the_page_says_so_and_nothing_is_created(
    alice, client_for
):
    rooms_before = Room.objects.count()

    response = client_for(alice).post(reverse("rooms:list"), {"name": "!!! ???"})

    assert response.status_code == 200
    assert "at least one letter or digit" in response.context["form"].errors["name"][0]
    assert "at least one letter or digit" in response.content.decode()
    assert Room.objects.count() == rooms_before


def test_when_a_room_name_is_missing_then_a_form_error_and_nothing_is_created(
    alice, client_for
):
    rooms_before = Room.objects.count()

    response = client_for(alice).post(reverse("rooms:list"), {"name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert Room.objects.count() == rooms_before


def test_when_a_form_is_posted_without_csrf_token_then_403_and_nothing_created(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    rooms_before = Room.objects.count()

    response = client.post(reverse("rooms:list"), {"name": "Sneaky"})

    assert response.status_code == 403
    assert Room.objects.count() == rooms_before


# --- the room page -------------------------------------------------------------------------


def test_when_a_room_page_opens_then_it_embeds_only_the_newest_fifty_messages(
    alice, client_for
):
    room = RoomFactory()
    author = member(room, alice)
    for n in range(1, 121):
        send(room, author, f"message {n}")

    response = client_for(alice).get(reverse("rooms:detail", args=[room.slug]))

    assert response.status_code == 200
    state = client_state(response)
    assert [m["seq"] for m in state["messages"]] == list(range(71, 121))
    assert state["messages"][-1]["body"] == "message 120"
    assert state["room"]["slug"] == room.slug
    assert state["room"]["last_seq"] == 120
    assert state["is_member"] is True
    assert state["last_read_seq"] == 120
    assert state["max_length"] == 4000


def test_when_a_message_holds_a_script_tag_then_the_page_source_has_no_live_script(
    alice, client_for
):
    room = RoomFactory()
    author = member(room)
    body = "<script>alert('pwned')</script></script><!--"
    send(room, author, body)

    response = client_for(alice).get(reverse("rooms:detail", args=[room.slug]))

    html = response.content.decode()
    assert "<script>alert" not in html
    assert "</script><!--" not in html
    # The message is still there, as raw text, for the client to render as text.
    assert client_state(response)["messages"][0]["body"] == body


def test_when_a_room_name_holds_html_then_the_page_escapes_it(alice, client_for):
    room = RoomFactory(name="<b>Bold</b> room", slug="bold-room")

    response = client_for(alice).get(reverse("rooms:detail", args=[room.slug]))

    html = response.content.decode()
    assert "<b>Bold</b>" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_when_a_non_member_opens_a_public_room_then_they_may_read_and_join(
    alice, client_for
):
    room = RoomFactory()
    send(room, member(room), "hello world")

    response = client_for(alice).get(reverse("rooms:detail", args=[room.slug]))

    assert response.status_code == 200
    state = client_state(response)
    assert state["is_member"] is False
    assert [m["body"] for m in state["messages"]] == ["hello world"]
    assert reverse("rooms:join", args=[room.slug]) in response.content.decode()


def test_when_an_outsider_opens_a_private_room_then_404_like_an_unknown_room(
    alice, client_for
):
    room = RoomFactory(name="Hidden Den", kind=Room.Kind.PRIVATE)
    send(room, member(room), "secret")
    client = client_for(alice)

    private = client.get(reverse("rooms:detail", args=[room.slug]))
    missing = client.get(reverse("rooms:detail", args=["no-such-room"]))

    assert private.status_code == missing.status_code == 404
    assert "Hidden Den" not in private.content.decode()
    assert "secret" not in private.content.decode()


def test_when_a_member_opens_a_private_room_then_200(alice, client_for):
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    member(room, alice)

    response = client_for(alice).get(reverse("rooms:detail", args=[room.slug]))

    assert response.status_code == 200


def test_when_anonymous_opens_a_room_then_they_are_sent_to_log_in():
    response = Client().get(reverse("rooms:detail", args=["general"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- join and leave ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["rooms:join", "rooms:leave"])
def test_when_join_or_leave_is_asked_with_get_then_405_and_nothing_changes(
    action, alice, client_for
):
    room = RoomFactory()
    member(room, alice) if action == "rooms:leave" else None
    before = list(
        Membership.objects.filter(user=alice).values_list("room_id", flat=True)
    )

    response = client_for(alice).get(reverse(action, args=[room.slug]))

    assert response.status_code == 405
    assert list(
        Membership.objects.filter(user=alice).values_list("room_id", flat=True)
    ) == (before)


def test_when_a_user_joins_a_public_room_by_post_then_they_are_a_member(
    alice, client_for
):
    room = RoomFactory()

    response = client_for(alice).post(reverse("rooms:join", args=[room.slug]))

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:detail", args=[room.slug])
    assert Membership.objects.filter(user=alice, room=room).exists()


@pytest.mark.parametrize(
    "room_kwargs",
    [{"kind": Room.Kind.PRIVATE}, {"is_archived": True}],
    ids=["private", "archived"],
)
def test_when_a_user_joins_a_closed_room_then_404_and_no_membership(
    room_kwargs, alice, client_for
):
    room = RoomFactory(**room_kwargs)

    response = client_for(alice).post(reverse("rooms:join", args=[room.slug]))

    assert response.status_code == 404
    assert not Membership.objects.filter(user=alice, room=room).exists()


def test_when_a_member_leaves_by_post_then_the_membership_ends(alice, client_for):
    room = RoomFactory()
    member(room, alice)

    response = client_for(alice).post(reverse("rooms:leave", args=[room.slug]))

    assert response.status_code == 302
    assert not Membership.objects.filter(user=alice, room=room).exists()


def test_when_join_is_posted_without_csrf_token_then_403_and_no_membership(alice):
    room = RoomFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post(reverse("rooms:join", args=[room.slug]))

    assert response.status_code == 403
    assert not Membership.objects.filter(user=alice, room=room).exists()


# --- the default room ----------------------------------------------------------------------


def test_when_migrations_have_run_then_the_general_room_exists_and_is_public():
    general = Room.objects.get(slug="general")

    assert general.kind == Room.Kind.PUBLIC
    assert not general.is_archived
    assert Message.objects.filter(room=general).count() == general.last_seq


def test_when_a_member_opens_home_then_they_land_in_one_of_their_rooms(
    alice, client_for
):
    room = RoomFactory()
    member(room, alice)

    response = client_for(alice).get(reverse("rooms:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:detail", args=[room.slug])


def test_when_a_user_with_no_rooms_opens_home_then_they_see_the_room_list(
    alice, client_for
):
    response = client_for(alice).get(reverse("rooms:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:list")
