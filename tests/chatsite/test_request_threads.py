"""chatsite.request_threads: HTTP requests on a few kept threads."""

import asyncio
import threading

import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async

from chatsite.request_threads import RequestThreads


class App:
    """An ASGI app that does what Django's handler does with threads: its own
    ThreadSensitiveContext around thread-sensitive calls. It records the thread each
    request's calls ran on, and can be held open or made to fail."""

    def __init__(self) -> None:
        self.threads: list[list[str]] = []
        self.arrived: asyncio.Queue[None] = asyncio.Queue()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, scope, receive, send) -> None:
        names: list[str] = []
        self.threads.append(names)
        here = sync_to_async(lambda: threading.current_thread().name)
        async with ThreadSensitiveContext():
            names.append(await here())
            self.arrived.put_nowait(None)
            await self.release.wait()
            names.append(await here())
        if scope["path"] == "/fail":
            raise RuntimeError("the view failed")


def request(path: str = "/") -> dict:
    return {"type": "http", "path": path}


async def test_requests_in_turn_run_on_one_kept_thread_all_through():
    app = App()
    threads = RequestThreads(app, threads=2)

    for _ in range(3):
        await threads(request(), None, None)

    [name] = {name for names in app.threads for name in names}
    assert name.startswith("request-")


async def test_requests_at_once_each_get_a_thread_and_beyond_the_kept_ones_a_new_one():
    app = App()
    app.release.clear()
    threads = RequestThreads(app, threads=2)

    running = [asyncio.create_task(threads(request(), None, None)) for _ in range(3)]
    for _ in running:
        await app.arrived.get()
    app.release.set()
    await asyncio.gather(*running)

    first = [names[0] for names in app.threads]
    assert len(set(first)) == 3
    assert sum(name.startswith("request-") for name in first) == 2
    assert all(len(set(names)) == 1 for names in app.threads)
    assert len(threads.free) == 2


async def test_long_lived_requests_keep_no_kept_thread_and_go_to_their_own_app():
    app, streams = App(), App()
    threads = RequestThreads(
        app, threads=1, long_lived=["/api/stream"], long_lived_app=streams
    )

    await threads(request("/api/stream"), None, None)
    await threads(request("/api/frames"), None, None)

    assert not streams.threads[0][0].startswith("request-")
    assert len(streams.threads) == len(app.threads) == 1
    assert len(threads.free) == 1


async def test_a_failed_request_gives_its_thread_back():
    app = App()
    threads = RequestThreads(app, threads=1)

    with pytest.raises(RuntimeError):
        await threads(request("/fail"), None, None)
    await threads(request(), None, None)

    assert app.threads[0] == app.threads[1]
    assert app.threads[1][0].startswith("request-")
