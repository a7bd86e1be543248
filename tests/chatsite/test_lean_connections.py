"""chatsite/lean_connections.py: what an open WebSocket keeps of the server's state.

The connection tests drive daphne's own HTTP protocol, its upgrade to a WebSocket and
autobahn's handshake in this process, over Twisted's in-memory transport, with an ASGI
application on the running asyncio loop: the code paths a socket takes in production,
with the objects left to inspect. Live daphne processes run the rest of the suite with
the module installed (chatsite.asgi installs it)."""

import asyncio
import base64
import gc
import os
import tracemalloc
import weakref

import pytest
from autobahn.websocket.protocol import WebSocketServerProtocol
from daphne import server as daphne_server
from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from websockets.frames import Frame, Opcode

from chatsite import lean_connections
from chatsite.lean_connections import Inbox

SETTINGS = WebSocketServerProtocol.CONFIG_ATTRS


async def test_an_inbox_hands_out_messages_in_order_and_waits_when_empty():
    inbox = Inbox()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert await inbox.get() == 1
    assert await inbox.get() == 2

    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait(3)
    assert await asyncio.wait_for(waiting, 5) == 3


async def test_an_inbox_loses_nothing_when_a_waiting_get_is_cancelled():
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    inbox.put_nowait("after")
    assert await asyncio.wait_for(inbox.get(), 5) == "after"


async def test_an_inbox_refuses_a_second_waiting_get():
    inbox = Inbox()
    first = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await inbox.get()
    inbox.put_nowait("one")
    assert await asyncio.wait_for(first, 5) == "one"


async def test_an_idle_inbox_costs_a_fraction_of_an_asyncio_queue():
    """What an idle socket holds: a queue with its application waiting on it."""

    async def held(make) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            queues = [make() for _ in range(500)]
            waiting = [asyncio.ensure_future(queue.get()) for queue in queues]
            await asyncio.sleep(0)
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        return used

    assert await held(Inbox) < await held(asyncio.Queue) * 0.6


class Connection:
    """daphne's HTTP protocol on an in-memory transport, upgraded to a WebSocket."""

    def __init__(self, server: Server, extra_headers: bytes = b"") -> None:
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8000),
            peerAddress=IPv4Address("TCP", "127.0.0.1", 40000),
        )
        http = server.http_factory.buildProtocol(self.transport.getPeer())
        http.makeConnection(self.transport)
        self.http_channel = weakref.ref(self.transport.producer)
        key = base64.b64encode(os.urandom(16))
        http.dataReceived(
            b"GET /ws/?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
            b"Origin: http://127.0.0.1:8000\r\nCookie: sessionid=abc\r\n"
            + extra_headers
            + b"\r\n"
        )
        self.protocol = self.transport.protocol

    def send_text(self, text: str) -> None:
        frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=True, extensions=[])
        self.protocol.dataReceived(frame)


@pytest.fixture
def server():
    """A daphne server set up as `Server.run` sets it up, without the listening port
    and the reactor: its application records each scope and echoes what it
    receives."""
    lean_connections.install()
    received: list[dict] = []

    async def application(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "websocket.disconnect":
                return

    server = Server(application=application, endpoints=["tcp:port=0"])
    server.connections = {}
    server.http_factory = HTTPFactory(server)
    server.ws_factory = daphne_server.WebSocketFactory(server, server="daphne")
    server.ws_factory.setProtocolOptions(
        autoPingTimeout=server.ping_timeout,
        allowNullOrigin=True,
        openHandshakeTimeout=server.websocket_handshake_timeout,
        maxMessagePayloadSize=server.websocket_max_message_size,
        maxFramePayloadSize=server.websocket_max_frame_size,
    )
    server.received = received
    return server


async def opened(server: Server, **kwargs) -> Connection:
    connection = Connection(server, **kwargs)
    for _ in range(20):  # the application accepts on the loop's next turns
        if connection.protocol.state == WebSocketServerProtocol.STATE_OPEN:
            return connection
        await asyncio.sleep(0)
    raise AssertionError(f"not opened: {connection.transport.value()!r}")


async def test_an_open_socket_has_let_go_of_its_handshake_and_still_carries_frames(
    server,
):
    connection = await opened(server)
    protocol = connection.protocol

    assert connection.transport.value().startswith(b"HTTP/1.1 101 ")
    for name in lean_connections._HANDSHAKE_ONLY:
        assert getattr(protocol, name) is None, name
    assert protocol.request.headers == {}
    assert protocol.request.path == "/ws/"  # daphne logs it at the close
    server.application_checker()  # daphne's sweep (each second), which drops the
    gc.collect()  # HTTP request it marked as gone at the upgrade
    assert connection.http_channel() is None, "the HTTP channel and request are kept"

    connection.send_text("héllo")
    for _ in range(20):
        if server.received:
            break
        await asyncio.sleep(0)
    assert server.received == [{"type": "websocket.receive", "text": "héllo"}]


async def test_a_socket_reads_the_settings_it_was_made_with_from_its_class(server):
    factory = server.ws_factory
    first = (await opened(server)).protocol

    assert not set(SETTINGS) & set(vars(first))
    for name in SETTINGS:
        assert getattr(first, name) == getattr(factory, name), name
    assert first.maxMessagePayloadSize == 1024 * 1024  # daphne's, not autobahn's 0
    assert first.autoPingTimeout == server.ping_timeout

    factory.setProtocolOptions(maxMessagePayloadSize=4096)
    second = (await opened(server)).protocol

    assert second.maxMessagePayloadSize == 4096
    assert first.maxMessagePayloadSize == 1024 * 1024  # as autobahn's copy kept it
    assert type(second) is not type(first)
    assert type((await opened(server)).protocol) is type(second)


async def test_a_client_offering_compression_is_answered_as_before(server):
    """The factory's `perMessageCompressionAccept` is a function; read from a class it
    must not become a method (the handshake failed silently when it did)."""
    connection = await opened(
        server,
        extra_headers=b"Sec-WebSocket-Extensions: permessage-deflate; "
        b"client_max_window_bits\r\n",
    )

    response = connection.transport.value().split(b"\r\n\r\n")[0]
    assert response.startswith(b"HTTP/1.1 101 ")
    assert b"sec-websocket-extensions" not in response.lower()
    assert connection.protocol._perMessageCompress is None
