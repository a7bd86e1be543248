"""Scale-out: two daphne processes sharing one Redis and one database act as one chat.

Real processes, a real WebSocket client over TCP, sign-up through the real form.
"""

import copy
import json
import signal
import time
import uuid
from contextlib import ExitStack

from tests.http import Session
from tests.servers import Daphne


def next_frame(socket, kind: str, timeout: float = 10) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        if frame["type"] == kind:
            return frame


def test_when_a_message_is_sent_through_one_daphne_then_a_socket_on_another_gets_it(
    live_site,
):
    with ExitStack() as stack:
        first = Daphne(live_site).start()
        stack.callback(first.stop)
        second = Daphne(live_site).start()
        stack.callback(second.stop)
        assert first.process.pid != second.process.pid

        alice = Session(first.url).signup()
        bob = Session(second.url).signup()
        on_first = stack.enter_context(alice.websocket())
        on_second = stack.enter_context(bob.websocket())

        # Alice, on the first daphne, writes to the room both signed up into.
        body = f"across processes {uuid.uuid4()}"
        client_id = str(uuid.uuid4())
        on_first.send(
            json.dumps(
                {
                    "type": "send",
                    "room": "general",
                    "body": body,
                    "client_id": client_id,
                }
            )
        )
        ack = next_frame(on_first, "ack")
        assert ack["client_id"] == client_id

        seen_by_bob = next_frame(on_second, "message")
        assert seen_by_bob["message"]["body"] == body
        assert seen_by_bob["message"]["seq"] == ack["seq"]
        assert seen_by_bob["message"]["author"]["username"] == alice.username

        # And back the other way.
        reply = f"heard you {uuid.uuid4()}"
        on_second.send(
            json.dumps(
                {
                    "type": "send",
                    "room": "general",
                    "body": reply,
                    "client_id": str(uuid.uuid4()),
                }
            )
        )
        seen_by_alice = next_frame(on_first, "message")
        while seen_by_alice["message"]["body"] == body:  # her own message first
            seen_by_alice = next_frame(on_first, "message")
        assert seen_by_alice["message"]["body"] == reply
        assert seen_by_alice["message"]["seq"] == ack["seq"] + 1


def test_when_a_daphne_is_killed_its_users_go_offline_for_readers_on_another(
    live_site,
):
    """Nobody tells anyone when a process dies: its presence entries lapse
    (CHAT_PRESENCE_TTL, short here) and the surviving process's sweep announces it."""
    site = copy.copy(live_site)
    site.env = {**live_site.env, "CHAT_PRESENCE_TTL": "2"}
    with ExitStack() as stack:
        doomed = Daphne(site).start()
        stack.callback(doomed.stop)
        survivor = Daphne(site).start()
        stack.callback(survivor.stop)
        alice = Session(doomed.url).signup()
        bob = Session(survivor.url).signup()
        _, found = bob.get_json(f"/api/users?q={alice.username}")
        alice_id = found["users"][0]["id"]

        watcher = stack.enter_context(bob.websocket())
        watcher.send(json.dumps({"type": "presence", "status": "online"}))
        stack.enter_context(alice.websocket())
        assert presence_of(watcher, alice_id) == "online"

        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(10)
        killed_at = time.monotonic()

        assert presence_of(watcher, alice_id) == "offline"
        # Within the TTL and one refresh period of the survivor, with some slack.
        assert time.monotonic() - killed_at < 2 + 2 / 3 + 3
        _, answer = bob.get_json(f"/api/presence?user={alice_id}")
        assert answer == {"presence": {str(alice_id): "offline"}}


def presence_of(socket, user_id: int) -> str:
    """The next presence event about `user_id` (others in the room may come and go)."""
    while (frame := next_frame(socket, "presence"))["user"] != user_id:
        pass
    return frame["status"]
