import pytest
from django.urls import reverse

from rooms import presence
from rooms.models import Room
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_starting_a_dm_opens_the_one_room_for_that_pair(client):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    client.force_login(alice)
    first = client.post(reverse("rooms:dm_new"), {"usernames": "bob"})
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert first["Location"] == reverse("rooms:detail", args=[room.slug])
    client.force_login(bob)
    again = client.post(reverse("rooms:dm_new"), {"usernames": "alice"})
    assert again["Location"] == first["Location"]
    page = client.get(again["Location"])
    assert page.status_code == 200
    assert page.context["client_state"]["room"]["name"] == alice.shown_name


@pytest.mark.parametrize(
    ("usernames", "error"),
    [
        ("alice", "Choose someone other than yourself."),
        ("ghost", "There is no one called “ghost”."),
        (" ".join(f"p{n}" for n in range(8)), "at most 8 people"),
    ],
)
def test_bad_dm_requests_come_back_as_form_errors(client, usernames, error):
    alice = UserFactory(username="alice")
    for n in range(8):
        UserFactory(username=f"p{n}")
    client.force_login(alice)
    response = client.post(reverse("rooms:dm_new"), {"usernames": usernames})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_the_dm_page_prefills_from_a_name_link(client):
    client.force_login(UserFactory())
    response = client.get(reverse("rooms:dm_new") + "?to=bob")
    assert response.context["form"]["usernames"].value() == "bob"


def test_people_search_finds_by_username_or_name_and_never_yourself(client):
    me = UserFactory(username="alice", display_name="Alice")
    UserFactory(username="bob", display_name="Roberto")
    UserFactory(username="carol", display_name="Carol", is_active=False)
    client.force_login(me)
    found = client.get(reverse("rooms:api_users") + "?q=rob").json()["users"]
    assert [u["username"] for u in found] == ["bob"]
    everyone = client.get(reverse("rooms:api_users")).json()["users"]
    assert "alice" not in {u["username"] for u in everyone}
    assert "carol" not in {u["username"] for u in everyone}


def test_people_search_needs_a_login(client):
    response = client.get(reverse("rooms:api_users"))
    assert response.status_code == 302


def test_people_search_says_who_is_online(client):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    UserFactory(username="bobby")
    presence.presence_connect(user_id=bob.pk, connection="bobs-tab-1")
    client.force_login(alice)

    found = client.get(reverse("rooms:api_users") + "?q=bob").json()["users"]

    assert [(u["username"], u["presence"]) for u in found] == [
        ("bob", "online"),
        ("bobby", "offline"),
    ]


def test_a_two_person_dm_in_the_sidebar_carries_the_other_persons_presence(client):
    alice, bob, carol = (UserFactory(username=n) for n in ("alice", "bob", "carol"))
    client.force_login(alice)
    client.post(reverse("rooms:dm_new"), {"usernames": "bob"})
    client.post(reverse("rooms:dm_new"), {"usernames": "bob carol"})
    presence.presence_connect(user_id=bob.pk, connection="bobs-tab-1")

    page = client.get(reverse("rooms:dm_new"))

    dms = [item for item in page.context["sidebar"] if item["kind"] == "direct"]
    # A group DM has no one person's dot.
    assert {(item["person"], item["presence"]) for item in dms} == {
        (bob.pk, "online"),
        (None, None),
    }
    html = page.content.decode()
    assert f'data-presence-user="{bob.pk}" data-status="online"' in html
    assert f'data-presence-user="{carol.pk}"' not in html
