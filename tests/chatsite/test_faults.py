"""Server faults with real processes: Redis stopped or restarted under a live daphne.

The database is the truth and the channel layer a doorbell: with Redis gone a message is
still stored and acknowledged at once, and whoever missed its live event gets it by
catching up. Each test here runs its own Redis and daphne (tests/servers.py), and leaves
Redis running for the next.
"""

import http.client
import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection

from tests.http import Session, read_events
from tests.servers import Daphne, RedisServer, Site

# A send must not wait on a Redis that is gone: it costs a database write, not a
# connection timeout (the layer's is 5 s). Generous, for a loaded machine.
SEND_BUDGET_SECONDS = 2.0


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("fault-redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis: RedisServer) -> Site:
    site = Site(tmp_path_factory.mktemp("fault-site"), redis.url)
    site.env.update({"CHAT_LOGIN_FAILURE_LIMIT": "1000", "CHAT_SEND_BURST": "100000"})
    return site.prepare()


@pytest.fixture
def daphne(site: Site, redis: RedisServer) -> Iterator[Daphne]:
    server = Daphne(site).start()
    try:
        yield server
    finally:
        server.stop()
        if redis.process.poll() is None:
            redis.process.send_signal(signal.SIGCONT)
        else:
            redis.start()


def next_frame(socket: ClientConnection, kind: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


def send_frame(body: str) -> dict:
    return {
        "type": "send",
        "room": "general",
        "body": body,
        "client_id": str(uuid.uuid4()),
    }


def newest_seq(session: Session) -> int:
    status, page = session.get_json("/api/rooms/general/messages")
    assert status == 200
    return page["messages"][-1]["seq"] if page["messages"] else 0


def resume(socket: ClientConnection, after: int) -> list[dict]:
    socket.send(json.dumps({"type": "resume", "rooms": {"general": after}}))
    return next_frame(socket, "messages")["messages"]


def until_closed(socket: ClientConnection, timeout: float) -> ConnectionClosed:
    """Reads until the server closes the socket (a read timing out fails the test);
    the close, for its code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=timeout)
    return closed.value


def wait_for_log(server: Daphne, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log.read_text():
        assert time.monotonic() < deadline, f"{text!r} never logged"
        time.sleep(0.1)


def test_with_redis_stopped_a_send_is_stored_and_acked_at_once_and_caught_up_later(
    daphne, redis
):
    alice = Session(daphne.url).signup()
    bob = Session(daphne.url).signup()
    before = newest_seq(bob)
    with alice.websocket() as socket:
        # A socket whose live events may now be lost is closed, so that its client
        # comes back and catches up (the next test follows one through it).
        redis.stop()
        closed = until_closed(socket, 10)
    assert closed.rcvd is not None and closed.rcvd.code == 4503

    began = time.monotonic()
    status, answer = alice.post_frame(send_frame("over HTTP, Redis down"))
    post_cost = time.monotonic() - began
    began = time.monotonic()
    status_again, answer_again = alice.post_frame(send_frame("again, Redis down"))
    again_cost = time.monotonic() - began

    assert (status, status_again) == (200, 200)
    [ack] = answer["frames"]
    [posted] = answer_again["frames"]
    assert (ack["type"], posted["type"]) == ("ack", "ack")
    assert post_cost < SEND_BUDGET_SECONDS, f"POSTed send took {post_cost:.2f} s"
    assert again_cost < SEND_BUDGET_SECONDS, f"POSTed send took {again_cost:.2f} s"
    wait_for_log(daphne, "Could not publish")
    assert newest_seq(bob) == posted["seq"] == ack["seq"] + 1 == before + 2
    # Nothing can follow rooms meanwhile: a stream ends at once, before its hello, so
    # its client reconnects later instead of hanging...
    stream = bob.open(f"/api/stream?cursor=general:{before}", timeout=10)
    assert stream.status == 200
    assert b"hello" not in stream.read()
    # and a poll's answer ends without JSON: for its client, a failed poll.
    poll = bob.open(f"/api/poll?cursor=general:{before}", timeout=10)
    assert poll.read().strip() == b""

    redis.start()
    # New connections need the layer: once it is back, the socket and the stream both
    # catch up on what was never announced.
    deadline = time.monotonic() + 15
    while True:
        try:
            with bob.websocket() as socket:
                missed = resume(socket, before)
            break
        except (InvalidStatus, ConnectionClosed, TimeoutError):
            assert time.monotonic() < deadline, "no socket after Redis came back"
            time.sleep(0.2)
    assert [m["body"] for m in missed] == [
        "over HTTP, Redis down",
        "again, Redis down",
    ]
    stream = bob.open(f"/api/stream?cursor=general:{before}", timeout=10)
    (_, hello), (_, caught_up) = read_events(stream, 2)
    stream.close()
    assert [m["seq"] for m in caught_up["messages"]] == [ack["seq"], posted["seq"]]


def test_with_redis_hung_a_send_is_still_acked_within_seconds(daphne, redis):
    """A Redis that accepts connections and never answers (here: SIGSTOP) costs a send
    the flood-control store's 1 s timeout, no more; the publish waits in the background
    and goes out once Redis answers again."""
    alice = Session(daphne.url).signup()
    bob = Session(daphne.url).signup()
    with bob.websocket() as reader, alice.websocket() as socket:
        redis.process.send_signal(signal.SIGSTOP)
        try:
            began = time.monotonic()
            socket.send(json.dumps(send_frame("Redis is hung")))
            ack = next_frame(socket, "ack", timeout=30)
            cost = time.monotonic() - began
        finally:
            redis.process.send_signal(signal.SIGCONT)
        assert cost < SEND_BUDGET_SECONDS + 1, f"send took {cost:.2f} s"
        late = next_frame(reader, "message")
    assert late["message"]["seq"] == ack["seq"]


def test_after_a_redis_restart_live_delivery_resumes_and_a_resume_fills_the_gap(
    daphne, redis
):
    alice = Session(daphne.url).signup()
    bob = Session(daphne.url).signup()
    before = newest_seq(bob)
    with bob.websocket() as socket:
        redis.stop()
        until_closed(socket, 10)
    lost = alice.send("general", "sent while Redis was down")
    redis.start()

    # The client comes back as soon as the layer can follow rooms again...
    deadline = time.monotonic() + 15
    while True:
        try:
            with bob.websocket() as socket:
                # ...and resumes: everything it missed, in order, once...
                missed = resume(socket, before)
                # ...and live delivery works again.
                sent = alice.send("general", "anyone there?")
                live = next_frame(socket, "message")
            break
        except (InvalidStatus, ConnectionClosed, TimeoutError):
            assert time.monotonic() < deadline, "no socket after Redis came back"
            time.sleep(0.2)
    # (Earlier tries may have sent "anyone there?" too: all of it, in order, once.)
    assert [m["seq"] for m in missed] == list(range(before + 1, sent["seq"]))
    assert missed[lost["seq"] - before - 1]["body"] == "sent while Redis was down"
    assert live["message"]["seq"] == sent["seq"]


def test_when_the_layer_loses_redis_open_sockets_are_closed_so_clients_catch_up(
    daphne, redis
):
    bob = Session(daphne.url).signup()
    with bob.websocket() as socket:
        redis.stop()
        until_closed(socket, 5)


def test_a_socket_opened_while_redis_is_down_is_told_to_catch_up_once_it_is_back(
    daphne, redis
):
    """channels-redis counts a group as subscribed until Redis says otherwise, so a
    socket may open during an outage (and send: the database needs no Redis). What is
    published before the layer has subscribed again never reaches it, so once the
    layer is back it closes the socket and the client reconnects and catches up. A
    socket whose groups the layer would have to subscribe to afresh is refused."""
    alice = Session(daphne.url).signup()
    bob = Session(daphne.url).signup()
    carol = Session(daphne.url).signup()
    with bob.websocket() as socket:
        redis.stop()
        until_closed(socket, 5)
    with pytest.raises(InvalidStatus):
        with carol.websocket():
            pass
    wait_for_log(daphne, "Refused a socket: the channel layer cannot reach Redis")
    with bob.websocket() as socket:
        socket.send(json.dumps(send_frame("sent while Redis was down")))
        acked = next_frame(socket, "ack")
        lost = alice.send("general", "also sent while Redis was down")
        redis.start()
        closed = until_closed(socket, 10)
    assert closed.rcvd.code == 4503
    with bob.websocket() as socket:
        missed = [m["seq"] for m in resume(socket, acked["seq"] - 1)]
    assert missed[:2] == [acked["seq"], lost["seq"]]
    # No handler failed on the way, though every unsubscribe and Carol's subscribe did.
    assert "Exception inside application" not in daphne.log.read_text()


def test_a_daphne_told_to_stop_does_not_wait_for_a_long_poll(daphne):
    """A deploy stops daphne with SIGTERM: a poll waiting for events must not hold it."""
    bob = Session(daphne.url).signup()
    cursor = f"general:{newest_seq(bob)}"

    def poll() -> None:
        try:
            bob.open(f"/api/poll?cursor={cursor}", timeout=30).read()
        except (OSError, http.client.HTTPException):
            pass  # the server went away: that is the point

    waiting = threading.Thread(target=poll, daemon=True)
    waiting.start()
    time.sleep(1)
    began = time.monotonic()
    daphne.process.send_signal(signal.SIGTERM)
    daphne.process.wait(timeout=20)
    assert time.monotonic() - began < 5
    waiting.join(timeout=5)
