"""rooms.protocol: parsing client frames and answering them, transport aside."""

import json
import uuid

import pytest

from rooms import protocol, services
from rooms.errors import NotFound
from rooms.models import Membership, Message, Room
from tests.factories import RoomFactory, UserFactory, member, send

CLIENT_ID = "6f1c1f4e-8a52-4f7e-9d55-2f0c7f1b2a10"


def send_text(room: str) -> str:
    return json.dumps(
        {"type": "send", "room": room, "body": "x", "client_id": CLIENT_ID}
    )


# --- parse ---------------------------------------------------------------------------------


def test_when_a_send_frame_is_parsed_then_only_known_fields_survive():
    frame = protocol.parse(
        json.dumps(
            {
                "type": "send",
                "room": "general",
                "body": "hi",
                "client_id": CLIENT_ID,
                "author": {"id": 1},
                "seq": 5,
            }
        )
    )

    assert frame == {
        "type": "send",
        "room": "general",
        "body": "hi",
        "client_id": uuid.UUID(CLIENT_ID),
        "reply_to": None,
    }


def test_when_a_send_frame_has_no_body_then_parse_leaves_the_body_check_to_the_service():
    frame = protocol.parse(
        json.dumps({"type": "send", "room": "a", "client_id": CLIENT_ID})
    )

    assert frame["body"] is None


def test_when_a_resume_frame_is_parsed_then_it_maps_slugs_to_seqs():
    frame = protocol.parse(
        '{"type": "resume", "rooms": {"general": 4, "dev-ops_2": 0}}'
    )

    assert frame == {
        "type": "resume",
        "rooms": {"general": 4, "dev-ops_2": 0},
        "changes": {},
    }
    assert protocol.parse(
        '{"type": "resume", "rooms": {"general": 4, "b": 0}, "changes": {"general": 2}}'
    )["changes"] == {"general": 2}


def test_when_read_and_ping_frames_are_parsed_then_they_keep_their_fields():
    assert protocol.parse('{"type": "read", "room": "general", "seq": 9}') == {
        "type": "read",
        "room": "general",
        "seq": 9,
    }
    assert protocol.parse('{"type": "ping", "extra": 1}') == {"type": "ping"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bad_json"),
        ("nope", "bad_json"),
        ("null", "bad_json"),
        ("[]", "bad_json"),
        ('{"type": 1}', "unknown_type"),
        ('{"type": "history", "room": "general"}', "unknown_type"),
        ('{"type": "send", "room": "general", "body": "x"}', "invalid"),
        (
            '{"type": "send", "room": "general", "body": "x", "client_id": null}',
            "invalid",
        ),
        (
            '{"type": "send", "room": "general", "body": "x", "client_id": 12}',
            "invalid",
        ),
        (send_text(""), "invalid"),
        (send_text("a" * 81), "invalid"),
        (send_text("a/b"), "invalid"),
        ('{"type": "resume"}', "invalid"),
        ('{"type": "resume", "rooms": {"general": 1.5}}', "invalid"),
        ('{"type": "resume", "rooms": {"general": false}}', "invalid"),
        ('{"type": "resume", "rooms": {"not a slug": 1}}', "invalid"),
        ('{"type": "resume", "rooms": {"general": 1}, "changes": []}', "invalid"),
        ('{"type": "resume", "rooms": {"a": 1}, "changes": {"b": 1}}', "invalid"),
        ('{"type": "resume", "rooms": {"a": 1}, "changes": {"a": -1}}', "invalid"),
        ('{"type": "resume", "rooms": {"a": 1}, "changes": {"a": "1"}}', "invalid"),
        ('{"type": "read", "room": "general", "seq": -1}', "invalid"),
        ('{"type": "read", "seq": 1}', "invalid"),
    ],
)
def test_when_a_frame_is_malformed_then_parse_raises_a_coded_error(text, code):
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(text)

    assert caught.value.code == code
    assert caught.value.message


def test_when_resume_names_too_many_rooms_then_invalid():
    rooms = {f"room-{n}": 0 for n in range(protocol.MAX_RESUME_ROOMS + 1)}

    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(json.dumps({"type": "resume", "rooms": rooms}))

    assert caught.value.code == "invalid"


def test_when_a_frame_is_over_the_byte_limit_then_too_large_even_if_it_is_valid(
    settings,
):
    settings.CHAT_MAX_FRAME_BYTES = 100
    # 40 two-byte characters: under 100 characters, over 100 bytes.
    text = json.dumps({"type": "ping", "pad": "é" * 40}, ensure_ascii=False)
    assert len(text) < 100 < len(text.encode())

    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(text)

    assert caught.value.code == "too_large"
    assert "100" in caught.value.message


def test_when_a_frame_is_exactly_at_the_byte_limit_then_it_parses(settings):
    text = '{"type": "ping"}'
    settings.CHAT_MAX_FRAME_BYTES = len(text)

    assert protocol.parse(text) == {"type": "ping"}


def test_when_an_error_frame_is_made_then_it_has_type_code_message_and_ref():
    error = NotFound("No such room.")

    assert protocol.error_frame(error, "general") == {
        "type": "error",
        "code": "not_found",
        "message": "No such room.",
        "ref": "general",
    }


def test_when_a_frame_is_answered_then_its_ref_is_the_client_id_or_the_room():
    send_frame = protocol.parse(
        json.dumps({"type": "send", "room": "a", "body": "x", "client_id": CLIENT_ID})
    )

    assert protocol.ref_of(send_frame) == CLIENT_ID
    assert protocol.ref_of({"type": "read", "room": "a", "seq": 1}) == "a"
    assert protocol.ref_of({"type": "ping"}) is None


# --- handle --------------------------------------------------------------------------------


def frame(**fields):
    return protocol.parse(json.dumps(fields))


@pytest.mark.django_db
def test_when_a_member_sends_then_the_reply_is_an_ack_with_the_stored_message():
    room = RoomFactory()
    alice = member(room)

    reply = protocol.handle(
        alice, frame(type="send", room=room.slug, body="hi", client_id=CLIENT_ID)
    )

    stored = Message.objects.get()
    (ack,) = reply.frames
    assert ack["type"] == "ack"
    assert (ack["client_id"], ack["room"], ack["seq"], ack["id"]) == (
        CLIENT_ID,
        room.slug,
        1,
        stored.pk,
    )
    assert ack["duplicate"] is False
    assert ack["message"]["body"] == "hi"
    assert reply.follow == []


@pytest.mark.django_db
def test_when_a_send_is_refused_then_the_reply_is_one_error_frame_refering_to_it():
    room = RoomFactory()
    outsider = UserFactory()

    reply = protocol.handle(
        outsider, frame(type="send", room=room.slug, body="hi", client_id=CLIENT_ID)
    )

    assert reply.frames == [
        {
            "type": "error",
            "code": "not_member",
            "message": "Join the room to post in it.",
            "ref": CLIENT_ID,
        }
    ]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_when_a_client_resumes_then_it_follows_the_rooms_it_may_read():
    readable = RoomFactory()
    alice = member(readable)
    send(readable, alice, "one")
    private = RoomFactory(kind=Room.Kind.PRIVATE)
    send(private, member(private), "secret")

    reply = protocol.handle(
        alice, frame(type="resume", rooms={readable.slug: 0, private.slug: 0})
    )

    assert reply.follow == [readable.pk]
    assert reply.frames[0]["type"] == "messages"
    assert reply.frames[1] == {
        "type": "error",
        "code": "not_found",
        "message": "No such room.",
        "ref": private.slug,
    }


@pytest.mark.django_db
def test_when_a_client_resumes_a_public_room_it_is_not_in_then_it_reads_and_follows_it():
    room = RoomFactory()
    send(room, member(room), "open to all")
    reader = UserFactory()

    reply = protocol.handle(reader, frame(type="resume", rooms={room.slug: 0}))

    assert [m["body"] for m in reply.frames[0]["messages"]] == ["open to all"]
    assert reply.follow == [room.pk]
    assert not Membership.objects.filter(user=reader).exists()


@pytest.mark.django_db
def test_when_a_catch_up_is_over_the_limit_then_resync_names_the_newest_seq(settings):
    settings.CHAT_RESUME_LIMIT = 3
    room = RoomFactory()
    alice = member(room)
    for _ in range(5):
        send(room, alice)

    answer, room_id = protocol.catch_up(alice, room.slug, 1)

    assert answer == {
        "type": "resync",
        "room": room.slug,
        "last_seq": 5,
        "last_change": 0,
    }
    assert room_id == room.pk


@pytest.mark.django_db
def test_when_a_catch_up_is_over_the_byte_budget_then_resync(settings):
    settings.CHAT_RESUME_MAX_BYTES = 50_000
    room = RoomFactory()
    alice = member(room)
    # 4,000 characters of four bytes each: 16,000 bytes as the body, as many again as
    # its HTML; one such message fits in the budget, two do not.
    send(room, alice, "👋" * 4000)

    assert protocol.catch_up(alice, room.slug, 0)[0]["type"] == "messages"

    send(room, alice, "👋" * 4000)
    answer, _ = protocol.catch_up(alice, room.slug, 0)

    assert answer == {
        "type": "resync",
        "room": room.slug,
        "last_seq": 2,
        "last_change": 0,
    }
    assert protocol.catch_up(alice, room.slug, 1)[0]["type"] == "messages"


@pytest.mark.django_db
def test_when_a_client_was_away_then_catch_up_brings_what_changed_in_its_state_now():
    room = RoomFactory()
    alice, bob = member(room), member(room)
    kept, edited, deleted = (send(room, alice, f"m{n}") for n in range(1, 4))
    services.message_edit(actor=alice, message=kept, body="seen before leaving")
    # Bob saw all three messages and that first change, then went away.
    services.message_edit(actor=alice, message=edited, body="edited while away")
    services.message_delete(actor=alice, message=deleted)
    services.reaction_set(user=alice, message=kept, emoji="🎉", on=True)
    services.message_edit(actor=alice, message=send(room, alice, "m4"), body="m4!")

    [messages] = protocol.handle(
        bob, frame(type="resume", rooms={room.slug: 3}, changes={room.slug: 1})
    ).frames

    assert [m["body"] for m in messages["messages"]] == ["m4!"]
    changed = {m["seq"]: m for m in messages["changed"]}
    assert list(changed) == [2, 3, 1]  # in the order they changed
    assert changed[2]["body"] == "edited while away"
    assert changed[3]["deleted"] and changed[3]["body"] == ""
    assert changed[1]["reactions"][0]["emoji"] == "🎉"
    assert messages["last_change"] == 5
    # Up to date: nothing to send again.
    again = protocol.handle(
        bob, frame(type="resume", rooms={room.slug: 4}, changes={room.slug: 5})
    ).frames[0]
    assert (again["messages"], again["changed"]) == ([], [])


@pytest.mark.django_db
def test_when_a_client_does_not_track_changes_then_catch_up_sends_none():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)
    services.message_edit(actor=alice, message=message, body="changed")

    [answer] = protocol.handle(alice, frame(type="resume", rooms={room.slug: 1})).frames

    assert (answer["messages"], answer["changed"], answer["last_change"]) == ([], [], 1)


@pytest.mark.django_db
def test_when_more_changed_than_the_limit_then_resync(settings):
    settings.CHAT_RESUME_LIMIT = 2
    room = RoomFactory()
    alice = member(room)
    for message in [send(room, alice, f"m{n}") for n in range(3)]:
        services.message_edit(actor=alice, message=message, body="again")

    answer, _ = protocol.catch_up(alice, room.slug, 3, 0)

    assert answer == {
        "type": "resync",
        "room": room.slug,
        "last_seq": 3,
        "last_change": 3,
    }
    assert protocol.catch_up(alice, room.slug, 3, 1)[0]["type"] == "messages"


@pytest.mark.django_db
def test_when_a_member_reads_then_no_reply_frame_and_the_position_moves():
    room = RoomFactory()
    alice = member(room)
    send(room, member(room))
    send(room, member(room))

    reply = protocol.handle(alice, frame(type="read", room=room.slug, seq=2))

    assert reply.frames == []
    assert Membership.objects.get(user=alice, room=room).last_read_seq == 2


@pytest.mark.django_db
def test_when_pinged_then_pong():
    assert protocol.handle(UserFactory(), {"type": "ping"}).frames == [{"type": "pong"}]


# --- rich messages: edit, delete, react, reply ----------------------------------------------


def test_when_edit_delete_and_react_frames_are_parsed_then_only_known_fields_survive():
    assert protocol.parse(
        '{"type": "edit", "room": "general", "id": 7, "body": "new", "seq": 1}'
    ) == {"type": "edit", "room": "general", "id": 7, "body": "new"}
    assert protocol.parse('{"type": "delete", "room": "general", "id": 7}') == {
        "type": "delete",
        "room": "general",
        "id": 7,
    }
    assert protocol.parse(
        '{"type": "react", "room": "general", "id": 7, "emoji": "👍", "on": false}'
    ) == {"type": "react", "room": "general", "id": 7, "emoji": "👍", "on": False}


def test_when_a_send_frame_names_a_parent_then_reply_to_is_its_id():
    text = json.dumps(
        {
            "type": "send",
            "room": "a",
            "body": "x",
            "client_id": CLIENT_ID,
            "reply_to": 3,
        }
    )

    assert protocol.parse(text)["reply_to"] == 3


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "edit", "room": "general", "body": "x"}',
        '{"type": "edit", "room": "general", "id": "7", "body": "x"}',
        '{"type": "edit", "room": "general", "id": 0, "body": "x"}',
        '{"type": "edit", "room": "general", "id": true, "body": "x"}',
        '{"type": "edit", "room": "general", "id": 1.5, "body": "x"}',
        '{"type": "edit", "room": "general", "id": 99999999999999999999, "body": "x"}',
        '{"type": "edit", "id": 7, "body": "x"}',
        '{"type": "delete", "room": "general", "id": -1}',
        '{"type": "delete", "room": "no slug!", "id": 1}',
        '{"type": "react", "room": "general", "id": 7, "emoji": "👍"}',
        '{"type": "react", "room": "general", "id": 7, "emoji": "👍", "on": 1}',
        '{"type": "react", "room": "general", "id": 7, "emoji": "👍", "on": "yes"}',
        '{"type": "react", "room": "general", "emoji": "👍", "on": true}',
        send_text("general")[:-1] + ', "reply_to": "3"}',
        send_text("general")[:-1] + ', "reply_to": 0}',
        send_text("general")[:-1] + ', "reply_to": false}',
    ],
)
def test_when_a_rich_message_frame_is_malformed_then_invalid(text):
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(text)

    assert caught.value.code == "invalid"
    assert caught.value.message


def test_when_a_frame_acts_on_a_message_then_its_errors_name_type_and_id_as_ref():
    for kind in ("edit", "delete", "react"):
        assert protocol.ref_of({"type": kind, "room": "a", "id": 12}) == f"{kind}:12"


@pytest.mark.django_db
def test_when_the_author_edits_then_the_reply_is_the_edited_event():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "draft")

    reply = protocol.handle(
        alice, frame(type="edit", room=room.slug, id=message.pk, body="final")
    )

    (answer,) = reply.frames
    assert answer["type"] == "message_edited" and answer["room"] == room.slug
    assert (answer["message"]["id"], answer["message"]["body"]) == (message.pk, "final")
    assert answer["message"]["edited_at"]


@pytest.mark.django_db
def test_when_a_message_id_is_of_another_room_then_not_found_and_nothing_changes():
    room, other = RoomFactory(), RoomFactory()
    alice = member(room)
    member(other, alice)
    elsewhere = send(other, alice, "over there")

    for kind, extra in (
        ("edit", {"body": "x"}),
        ("delete", {}),
        ("react", {"emoji": "👍", "on": True}),
    ):
        reply = protocol.handle(
            alice, frame(type=kind, room=room.slug, id=elsewhere.pk, **extra)
        )
        assert [(f["type"], f["code"], f["ref"]) for f in reply.frames] == [
            ("error", "not_found", f"{kind}:{elsewhere.pk}")
        ]

    elsewhere.refresh_from_db()
    assert (elsewhere.body, elsewhere.deleted_at) == ("over there", None)
    assert not elsewhere.reactions.exists()
