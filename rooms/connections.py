"""Limits on live sockets, so one account or one dead peer cannot hold a server's
resources: how many sockets one user may keep open, and how long one may stay silent
and go unchecked.

The count is per server process: it bounds what one account costs the process that
holds its sockets, with no round trip to Redis on every connect and no count left
behind by a process that crashed."""

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable

from django.conf import settings

_open_sockets: Counter[int] = Counter()


def admit_socket(user_id: int) -> bool:
    """Counts a new socket of the user's in, unless they hold the maximum already."""
    if _open_sockets[user_id] >= settings.CHAT_MAX_SOCKETS_PER_USER:
        return False
    _open_sockets[user_id] += 1
    return True


def release_socket(user_id: int) -> None:
    _open_sockets[user_id] -= 1
    if _open_sockets[user_id] <= 0:
        del _open_sockets[user_id]


class Watchdog:
    """One timer per socket for two duties: closing a socket that has sent nothing for
    CHAT_SOCKET_IDLE_SECONDS, and re-checking its session every
    CHAT_SESSION_RECHECK_SECONDS.

    A frame arriving only notes the time (`heard`); the timer is not moved for every
    frame, it wakes when the earlier duty falls due and looks again."""

    # Slots: one of these per open socket (docs/performance.md counts bytes per socket).
    __slots__ = (
        "_on_idle",
        "_on_recheck",
        "_loop",
        "_idle_seconds",
        "_recheck_seconds",
        "_heard_at",
        "_recheck_at",
        "_timer",
        "_duty",
    )

    def __init__(
        self,
        on_idle: Callable[[], Awaitable[None]],
        on_recheck: Callable[[], Awaitable[None]],
    ) -> None:
        self._on_idle = on_idle
        self._on_recheck = on_recheck
        self._loop = asyncio.get_running_loop()
        self._idle_seconds = settings.CHAT_SOCKET_IDLE_SECONDS
        self._recheck_seconds = settings.CHAT_SESSION_RECHECK_SECONDS
        now = self._loop.time()
        self._heard_at = now
        # Sockets opened together (a server restart's reconnects) re-check apart.
        self._recheck_at = now + random.uniform(0.5, 1.0) * self._recheck_seconds
        self._timer: asyncio.TimerHandle | None = None
        self._duty: asyncio.Task | None = None

    def start(self) -> None:
        self._arm()

    def heard(self) -> None:
        self._heard_at = self._loop.time()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        due = min(self._heard_at + self._idle_seconds, self._recheck_at)
        self._timer = self._loop.call_at(due, self._wake)

    def _wake(self) -> None:
        now = self._loop.time()
        if now >= self._heard_at + self._idle_seconds:
            self._timer = None
            self._run(self._on_idle())
            return
        if now >= self._recheck_at:
            self._recheck_at = now + self._recheck_seconds
            self._run(self._on_recheck())
        self._arm()

    def _run(self, duty: Awaitable[None]) -> None:
        # Kept referenced until done: the loop holds tasks only weakly.
        self._duty = asyncio.ensure_future(duty)
