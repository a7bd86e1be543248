"""rooms.events: payload shapes, and events published after commit through real Redis."""

import asyncio
import json
import os
import threading
import uuid
from contextlib import asynccontextmanager

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from rooms import events, services
from rooms.models import Message, Room
from tests.factories import RoomFactory, UserFactory, member, send

# --- payloads ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_when_a_message_is_rendered_then_it_has_the_one_message_shape():
    room = RoomFactory()
    alice = member(room, UserFactory(username="alice", display_name="Alice"))
    client_id = uuid.uuid4()
    message = services.message_send(
        author=alice, room=room, body="hi <b>", client_id=client_id
    ).message

    assert events.message_payload(message) == {
        "id": message.pk,
        "room": room.slug,
        "seq": 1,
        "author": {"id": alice.pk, "username": "alice", "name": "Alice"},
        "body": "hi <b>",
        "html": "<p>hi &lt;b&gt;</p>",
        "client_id": str(client_id),
        "created_at": message.created_at.isoformat(),
        "edited_at": None,
        "deleted": False,
        "reply_to": None,
        "reactions": [],
        "mentions": [],
        "change": None,
    }


@pytest.mark.django_db
def test_when_a_message_is_deleted_then_its_payload_hides_the_body():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice, "secret")
    services.message_delete(actor=alice, message=message)
    message.refresh_from_db()

    payload = events.message_payload(message)

    assert payload["deleted"] is True
    assert payload["body"] == ""
    assert payload["seq"] == 1


@pytest.mark.django_db
def test_when_the_author_account_is_gone_then_the_message_shows_a_deleted_user():
    room = RoomFactory()
    alice = member(room)
    message = send(room, alice)
    alice.delete()
    message = Message.objects.get(pk=message.pk)

    assert events.message_payload(message)["author"] == {
        "id": None,
        "username": "",
        "name": "Deleted user",
    }


@pytest.mark.django_db
def test_when_a_user_has_no_display_name_then_their_username_is_shown():
    user = UserFactory(username="bob", display_name="")

    assert events.user_payload(user) == {
        "id": user.pk,
        "username": "bob",
        "name": "bob",
    }


@pytest.mark.django_db
def test_when_a_room_is_rendered_then_it_carries_its_last_seq():
    room = RoomFactory(name="Lobby", slug="lobby", topic="hello", last_seq=12)

    assert events.room_payload(room) == {
        "id": room.pk,
        "slug": "lobby",
        "name": "Lobby",
        "topic": "hello",
        "kind": "public",
        "last_seq": 12,
        "last_change": 0,
    }


def test_when_a_payload_is_encoded_then_it_is_compact_json_keeping_unicode():
    text = events.encode({"type": "message", "body": "héllo ✓ <b>"})

    assert text == '{"type":"message","body":"héllo ✓ <b>"}'
    assert json.loads(text)["body"] == "héllo ✓ <b>"


# --- publishing ----------------------------------------------------------------------------


@asynccontextmanager
async def listening(group: str):
    """A raw channel on the real Redis layer, in `group`, as a consumer would be."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        yield lambda timeout=3: asyncio.wait_for(layer.receive(channel), timeout)
    finally:
        await layer.group_discard(group, channel)


@pytest.mark.django_db(transaction=True)
async def test_when_a_message_is_published_then_the_event_carries_its_final_json_text():
    room, alice = await database_sync_to_async(
        lambda: (r := RoomFactory(), member(r))
    )()

    async with listening(events.room_group(room.pk)) as receive:
        message = await database_sync_to_async(send)(room, alice, "ready-made")
        event = await receive()

    payload = await database_sync_to_async(
        lambda: events.message_payload(Message.objects.get(pk=message.pk))
    )()
    # The event crossed Redis (msgpack) as plain data: text plus its room, and no
    # routing hint it does not use.
    assert event == {
        "type": "chat.event",
        "text": events.encode(
            {"type": "message", "room": room.slug, "message": payload}
        ),
        "room_id": room.pk,
    }


@pytest.mark.django_db(transaction=True)
async def test_when_published_to_several_targets_then_each_has_its_room_and_only_the_hints_given():
    publish = database_sync_to_async(events.publish_many_on_commit)

    async with (
        listening(events.presence_group(901)) as first,
        listening(events.presence_group(902)) as second,
    ):
        await publish(
            [(events.presence_group(901), 901), (events.presence_group(902), 902)],
            {"type": "presence", "user": 7, "status": "away"},
            topic=events.PRESENCE_TOPIC,
        )
        received = [await first(), await second()]

    text = '{"type":"presence","user":7,"status":"away"}'
    assert received == [
        {"type": "chat.event", "text": text, "room_id": 901, "topic": "presence"},
        {"type": "chat.event", "text": text, "room_id": 902, "topic": "presence"},
    ]


@pytest.mark.django_db(transaction=True)
async def test_when_the_transaction_rolls_back_then_nothing_is_published():
    room, alice = await database_sync_to_async(
        lambda: (r := RoomFactory(), member(r))
    )()

    @database_sync_to_async
    def send_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            send(room, alice, "rolled back")
            raise RuntimeError

    async with listening(events.room_group(room.pk)) as receive:
        await send_then_fail()
        await database_sync_to_async(send)(room, alice, "committed")
        event = await receive()

    assert json.loads(event["text"])["message"]["body"] == "committed"
    assert json.loads(event["text"])["message"]["seq"] == 1


@pytest.mark.django_db(transaction=True)
async def test_when_a_user_joins_then_their_group_hears_room_joined_with_a_subscribe_hint():
    room = await database_sync_to_async(RoomFactory)(last_seq=0)
    bob = await database_sync_to_async(UserFactory)()

    async with listening(events.user_group(bob.pk)) as receive:
        await database_sync_to_async(services.membership_join)(user=bob, room=room)
        event = await receive()

    assert event["subscribe"] == room.pk
    payload = json.loads(event["text"])
    assert payload["type"] == "room_joined"
    assert payload["room"]["slug"] == room.slug
    assert payload["last_read_seq"] == 0


@pytest.mark.django_db(transaction=True)
async def test_when_a_user_leaves_then_their_group_hears_room_left_with_an_unsubscribe_hint():
    room = await database_sync_to_async(RoomFactory)()
    bob = await database_sync_to_async(member)(room)

    async with listening(events.user_group(bob.pk)) as receive:
        await database_sync_to_async(services.membership_leave)(user=bob, room=room)
        event = await receive()

    assert event["unsubscribe"] == room.pk
    assert json.loads(event["text"]) == {"type": "room_left", "room": room.slug}


@pytest.mark.django_db(transaction=True)
async def test_when_redis_is_unreachable_then_the_write_still_commits(settings):
    from chatsite.settings import channel_layers

    room, alice = await database_sync_to_async(
        lambda: (r := RoomFactory(), member(r))
    )()
    settings.CHANNEL_LAYERS = channel_layers("redis://127.0.0.1:1/0")

    message = await database_sync_to_async(send)(
        room, alice, "the database is the truth"
    )

    stored = await database_sync_to_async(Room.objects.get)(pk=room.pk)
    assert (message.seq, stored.last_seq) == (1, 1)


@pytest.mark.django_db(transaction=True)
async def test_when_events_are_committed_faster_than_redis_answers_then_they_arrive_in_commit_order():
    group = f"room.{uuid.uuid4().hex}"

    @database_sync_to_async
    def commit_each(first: int, count: int) -> None:
        for n in range(first, first + count):
            with transaction.atomic():
                events.publish_on_commit(group, {"type": "test", "n": n})

    async with listening(group) as receive:
        # Several trips to the database thread, each committing many events while
        # the loop is still publishing the ones before.
        await asyncio.gather(*(commit_each(first, 40) for first in range(0, 200, 40)))
        received: list[int] = []
        while len(received) < 200:
            texts = events.texts_of(await receive())
            received += [json.loads(text)["n"] for text in texts]

    assert received == list(range(200))


@pytest.mark.django_db(transaction=True)
async def test_when_a_publish_fails_then_the_next_events_are_still_published(settings):
    from chatsite.settings import channel_layers

    working = settings.CHANNEL_LAYERS
    group = f"room.{uuid.uuid4().hex}"
    publish = database_sync_to_async(events.publish_on_commit)

    async with listening(group) as receive:
        settings.CHANNEL_LAYERS = channel_layers("redis://127.0.0.1:1/0")
        await publish(group, {"type": "test", "n": 1})
        await asyncio.sleep(0.5)  # the publish runs on the loop, and fails there
        settings.CHANNEL_LAYERS = working
        await publish(group, {"type": "test", "n": 2})
        event = await receive()

    assert json.loads(event["text"]) == {"type": "test", "n": 2}


@pytest.mark.django_db(transaction=True)
def test_when_the_servers_loop_has_stopped_then_a_commit_does_not_wait_on_it(caplog):
    """At shutdown daphne's loop stops, and the interpreter then joins the database
    thread: a disconnect publishing after its commit must not wait for that loop."""
    stopped = asyncio.new_event_loop()

    def database_thread() -> None:
        SyncToAsync.threadlocal.main_event_loop = stopped
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
        events.publish_on_commit("room.1", {"type": "test"})  # no transaction: now

    worker = threading.Thread(target=database_thread, daemon=True)
    try:
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive()
        assert "the server is stopping" in caplog.text
    finally:
        stopped.close()


def plain(text: str, room_id: int = 1) -> dict:
    return {"type": "chat.event", "text": text, "room_id": room_id}


def test_when_a_rooms_messages_come_in_a_run_then_they_are_published_as_one_event():
    published = [
        ("room.1", plain("a")),
        ("room.1", plain("b")),
        ("room.1", plain("c")),
        ("room.2", plain("d", 2)),
        ("room.2", plain("e", 2)),
    ]

    assert events.merged(published) == [
        ("room.1", {"type": "chat.event", "texts": ["a", "b", "c"], "room_id": 1}),
        ("room.2", {"type": "chat.event", "texts": ["d", "e"], "room_id": 2}),
    ]


def test_when_events_are_not_in_one_run_of_plain_events_then_none_is_merged():
    hinted = {**plain("joined"), "subscribe": 1}
    published = [
        ("room.1", plain("a")),
        ("room.2", plain("b", 2)),
        ("room.1", plain("c")),  # another group came between
        ("room.1", hinted),  # a hint travels on its own
        ("room.1", plain("d")),
        ("user.7", plain("e")),
        ("user.7", plain("f", 2)),  # same group, another room
    ]

    assert events.merged(published) == published


@pytest.mark.parametrize(
    "event",
    [plain("a"), {"type": "chat.event", "texts": ["a", "b"], "room_id": 1}],
)
def test_when_an_event_is_split_then_each_text_is_an_event_of_its_own(event):
    split = events.split(event)

    assert [e["text"] for e in split] == events.texts_of(event)
    assert all(e.keys() == {"type", "text", "room_id"} for e in split)


def test_when_groups_are_named_then_room_and_user_groups_differ():
    assert events.room_group(7) == "room.7"
    assert events.user_group(7) == "user.7"
