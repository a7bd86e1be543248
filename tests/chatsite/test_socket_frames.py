"""chatsite/socket_frames.py: one frame per text, byte for byte what RFC 6455 asks.

The frames are checked against an independent implementation (the `websockets`
package's serializer), and read raw off a live daphne socket."""

import base64
import json
import os
import socket
from functools import partial
from urllib.parse import urlsplit

import pytest
from websockets.frames import Frame, Opcode

from chatsite import socket_frames
from rooms import events
from tests import realtime
from tests.http import Session


@pytest.mark.parametrize(
    "text",
    [
        "x",
        "x" * 125,  # the largest length that fits the first two bytes
        "x" * 126,  # two length bytes from here
        "é" * 63,  # 126 bytes in 63 characters: the length counts bytes
        "x" * 65535,
        "x" * 65536,  # eight length bytes from here
        '{"type":"message","body":"héllo 👋"}',
    ],
)
def test_a_text_frame_is_what_an_independent_implementation_makes(text):
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])

    assert socket_frames.text_frame(text) == expected


def test_only_daphnes_websocket_send_has_a_socket_to_write_to():
    async def send(message):
        pass

    class Server:
        async def handle_reply(self, protocol, message):
            pass

    assert socket_frames.daphne_socket(send) is None
    # daphne's shape, but not one of its WebSocket protocols (an HTTP request's).
    assert socket_frames.daphne_socket(partial(Server().handle_reply, object())) is None


def read_frame(raw: socket.socket) -> bytes:
    """One whole frame as it came off the wire, header included."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = raw.recv(count - len(data))
            assert chunk, "the server closed the socket"
            data += chunk
        return data

    header = exactly(2)
    length = header[1] & 0x7F
    if length == 126:
        extra = exactly(2)
        length = int.from_bytes(extra, "big")
    elif length == 127:
        extra = exactly(8)
        length = int.from_bytes(extra, "big")
    else:
        extra = b""
    return header + extra + exactly(length)


def raw_socket(live_server_url: str, session: Session) -> socket.socket:
    """A WebSocket to /ws/ of `session`'s user, opened by hand, past the handshake."""
    url = urlsplit(live_server_url)
    raw = socket.create_connection((url.hostname, url.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            "GET /ws/ HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {live_server_url}\r\n"
            f"Cookie: sessionid={session.cookie('sessionid')}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)
    assert response.startswith(b"HTTP/1.1 101")
    return raw


def test_daphne_sends_each_chat_frame_whole_as_one_unmasked_text_frame(
    live_server_url,
):
    alice = Session(live_server_url).signup()
    bob = Session(live_server_url).signup()
    raw = raw_socket(live_server_url, bob)

    hello = read_frame(raw)
    text = hello[2:].decode()
    assert json.loads(text)["type"] == "hello"
    assert hello == socket_frames.text_frame(text)

    body = "é" * 200  # over 125 bytes: a frame with two length bytes
    alice.send("general", body)
    while True:
        frame = read_frame(raw)
        text = frame[4:].decode() if frame[1] == 126 else frame[2:].decode()
        message = json.loads(text).get("message", {})
        if message.get("author", {}).get("username") == alice.username:
            break
    raw.close()

    assert message["body"] == body
    assert frame == socket_frames.text_frame(text)


def test_a_run_of_texts_in_one_event_reaches_the_socket_as_one_frame_each_in_order(
    live_server_url,
):
    bob = Session(live_server_url).signup()
    raw = raw_socket(live_server_url, bob)
    bob_id = json.loads(read_frame(raw)[2:].decode())["user"]["id"]
    texts = [
        json.dumps({"type": "note", "n": n, "pad": "é" * 40 * n}) for n in range(4)
    ]

    # As rooms.events.merged publishes a run of one room's messages.
    realtime.group_send_from_a_thread(
        events.user_group(bob_id),
        {"type": events.EVENT_HANDLER, "texts": texts, "room_id": None},
    )
    frames = []
    while len(frames) < len(texts):
        frame = read_frame(raw)
        if b'"note"' in frame:
            frames.append(frame)
    raw.close()

    assert frames == [socket_frames.text_frame(text) for text in texts]


def test_a_resume_past_daphnes_message_size_limit_is_told_to_resync_and_stays_open(
    live_server_url,
):
    """daphne sends no WebSocket message over 1 MiB (autobahn raises instead): a
    catch-up that large used to end the socket, and the client's retry met it again."""
    alice = Session(live_server_url).signup()
    bob = Session(live_server_url).signup()
    last_seq = alice.send("general", "before bob went away")["seq"]
    # About 32 KB each as a payload (body and HTML): 40 of them pass 1 MiB.
    for _ in range(40):
        alice.send("general", "👋" * 4000)

    with bob.websocket(max_size=2**22) as bob_socket:
        bob_socket.send(json.dumps({"type": "resume", "rooms": {"general": last_seq}}))
        answer = json.loads(bob_socket.recv(timeout=10))
        assert answer["type"] == "resync"
        assert answer["room"] == "general"
        # Still open, and still answering.
        bob_socket.send(json.dumps({"type": "ping"}))
        assert json.loads(bob_socket.recv(timeout=10))["type"] == "pong"
