"""Text messages written to daphne's WebSockets as frames built once per text.

A chat event goes to every socket of a room with the same text. Through ASGI each copy
is a `websocket.send` message that passes channels' send, daphne's `handle_reply` and
autobahn's `sendMessage`, `sendFrame` and `sendData` (which also formats debug-log
arguments nobody logs) before its bytes reach the socket. In a profile of daphne
delivering to a room of 500, those layers took more of the server's CPU than the socket
writes themselves (docs/performance.md).

A server's frames are not masked, so with no compression and no fragmentation every
socket that gets a text gets the same bytes. `text_frame` builds them once per text
(RFC 6455, section 5.2) and `write_text` hands them to the socket's transport, only when
autobahn would have written exactly those bytes itself: the socket is open, nothing is
queued in autobahn, the message is within its size limit. Anything else (a closing
socket, an empty text, compression) returns False, and the caller takes the ASGI path,
whose behaviour is then unchanged. Closing and accepting always take that path.
"""

import struct
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from daphne.ws_protocol import WebSocketProtocol

_OPEN = WebSocketProtocol.STATE_OPEN
_TEXT_FIN = 0x81  # FIN set, opcode 1 (text), no extension bits


def daphne_socket(send: Callable[..., Any]) -> WebSocketProtocol | None:
    """The autobahn protocol behind daphne's ASGI `send` for a WebSocket, or None for
    any other server (or daphne options that change how frames are written)."""
    if not isinstance(send, partial) or getattr(send.func, "__name__", None) != (
        "handle_reply"
    ):
        return None
    protocol = send.args[0] if send.args else None
    if not isinstance(protocol, WebSocketProtocol):
        return None
    if protocol.logFrames or protocol.logOctets or protocol.trackTimings:
        return None
    if protocol.factory.maskServerFrames:
        return None
    return protocol


@lru_cache(maxsize=256)
def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame. Cached: one event (of up to a run of
    texts, rooms.events.merged) is written to many sockets in a row, and a str keeps
    its hash, so each further lookup is cheap."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _TEXT_FIN, length)
    elif length < 65536:
        header = struct.pack("!BBH", _TEXT_FIN, 126, length)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, length)
    return header + payload


def write_texts(protocol: WebSocketProtocol, texts: list[str]) -> bool:
    """Writes each text as one frame, as autobahn would, all in one write to the
    socket; False when they must be sent the ordinary way (nothing has been written
    then)."""
    if (
        not texts
        or protocol.state != _OPEN
        or protocol._perMessageCompress is not None
        or protocol.autoFragmentSize
        or protocol.send_queue
    ):
        return False
    frames = []
    for text in texts:
        if not text:
            return False  # an empty text: autobahn decides
        frame = text_frame(text)
        if 0 < protocol.maxMessagePayloadSize < len(frame):
            return False  # near or over autobahn's limit: autobahn decides
        frames.append(frame)
    protocol.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
    return True
