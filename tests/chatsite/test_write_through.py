"""chatsite/write_through.py: a write goes out at once only when nothing is queued.

Real Twisted TCP connections over a real socket pair. The reactor is the one thing
not run: it only records which connections asked to be told of writability, which is
what the module changes (the loop's part is Twisted's and unchanged). The last test
runs the real thing: daphne, and a reader that stops reading."""

import json
import socket
from urllib.parse import urlsplit

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol

from chatsite import write_through
from tests.http import Session


class Reactor:
    """Records writability registrations, as the event loop would hold them."""

    def __init__(self) -> None:
        self.writers: set = set()

    def addWriter(self, writer) -> None:  # noqa: N802 (Twisted's interface)
        self.writers.add(writer)

    def removeWriter(self, writer) -> None:  # noqa: N802
        self.writers.discard(writer)

    def addReader(self, reader) -> None:  # noqa: N802
        pass

    def removeReader(self, reader) -> None:  # noqa: N802
        pass


class Lost(Protocol):
    """Also stands in for a TLS layer: what it is handed to encrypt."""

    encrypted = b""

    def connectionLost(self, reason=None) -> None:  # noqa: N802
        self.lost = reason

    def write(self, data: bytes) -> None:
        self.encrypted += data


@pytest.fixture(autouse=True)
def installed():
    original = tcp.Connection.write
    write_through.install()
    yield
    tcp.Connection.write = original


@pytest.fixture
def pair():
    """A Twisted connection on one end of a socket pair, and the raw other end."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    theirs.settimeout(5)  # a write that never arrives fails the test, not hangs it
    reactor = Reactor()
    protocol = Lost()
    connection = tcp.Connection(ours, protocol, reactor)
    connection.connected = True
    protocol.makeConnection(connection)
    yield connection, theirs, reactor
    ours.close()
    theirs.close()


def drain(connection, theirs, reactor) -> bytes:
    """Runs the loop's part by hand: write when registered, read the other end."""
    theirs.settimeout(0.2)
    received = b""
    for _ in range(10_000):
        if connection in reactor.writers:
            assert connection.doWrite() is None
        try:
            chunk = theirs.recv(65536)
        except TimeoutError:
            if connection not in reactor.writers:
                return received
            continue
        received += chunk
    raise AssertionError("did not drain")


def test_with_nothing_queued_a_write_is_sent_at_once_without_the_loop(pair):
    connection, theirs, reactor = pair

    connection.write(b"hello")

    assert theirs.recv(100) == b"hello"
    assert not reactor.writers


def test_what_the_kernel_does_not_take_is_queued_and_later_writes_wait_behind_it(pair):
    connection, theirs, reactor = pair
    chunks = [bytes([n]) * 3000 for n in range(200)]

    for chunk in chunks:
        connection.write(chunk)

    # The socket buffer filled: the rest waits for the loop, in order.
    assert connection in reactor.writers
    assert connection._tempDataLen or connection.offset < len(connection.dataBuffer)
    assert drain(connection, theirs, reactor) == b"".join(chunks)
    assert not reactor.writers

    connection.write(b"after")
    assert theirs.recv(100) == b"after"


def test_a_write_to_a_lost_peer_takes_twisteds_path_and_is_reported_there(pair):
    connection, theirs, reactor = pair
    theirs.close()

    connection.write(b"x" * 100_000)
    connection.write(b"more")

    # No exception from write; the loop finds the connection lost, as without this.
    assert connection in reactor.writers
    results = [connection.doWrite() for _ in range(3)]
    assert any(isinstance(result, Exception) for result in results)


def test_a_tls_connections_writes_go_to_its_tls_layer(pair):
    connection, theirs, reactor = pair
    connection.TLS = True

    connection.write(b"secret")

    assert connection.protocol.encrypted == b"secret"
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(100)


def test_a_closing_connection_queues_and_what_follows_waits_behind_it(pair):
    connection, theirs, reactor = pair

    connection.disconnecting = True
    connection.write(b"closing")
    assert connection in reactor.writers

    connection.disconnecting = False
    connection.write(b" in order")
    assert connection in reactor.writers
    assert drain(connection, theirs, reactor) == b"closing in order"


def test_a_socket_that_stops_reading_gets_every_message_in_order_once_it_reads(
    live_server_url,
):
    alice = Session(live_server_url).signup()
    bob = Session(live_server_url).signup()
    url = urlsplit(live_server_url)
    raw = socket.create_connection((url.hostname, url.port), timeout=10)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # The client stops reading from the socket once two messages wait unread, so
    # what alice sends piles up in the kernel's buffers and then in daphne's.
    with bob.websocket(sock=raw, max_queue=2) as bob_socket:
        sent = [
            alice.send("general", f"{n:03d} " + "x" * 3990)["seq"] for n in range(60)
        ]

        received = []
        while len(received) < len(sent):
            frame = json.loads(bob_socket.recv(timeout=10))
            message = frame.get("message", {})
            if message.get("author", {}).get("username") == alice.username:
                received.append(message["seq"])

    assert received == sent
