"""HTTP requests on a few long-lived threads, each keeping its database connection.

Django gives every request a thread of its own (a fresh ThreadSensitiveContext), so
under daphne each request also opened a database connection and dropped it: a new
SQLite connection and its PRAGMAs were 8 % of a history request's samples, and the
thread's start and end came on top (docs/performance.md). Here a request borrows one
of a few kept threads for its synchronous part (middleware, views); the thread keeps
its connection between requests as CONN_MAX_AGE allows. asgiref lets the outermost
context name its executor, and Django's own context inside it then reuses it.

One request per thread at a time. A request that finds every kept thread busy gets a
thread of its own, as Django does, and so do the long-lived ones (an event stream, a
long poll), which would otherwise hold a kept thread for their whole life.
"""

from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

ASGIApp = Callable[[dict[str, Any], Callable, Callable], Awaitable[None]]


class RequestThreads:
    def __init__(
        self,
        app: ASGIApp,
        *,
        threads: int,
        long_lived: Iterable[str] = (),
        long_lived_app: ASGIApp | None = None,
    ) -> None:
        """`long_lived`: the paths of requests that keep their own thread, served by
        `long_lived_app` (else `app`)."""
        self.app = app
        self.long_lived = frozenset(long_lived)
        self.long_lived_app = long_lived_app or app
        self.free = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{n}")
            for n in range(threads)
        ]

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope.get("path") in self.long_lived:
            await self.long_lived_app(scope, receive, send)
            return
        if not self.free:
            await self.app(scope, receive, send)
            return
        executor = self.free.pop()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            self.free.append(executor)
