"""The WebSocket adapter: one socket per browser tab at /ws/.

Thin on purpose: frames are parsed and answered by rooms.protocol, what the socket
follows is a rooms.realtime.Follower, and events arrive already rendered to text.
The socket counts as present while open, and gets presence events once its client
reports presence (see rooms.realtime.Follower.answer)."""

import logging
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from chatsite import socket_frames
from chatsite.layers import CONNECTION_LOST
from rooms import connections, events, protocol, sessions
from rooms.errors import ChatError
from rooms.realtime import Follower
from rooms.sessions import SessionEnded

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401  # also: signed out since (a `signed_out` frame says why)
CLOSE_IDLE = 4408  # sent nothing for CHAT_SOCKET_IDLE_SECONDS
CLOSE_TOO_MANY = 4429  # the user holds CHAT_MAX_SOCKETS_PER_USER sockets already
CLOSE_LAYER_LOST = 4503  # the server lost its Redis: reconnect and resume


class ChatConsumer(AsyncWebsocketConsumer):
    follower: Follower | None = None
    watchdog: connections.Watchdog | None = None
    # Chat events that reached the listener before the hello frame went out.
    _early: list[dict[str, Any]] | None = None
    # Under daphne, the socket text frames are written to directly (send()).
    _socket: Any = None

    async def __call__(self, scope, receive, send) -> None:
        """As channels' AsyncConsumer.__call__, but on a layer that fans out per
        process (chatsite.layers) the consumer opens a listener channel: chat events
        come straight to _forward, with no queue, receive task, Redis subscription or
        decoding of its own per socket."""
        layer = get_channel_layer(self.channel_layer_alias)
        if not hasattr(layer, "open_listener"):
            await super().__call__(scope, receive, send)
            return
        self.scope = scope
        self.channel_layer = layer
        self.base_send = send
        self._socket = socket_frames.daphne_socket(send)
        self._early = []
        self.channel_name = layer.open_listener(self._forward)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            layer.close_listener(self.channel_name)

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            # Closing before accept refuses the handshake (HTTP 403).
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not connections.admit_socket(user.pk):
            # Accepted first, so that the browser sees the code and the reason.
            await self.accept()
            error = ChatError(
                "Too many open connections; close some tabs.", code="too_many"
            )
            await self._send_frame(protocol.error_frame(error))
            await self.close(code=CLOSE_TOO_MANY)
            return
        session_key = self.scope["session_key"]
        follower = Follower(
            self.channel_layer,
            self.channel_name,
            user,
            session_key,
            presence_id=self.channel_name,
        )
        try:
            await follower.start()
        except RedisError:
            # The client retries with backoff, then resumes from its last seq.
            connections.release_socket(user.pk)
            logger.warning("Refused a socket: the channel layer cannot reach Redis")
            await self.close(code=CLOSE_LAYER_LOST)
            return
        except BaseException:
            connections.release_socket(user.pk)
            raise
        self.follower = follower
        self.watchdog = connections.Watchdog(self._idle, self._recheck)
        await self.accept()
        self.watchdog.start()
        await self._send_frame({"type": "hello", "user": events.user_payload(user)})
        # Then what arrived meanwhile, in order (more may arrive while this runs).
        while self._early:
            await self.chat_event(self._early.pop(0))
        self._early = None

    async def disconnect(self, code: int) -> None:
        if self.follower is None:
            return
        connections.release_socket(self.follower.user.pk)
        self.watchdog.stop()
        await self.follower.stop()

    async def receive(self, text_data: str | None = None, bytes_data=None) -> None:
        if self.follower is None:
            return  # refused, and closing
        self.watchdog.heard()
        if text_data is None:
            error = protocol.ProtocolError("Send text frames.", code="bad_json")
            await self._send_frame(protocol.error_frame(error))
            return
        try:
            frame = protocol.parse(text_data)
        except ChatError as error:
            await self._send_frame(protocol.error_frame(error))
            return
        try:
            frames = await self.follower.answer(frame)
        except Exception:
            logger.exception("Frame %s failed", frame["type"])
            frames = [protocol.internal_error_frame(frame)]
        for out in frames:
            await self._send_frame(out)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Calls the handler without channels' database cleanup before each one.

        channels 4 runs aclose_old_connections(), a round trip through the single
        database thread, before every handler. Here it only adds waiting: chat events
        forward ready-made text, and every database call this consumer makes goes
        through database_sync_to_async (rooms.realtime), which closes stale
        connections itself before and after the call. A handler that reaches the
        database any other way (the async ORM) must close them itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def chat_event(self, event: dict[str, Any]) -> None:
        try:
            texts = await self.follower.admit(event)
        except SessionEnded as ended:
            await self._sign_out(ended)
            return
        if not texts:
            return
        if self._socket is not None and socket_frames.write_texts(self._socket, texts):
            return
        for text in texts:
            await self.send(text_data=text)

    async def _idle(self) -> None:
        await self.close(code=CLOSE_IDLE)

    async def _recheck(self) -> None:
        try:
            await sessions.recheck(self.follower.user.pk, self.follower.session_key)
        except SessionEnded as ended:
            await self._sign_out(ended)

    async def _sign_out(self, ended: SessionEnded) -> None:
        await self._send_frame(ended.frame)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _forward(self, event: dict[str, Any]) -> bool:
        """The layer's listener: True when the event was ours to deal with."""
        if event == CONNECTION_LOST:
            # Events may have been lost: the client reconnects and catches up by seq.
            await self.close(code=CLOSE_LAYER_LOST)
            return True
        if event.get("type") != events.EVENT_HANDLER:
            return False
        if self._early is not None:
            # Not accepted yet, or the hello is still going out: keep it for later.
            self._early.append(event)
        else:
            await self.chat_event(event)
        return True

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=events.encode(frame))

    async def send(
        self,
        text_data: str | None = None,
        bytes_data: bytes | None = None,
        close: bool | int = False,
    ) -> None:
        """As channels' send, but a text frame goes straight to daphne's socket when
        it can (chatsite.socket_frames), and a socket the client has begun to close is
        no error.

        Between the client's close frame and daphne's disconnect message, daphne's
        WebSocket layer (autobahn) raises on every send. In a busy room that happens
        whenever someone closes a tab, and it is nobody's failure: the disconnect
        message is on its way and ends this consumer."""
        if (
            text_data
            and not close
            and self._socket is not None
            and socket_frames.write_texts(self._socket, [text_data])
        ):
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            logger.debug("Not sent: %s is closing", self.channel_name)
