"""chatsite.asgi: HTTP to Django; WebSockets through the origin check and the session."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.routing import ProtocolTypeRouter
from channels.security.websocket import OriginValidator
from channels.testing import HttpCommunicator, WebsocketCommunicator

from chatsite.asgi import application
from tests import realtime
from tests.factories import UserFactory
from tests.http import Session
from tests.servers import Daphne

ROOT = Path(__file__).resolve().parents[2]


def test_when_the_app_is_built_then_websockets_sit_behind_the_origin_check():
    assert isinstance(application, ProtocolTypeRouter)
    assert set(application.application_mapping) == {"http", "websocket"}
    assert isinstance(application.application_mapping["websocket"], OriginValidator)


@pytest.mark.django_db(transaction=True)
async def test_when_http_comes_through_asgi_then_django_answers():
    response = await HttpCommunicator(
        application, "GET", "/healthz", headers=[(b"host", b"127.0.0.1")]
    ).get_response(timeout=5)

    assert response["status"] == 200
    assert response["body"] == b'{"status": "ok"}'


@pytest.mark.django_db(transaction=True)
async def test_when_a_websocket_has_no_origin_header_then_it_is_refused():
    user = await database_sync_to_async(UserFactory)()
    cookie = await realtime.session_cookie(user)
    socket = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"host", b"127.0.0.1"), (b"cookie", f"sessionid={cookie}".encode())],
    )

    connected, _ = await socket.connect(timeout=5)

    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_when_a_websocket_comes_from_an_allowed_origin_with_a_session_then_accepted():
    user = await database_sync_to_async(UserFactory)()

    socket = await realtime.connect(user, origin=b"http://localhost")

    assert socket.connected
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_when_a_websocket_carries_a_forged_session_cookie_then_it_is_refused():
    socket = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[
            (b"origin", realtime.ORIGIN),
            (b"host", b"127.0.0.1"),
            (b"cookie", b"sessionid=not-a-real-session-key"),
        ],
    )

    connected, _ = await socket.connect(timeout=5)

    assert not connected


def run_asgi_import(tmp_path, then: str = "", **env) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", f"import chatsite.asgi\n{then}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "CHAT_VAR_DIR": str(tmp_path), **env},
    )


def test_when_redis_url_is_unset_then_startup_warns_that_only_one_process_works(
    tmp_path,
):
    result = run_asgi_import(tmp_path)

    assert result.returncode == 0, result.stderr
    assert "REDIS_URL is not set" in result.stderr


def test_when_redis_url_is_set_then_startup_does_not_warn(tmp_path):
    result = run_asgi_import(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")

    assert result.returncode == 0, result.stderr
    assert "REDIS_URL is not set" not in result.stderr


def test_when_the_app_is_built_then_the_servers_context_holds_no_request_locals(
    tmp_path,
):
    # daphne starts every connection's task in a copy of this context, and every
    # database call copies each asgiref Local found there back into the task, as a
    # new object: 16 of them per socket when the URL resolvers were populated here.
    result = run_asgi_import(
        tmp_path,
        then="import contextvars\n"
        "print(sum(v.name == 'asgiref.local' for v in contextvars.copy_context()))",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0"]


def test_daphne_with_open_sockets_exits_soon_after_sigterm(live_site):
    """At shutdown the loop may stop before the sockets' disconnects are done, and each
    one's presence change is published after its commit: that publish used to wait
    for the stopped loop, and the interpreter waited for it at exit, forever."""
    server = Daphne(live_site).start()
    try:
        sessions = [Session(server.url).signup() for _ in range(40)]
        with contextlib.ExitStack() as open_sockets:
            for session in sessions:
                open_sockets.enter_context(session.websocket())
        # Closed all at once, as when a proxy goes away: the server is still telling
        # others they went offline when it is told to stop.
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=5)
    finally:
        server.stop()
