"""chatsite.http_handler: Django's middleware run synchronously, in one thread hop."""

import asyncio

import pytest

from chatsite.http_handler import SyncMiddlewareHandler
from chatsite.request_threads import RequestThreads

pytestmark = [pytest.mark.django_db(transaction=True)]


class Hops:
    """Counts the loop's calls made from other threads: every call handed to a
    thread comes back to the loop that way, once."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.call = loop.call_soon_threadsafe
        self.count = 0
        loop.call_soon_threadsafe = self.call_soon_threadsafe

    def call_soon_threadsafe(self, *args, **kwargs):
        self.count += 1
        return self.call(*args, **kwargs)


async def call(app, method: str, path: str, headers=()) -> tuple[dict, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0], body


def header(start: dict, name: bytes) -> list[bytes]:
    return [value for key, value in start["headers"] if key.lower() == name]


async def test_a_page_gets_everything_the_middleware_adds():
    start, body = await call(SyncMiddlewareHandler(), "GET", "/accounts/login/")

    assert start["status"] == 200
    assert b'name="csrfmiddlewaretoken"' in body
    assert any(c.startswith(b"csrftoken=") for c in header(start, b"set-cookie"))
    assert header(start, b"content-security-policy")
    assert header(start, b"x-frame-options") == [b"DENY"]


async def test_the_middleware_still_refuses_what_it_refuses():
    start, _ = await call(SyncMiddlewareHandler(), "POST", "/accounts/login/")

    assert start["status"] == 403  # no CSRF token


async def test_a_request_makes_a_few_hops_to_its_thread_not_two_per_middleware():
    threads = RequestThreads(SyncMiddlewareHandler(), threads=1)
    await call(threads, "GET", "/accounts/login/")
    hops = Hops(asyncio.get_running_loop())

    start, _ = await call(threads, "GET", "/accounts/login/")

    assert start["status"] == 200
    # The request_started signal, the middleware and view, the response's close.
    assert hops.count <= 3
