"""Socket writes that go out at once when nothing is queued, as Node's and libuv's do.

Twisted, under daphne, never writes when asked: `transport.write()` queues the bytes,
registers the socket with the event loop for writability (an `epoll_ctl`), and on the
loop's next turn sends them and unregisters it (another `epoll_ctl`). For a chat that
is every delivery of every message to every socket: in a profile of daphne at 2,000
deliveries a second, registering for writability alone was 12.6 % of the server's CPU,
more than the `send()` calls themselves (docs/performance.md).

`install()` makes a plain TCP connection's write try `send()` first when nothing is
queued before it. What the kernel takes is gone; the rest, and every error, take
Twisted's own path, so order, back-pressure (producers), closing and connection-lost
handling stay Twisted's. TLS connections (daphne does not terminate TLS here; the
proxy does) and connections being closed keep the queued path untouched."""

from twisted.internet import tcp

_queued_write = tcp.Connection.write


def _write(self: tcp.Connection, data: bytes) -> None:
    if (
        type(data) is bytes
        and 0 < len(data) <= self.SEND_LIMIT
        and not self.TLS
        and self.connected
        and not self.disconnecting
        and not self._writeDisconnected
        and not self._tempDataLen
        and self.offset == len(self.dataBuffer)
    ):
        try:
            sent = self.socket.send(data)
        except OSError:
            sent = 0  # EAGAIN, or a failure Twisted's own write path reports
        if sent == len(data):
            return
        data = data[sent:]
    _queued_write(self, data)


def install() -> None:
    """Idempotent; affects this process's Twisted TCP connections."""
    tcp.Connection.write = _write
