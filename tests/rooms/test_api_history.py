"""rooms.api.history: GET /api/rooms/<slug>/messages?before=&limit=, keyset by seq."""

import pytest
from django.test import Client
from django.urls import reverse

from rooms.models import Room
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def reader() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def history_url(slug: str) -> str:
    return reverse("rooms:api_history", args=[slug])


def seeded_room(count: int) -> Room:
    room = RoomFactory()
    author = member(room)
    for n in range(1, count + 1):
        send(room, author, f"m{n}")
    return room


def seqs(body) -> list[int]:
    return [m["seq"] for m in body["messages"]]


def test_when_history_is_asked_without_params_then_the_newest_fifty_oldest_first(
    reader,
):
    room = seeded_room(120)

    response = reader.get(history_url(room.slug))

    assert response.status_code == 200
    body = response.json()
    assert body["room"] == room.slug
    assert seqs(body) == list(range(71, 121))
    assert body["has_more"] is True
    assert body["messages"][0]["body"] == "m71"


def test_when_a_client_pages_back_by_seq_then_pages_join_without_gap_or_overlap(reader):
    room = seeded_room(120)
    seen: list[int] = []
    url = history_url(room.slug)

    body = reader.get(url).json()
    seen = seqs(body) + seen
    while body["has_more"]:
        body = reader.get(url, {"before": seen[0]}).json()
        seen = seqs(body) + seen

    assert seen == list(range(1, 121))


def test_when_the_first_message_is_on_the_page_then_has_more_is_false(reader):
    room = seeded_room(10)

    body = reader.get(history_url(room.slug), {"before": 5, "limit": 50}).json()

    assert seqs(body) == [1, 2, 3, 4]
    assert body["has_more"] is False


def test_when_a_room_is_empty_then_no_messages_and_no_more(reader):
    room = RoomFactory()

    assert reader.get(history_url(room.slug)).json() == {
        "room": room.slug,
        "messages": [],
        "has_more": False,
        "last_change": 0,
    }


@pytest.mark.parametrize(
    ("limit", "expected"), [("5", 5), ("50", 50), ("51", 50), ("9999", 50)]
)
def test_when_a_limit_is_given_then_it_is_obeyed_up_to_fifty(reader, limit, expected):
    room = seeded_room(60)

    body = reader.get(history_url(room.slug), {"limit": limit}).json()

    assert len(body["messages"]) == expected
    assert seqs(body)[-1] == 60


@pytest.mark.parametrize(
    "params",
    [
        {"before": "abc"},
        {"before": "0"},
        {"before": "-3"},
        {"before": "1.5"},
        {"limit": "0"},
        {"limit": "ten"},
        {"limit": "-1"},
    ],
)
def test_when_a_param_is_not_a_whole_number_of_at_least_one_then_400_json(
    reader, params
):
    room = seeded_room(3)

    response = reader.get(history_url(room.slug), params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert next(iter(params)) in error["message"]


def test_when_anonymous_then_401_json():
    room = seeded_room(1)

    response = Client().get(history_url(room.slug))

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthenticated", "message": "Log in first."}
    }


def test_when_an_outsider_asks_a_private_room_then_the_same_404_as_an_unknown_room(
    reader,
):
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    send(room, member(room), "secret")

    private = reader.get(history_url(room.slug))
    missing = reader.get(history_url("no-such-room"))

    assert private.status_code == missing.status_code == 404
    assert (
        private.json()
        == missing.json()
        == {"error": {"code": "not_found", "message": "No such room."}}
    )


def test_when_a_member_asks_a_private_room_then_its_history(reader):
    room = RoomFactory(kind=Room.Kind.PRIVATE)
    alice = member(room)
    send(room, alice, "for members")
    client = Client()
    client.force_login(alice)

    body = client.get(history_url(room.slug)).json()

    assert [m["body"] for m in body["messages"]] == ["for members"]


def test_when_a_message_was_deleted_then_history_keeps_its_seq_without_its_body(reader):
    from rooms import services

    room = RoomFactory()
    alice = member(room)
    send(room, alice, "keep")
    doomed = send(room, alice, "regret")
    services.message_delete(actor=alice, message=doomed)

    messages = reader.get(history_url(room.slug)).json()["messages"]

    assert [(m["seq"], m["body"], m["deleted"]) for m in messages] == [
        (1, "keep", False),
        (2, "", True),
    ]


def test_when_history_is_posted_to_then_405(reader):
    room = seeded_room(1)

    assert reader.post(history_url(room.slug)).status_code == 405
