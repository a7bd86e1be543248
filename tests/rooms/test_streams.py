"""The event stream, long-polling and POSTed frames, against a live daphne and Redis."""

import json
import threading
import time

import pytest

from rooms import events
from rooms.errors import ChatError
from rooms.streams import Cursor
from tests import realtime
from tests.http import Session, read_events


def test_cursor_round_trips_and_rejects_garbage():
    text = "general:12:3,random-talk:0"
    assert str(Cursor.parse(text)) == text
    assert Cursor.parse(text).changes == {"general": 3}
    assert Cursor.parse("").seqs == {}
    for bad in (
        *("general", "general:x", ":3", "general:-1", "a b:1"),
        *("general:1:", "general:1:x", "general:1:2:3", "general::2"),
    ):
        with pytest.raises(ChatError):
            Cursor.parse(bad)


def test_cursor_drops_messages_the_client_already_has():
    cursor = Cursor({"general": 5}, {})
    assert not cursor.admit(
        {"type": "message", "room": "general", "message": {"seq": 5}}
    )
    assert cursor.admit({"type": "message", "room": "general", "message": {"seq": 6}})
    frame = {
        "type": "messages",
        "room": "general",
        "messages": [{"seq": 6}, {"seq": 7}],
        "changed": [],
        "last_change": 4,
    }
    assert cursor.admit(frame)
    assert frame["messages"] == [{"seq": 7}]
    assert str(cursor) == "general:7"


def change(number: int, kind: str = "message_edited") -> dict:
    return {"type": kind, "room": "general", "change": number}


def test_cursor_advances_its_change_number_only_over_an_unbroken_run():
    cursor = Cursor({"general": 5}, {"general": 2})

    # Published by two processes, 4 may come before 3: the cursor waits at 2, so
    # catching up from it repeats 4 rather than skipping 3.
    assert cursor.admit(change(4, "reactions"))
    assert str(cursor) == "general:5:2"
    assert cursor.admit(change(3, "message_deleted"))
    assert str(cursor) == "general:5:3"
    assert cursor.admit(change(4, "message_edited"))
    assert str(cursor) == "general:5:4"
    # A catch-up answer covers every change up to the room's number when it was read.
    cursor.admit(
        {
            "type": "messages",
            "room": "general",
            "messages": [],
            "changed": [],
            "last_change": 9,
        }
    )
    assert str(cursor) == "general:5:9"
    cursor.admit(
        {"type": "resync", "room": "general", "last_seq": 40, "last_change": 12}
    )
    assert str(cursor) == "general:40:12"


def last_seq(session: Session) -> int:
    status, page = session.get_json("/api/rooms/general/messages")
    assert status == 200
    return page["messages"][-1]["seq"] if page["messages"] else 0


def test_when_a_message_is_posted_then_an_open_stream_receives_it(live_server_url):
    reader = Session(live_server_url).signup()
    writer = Session(live_server_url).signup()
    start = last_seq(reader)
    stream = reader.open(f"/api/stream?cursor=general:{start}", timeout=10)
    assert stream.status == 200
    assert stream.headers["Content-Type"] == "text/event-stream"
    [(_, hello)] = read_events(stream, 1)
    assert hello["type"] == "hello"
    assert hello["user"]["username"] == reader.username

    ack = writer.send("general", "over the stream <b>raw</b>")

    # The catch-up frame for the cursor may come first (possibly empty).
    frames = read_events(stream, 2)
    messages = [f for _, f in frames if f["type"] == "message"]
    if not messages:
        messages = [f for _, f in read_events(stream, 1) if f["type"] == "message"]
    assert messages[0]["message"]["body"] == "over the stream <b>raw</b>"
    assert messages[0]["message"]["seq"] == ack["seq"]
    stream.close()


def test_when_an_event_carries_a_run_of_texts_then_the_stream_sends_each_in_order(
    live_server_url,
):
    reader = Session(live_server_url).signup()
    stream = reader.open(f"/api/stream?cursor=general:{last_seq(reader)}", timeout=10)
    [(_, hello)] = read_events(stream, 1)
    texts = [json.dumps({"type": "note", "n": n}) for n in range(3)]

    # As rooms.events.merged publishes a run of one room's messages.
    realtime.group_send_from_a_thread(
        events.user_group(hello["user"]["id"]),
        {"type": events.EVENT_HANDLER, "texts": texts, "room_id": None},
    )
    notes = []
    for _ in range(6):
        notes += [f for _, f in read_events(stream, 1) if f["type"] == "note"]
        if len(notes) == 3:
            break
    stream.close()

    assert [note["n"] for note in notes] == [0, 1, 2]


def test_when_a_stream_reconnects_with_last_event_id_then_it_gets_exactly_what_it_missed(
    live_server_url,
):
    reader = Session(live_server_url).signup()
    writer = Session(live_server_url).signup()
    start = last_seq(reader)
    sent = [writer.send("general", f"missed {n}")["seq"] for n in range(3)]

    stream = reader.open(
        "/api/stream", headers={"Last-Event-ID": f"general:{start}"}, timeout=10
    )
    (_, hello), (event_id, catch_up) = read_events(stream, 2)
    assert catch_up["type"] == "messages"
    assert [m["seq"] for m in catch_up["messages"]] == sent
    assert [m["body"] for m in catch_up["messages"]] == [
        "missed 0",
        "missed 1",
        "missed 2",
    ]
    assert event_id == f"general:{sent[-1]}"
    stream.close()


def test_a_stream_naming_an_unknown_room_gets_an_error_and_nothing_of_it(
    live_server_url,
):
    reader = Session(live_server_url).signup()
    stream = reader.open("/api/stream?cursor=no-such-room:0", timeout=10)
    (_, hello), (_, error) = read_events(stream, 2)
    assert error == {
        "type": "error",
        "code": "not_found",
        "message": "No such room.",
        "ref": "no-such-room",
    }
    stream.close()


def test_long_poll_returns_missed_messages_at_once(live_server_url):
    reader = Session(live_server_url).signup()
    writer = Session(live_server_url).signup()
    start = last_seq(reader)
    ack = writer.send("general", "waiting for you")
    began = time.monotonic()
    status, answer = reader.get_json(f"/api/poll?cursor=general:{start}")
    assert status == 200
    assert time.monotonic() - began < 5
    [frame] = answer["events"]
    assert [m["seq"] for m in frame["messages"]] == [ack["seq"]]
    assert answer["cursor"] == f"general:{ack['seq']}"


def test_long_poll_waits_for_the_next_message(live_server_url):
    reader = Session(live_server_url).signup()
    writer = Session(live_server_url).signup()
    start = last_seq(reader)
    timer = threading.Timer(1.0, writer.send, args=("general", "worth the wait"))
    timer.start()
    try:
        status, answer = reader.get_json(
            f"/api/poll?cursor=general:{start}", timeout=30
        )
    finally:
        timer.join()
    assert status == 200
    assert [f["message"]["body"] for f in answer["events"]] == ["worth the wait"]


def test_a_poller_catches_up_on_what_changed_between_its_polls(live_server_url):
    reader = Session(live_server_url).signup()
    writer = Session(live_server_url).signup()
    ack = writer.send("general", "first draft")
    status, page = reader.get_json("/api/rooms/general/messages")
    assert status == 200 and page["messages"][-1]["id"] == ack["id"]
    seen = page["last_change"]

    # Between two polls: no poll was waiting to hear it live.
    edit = {"type": "edit", "room": "general", "id": ack["id"], "body": "final"}
    assert writer.post_frame(edit)[0] == 200
    status, answer = reader.get_json(
        f"/api/poll?cursor=general:{ack['seq']}:{seen}", timeout=30
    )

    assert status == 200
    [frame] = answer["events"]
    assert frame["type"] == "messages" and frame["messages"] == []
    assert [(m["id"], m["body"], m["change"]) for m in frame["changed"]] == [
        (ack["id"], "final", seen + 1)
    ]
    assert answer["cursor"] == f"general:{ack['seq']}:{seen + 1}"


@pytest.mark.parametrize("path", ["/api/stream", "/api/poll", "/api/stream?cursor=x"])
def test_anonymous_clients_get_401(live_server_url, path):
    status, body = Session(live_server_url).get_json(path)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"


def test_a_malformed_cursor_gets_a_clear_400(live_server_url):
    reader = Session(live_server_url).signup()
    status, body = reader.get_json("/api/poll?cursor=general:abc")
    assert status == 400
    assert body["error"]["code"] == "invalid"


def test_posted_frames_answer_like_the_socket(live_server_url):
    session = Session(live_server_url).signup()
    status, body = session.post_frame("not json")
    assert status == 400
    assert body["error"]["code"] == "bad_json"
    status, body = session.post_frame({"type": "ping"})
    assert (status, body) == (200, {"frames": [{"type": "pong"}]})
    frame = {"type": "send", "room": "general", "body": "  ", "client_id": "x"}
    status, body = session.post_frame(frame)
    assert status == 400
    assert body["error"]["code"] == "invalid"


def test_posted_frames_need_the_csrf_token(live_server_url):
    session = Session(live_server_url).signup()
    response = session.open(
        "/api/frames",
        data=json.dumps({"type": "ping"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 403
