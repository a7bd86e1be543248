"""Who is on the other end of a WebSocket, worked out once, at the handshake.

channels' AuthMiddlewareStack does this in three layers (cookies, session, user). Each
copies the scope and stays on the stack for as long as the socket is open, and the
session layer wraps every outgoing message to check whether the session needs saving.
A chat socket never writes its session (logging in and out happen over HTTP), so one
layer is enough: it reads the session cookie, asks Django whom that session signs in
(rooms.sessions.signed_in_user, the same check a page request gets), and keeps two
entries in the scope: `user` and `session_key`. docs/performance.md has the memory and
CPU this saves per socket."""

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.cookie import parse_cookie

from rooms.sessions import signed_in_user


def session_key_of(scope: dict[str, Any]) -> str | None:
    """The session cookie's value from the handshake's Cookie header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies = parse_cookie(value.decode("latin1"))
            return cookies.get(settings.SESSION_COOKIE_NAME) or None
    return None


class SessionAuthMiddleware:
    """Sets scope["user"] (AnonymousUser when the session signs no one in) and
    scope["session_key"] for the application inside."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        session_key = session_key_of(scope)
        user = await database_sync_to_async(signed_in_user)(session_key)
        if not user.is_authenticated:
            session_key = None
        scope = {**scope, "user": user, "session_key": session_key}
        return await self.app(scope, receive, send)
