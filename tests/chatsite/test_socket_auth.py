"""chatsite/socket_auth.py: one handshake layer sets the user and the session key."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session as SessionRow
from django.utils import timezone

from chatsite.socket_auth import SessionAuthMiddleware, session_key_of
from tests import realtime
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

COOKIE = settings.SESSION_COOKIE_NAME


class Recorder:
    """The application inside: keeps what it was called with."""

    async def __call__(self, scope, receive, send):
        self.scope, self.receive, self.send = scope, receive, send


async def handshake(cookie_header: bytes | None) -> Recorder:
    inner = Recorder()
    headers = [(b"host", b"127.0.0.1")]
    if cookie_header is not None:
        headers.append((b"cookie", cookie_header))
    scope = {"type": "websocket", "path": "/ws/", "headers": headers}

    async def receive():
        raise AssertionError("the middleware must not read from the socket")

    async def send(message):
        raise AssertionError("the middleware must not write to the socket")

    await SessionAuthMiddleware(inner)(scope, receive, send)
    assert inner.receive is receive
    # The server's own send, unwrapped: no per-message work for a socket's life.
    assert inner.send is send
    return inner


async def test_a_valid_session_cookie_gives_its_user_and_key():
    user = await database_sync_to_async(UserFactory)()
    key = await realtime.session_cookie(user)

    scope = (await handshake(f"theme=dark; {COOKIE}={key}; x=1".encode())).scope

    assert scope["user"].pk == user.pk
    assert scope["user"].is_authenticated
    assert scope["session_key"] == key


@pytest.mark.parametrize(
    "cookie_header",
    [None, b"", b"theme=dark", f"{COOKIE}=not-a-real-session".encode(), b"\xff\xfe;;="],
)
async def test_no_session_or_a_forged_one_is_anonymous_with_no_key(cookie_header):
    scope = (await handshake(cookie_header)).scope

    assert not scope["user"].is_authenticated
    assert scope["session_key"] is None


async def test_an_expired_session_is_anonymous():
    user = await database_sync_to_async(UserFactory)()
    key = await realtime.session_cookie(user)
    await SessionRow.objects.filter(session_key=key).aupdate(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    scope = (await handshake(f"{COOKIE}={key}".encode())).scope

    assert not scope["user"].is_authenticated


async def test_a_session_from_before_a_password_change_is_anonymous():
    user = await database_sync_to_async(UserFactory)()
    key = await realtime.session_cookie(user)
    user.set_password("a whole new password")
    await user.asave()

    scope = (await handshake(f"{COOKIE}={key}".encode())).scope

    assert not scope["user"].is_authenticated


async def test_a_closed_accounts_session_is_anonymous():
    user = await database_sync_to_async(UserFactory)()
    key = await realtime.session_cookie(user)
    user.is_active = False
    await user.asave()

    scope = (await handshake(f"{COOKIE}={key}".encode())).scope

    assert not scope["user"].is_authenticated


def test_the_session_key_comes_from_the_cookie_header_only():
    assert (
        session_key_of({"headers": [(b"cookie", f"{COOKIE}=abc123".encode())]})
        == "abc123"
    )
    assert (
        session_key_of({"headers": [(b"x-cookie", f"{COOKIE}=abc".encode())]}) is None
    )
    assert session_key_of({"headers": [(b"cookie", f"{COOKIE}=".encode())]}) is None
    assert session_key_of({}) is None
