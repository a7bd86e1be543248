"""Less of daphne's, autobahn's and Twisted's state kept for every open WebSocket.

An idle chat socket is mostly the server's bookkeeping, not the chat's: a census of
daphne holding 2,000 idle sockets (docs/performance.md) found about 24 KB allocated per
socket, of which the chat's own objects are about 4 KB. Three things kept for the whole
life of every socket are only needed for a moment, or not at all:

- **The application's receive queue.** daphne gives every connection an
  `asyncio.Queue`: three deques and an `Event` with a fourth, about 3 KB for a queue
  that is empty while the socket is idle. `Inbox` keeps a list only while something
  waits in it.
- **autobahn's settings, copied into every connection.** autobahn copies 29 settings
  from its factory into each protocol instance, which pushes the instance's attribute
  dict past 85 keys into the next size of table (3.3 KB instead of 1.7 KB), and
  formats them with `pprint` for a debug log on every connect, at any log level.
  `LeanWebSocketFactory` gives its connections a class holding those settings as class
  attributes, made again whenever the factory's settings change, so a connection reads
  the values it was made with, as before, without a copy.
- **The handshake.** After the upgrade, daphne's HTTP channel stays registered as the
  socket's producer (a no-op one: it pauses nothing while its request is unfinished,
  which an upgrade request always is), and with it the parsed HTTP request, its
  headers and cookies. autobahn keeps the raw request and response, the parsed
  headers and the handshake's other fields. `LeanWebSocketProtocol` lets them go once
  the socket is open; what daphne reads later (the path, the client's address) stays.

`install()` makes daphne's server use these; everything else (frames, closing, pings,
timeouts, the ASGI messages an application sees) is daphne's and autobahn's, unchanged.
"""

import asyncio
from functools import partial
from typing import Any

from autobahn.websocket.protocol import WebSocketServerProtocol
from daphne import server as daphne_server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.web.http import HTTPChannel

_SETTINGS = tuple(WebSocketServerProtocol.CONFIG_ATTRS)

# What autobahn's server handshake reads and nothing reads after it (autobahn's
# `processHandshake` and `succeedHandshake`; daphne reads its own `request.path`).
_HANDSHAKE_ONLY = (
    "http_request_data",
    "http_response_data",
    "http_headers",
    "http_status_line",
    "http_request_uri",
    "http_request_path",
    "http_request_params",
    "http_request_host",
    "_wskey",
    "websocket_origin",
    "websocket_protocols",
    "websocket_extensions",
)


class Inbox:
    """A connection's queue of ASGI messages for its application: what daphne needs
    of `asyncio.Queue` (`put_nowait`, and `get` as the application's `receive`),
    holding nothing but the waiting application's future while it is empty. Unbounded,
    as daphne's is. One `get` waits at a time, as an ASGI application's `receive` is
    called; a second is an error, not a message silently handed to one of them."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = [item]
        else:
            self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("another receive() is already waiting")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        items = self._items
        item = items.pop(0)
        if not items:
            self._items = None
        return item


def create_application(
    self: daphne_server.Server, protocol: Any, scope: dict[str, Any]
) -> Inbox | None:
    """daphne's `Server.create_application`, with an `Inbox` for the queue."""
    assert "application_instance" not in self.connections[protocol]
    inbox = Inbox()
    scope.setdefault("asgi", {"version": "3.0"})
    application_instance = self.application(
        scope=scope,
        receive=inbox.get,
        send=partial(self.handle_reply, protocol),
    )
    if protocol not in self.connections:
        return None
    self.connections[protocol]["application_instance"] = asyncio.ensure_future(
        application_instance,
        loop=asyncio.get_event_loop(),
    )
    return inbox


class LeanWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, reading its settings from its class (see
    `LeanWebSocketFactory`) and letting the handshake go once the socket is open."""

    CONFIG_ATTRS = ()

    def onOpen(self) -> None:  # noqa: N802 (autobahn's interface)
        super().onOpen()
        self._release_handshake()

    def _release_handshake(self) -> None:
        for name in _HANDSHAKE_ONLY:
            setattr(self, name, None)
        self.request.headers = {}
        transport = self.transport
        if isinstance(getattr(transport, "producer", None), HTTPChannel):
            transport.unregisterProducer()


def _as_class_attribute(value: Any) -> Any:
    """A function-valued setting (`perMessageCompressionAccept`) would be bound as a
    method when read from a class; on the instance, as autobahn kept it, it was not."""
    return staticmethod(value) if hasattr(type(value), "__get__") else value


class LeanWebSocketFactory(WebSocketFactory):
    """daphne's factory, whose connections are of a `LeanWebSocketProtocol` class that
    holds the factory's settings as they were when the connection was made (what
    autobahn's copy gave each connection); a change of settings makes a new class."""

    _settings: tuple[Any, ...] | None = None

    def buildProtocol(self, addr: Any) -> LeanWebSocketProtocol:  # noqa: N802
        settings = tuple(getattr(self, name) for name in _SETTINGS)
        if settings != self._settings:
            self._settings = settings
            self.protocol = type(
                LeanWebSocketProtocol.__name__,
                (LeanWebSocketProtocol,),
                {
                    name: _as_class_attribute(value)
                    for name, value in zip(_SETTINGS, settings, strict=True)
                },
            )
        return super().buildProtocol(addr)


def install() -> None:
    """Idempotent; affects daphne servers this process starts from now on."""
    daphne_server.WebSocketFactory = LeanWebSocketFactory
    daphne_server.Server.create_application = create_application
