"""When a live connection's sign-in stops being good, the connection ends.

A socket or event stream is authenticated once, when it opens, and may then stay open
for days. So whatever ends a sign-in also ends the connections riding on it: logging
out ends that session's connections; a password change or a closed account ends all of
the user's. Each is an event to the user's group (`signed_out`, carrying the session it
ends, or every session), which rooms.realtime.Follower turns into SessionEnded. Ways
in that publish nothing (a session deleted by hand, an expiry, a row edited in the
database) are caught by each connection re-checking its session now and then
(`still_signed_in`)."""

from collections.abc import Collection
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_out
from django.db import connection
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from rooms import events

EVERY_SESSION = "*"

LOGGED_OUT = "logged_out"
PASSWORD_CHANGED = "password_changed"
ACCOUNT_CLOSED = "account_closed"
SESSION_ENDED = "session_ended"

_MESSAGES = {
    LOGGED_OUT: "You logged out.",
    PASSWORD_CHANGED: "Your password changed; log in again.",
    ACCOUNT_CLOSED: "This account has been closed.",
    SESSION_ENDED: "Your session has ended; log in again.",
}


class SessionEnded(Exception):
    """The connection's sign-in is no longer good: say `frame`, then end."""

    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(frame["reason"])
        self.frame = frame


def signed_out_frame(reason: str, detail: str = "") -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "signed_out",
        "reason": reason,
        "message": _MESSAGES[reason],
    }
    if detail:
        frame["detail"] = detail
    return frame


def end(
    user: User, reason: str, *, session_key: str = EVERY_SESSION, detail: str = ""
) -> None:
    """Ends the user's open connections on `session_key` (all of them by default),
    once the current transaction commits."""
    events.publish_on_commit(
        events.user_group(user.pk),
        signed_out_frame(reason, detail),
        ends_session=session_key,
    )


def signed_in_user(session_key: str | None) -> AbstractBaseUser | AnonymousUser:
    """Whom the session would sign in on a new request, else AnonymousUser.

    Django's own check, on a fresh read of the session: it exists and has not
    expired, its password hash still matches, and the account may log in."""
    if not session_key:
        return AnonymousUser()
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(SimpleNamespace(session=store))


def account_active(user_id: int) -> bool:
    """Whether the account is still active (staff have not closed it)."""
    return user_id in active_accounts([user_id])


def active_accounts(user_ids: Collection[int]) -> set[int]:
    """Those of `user_ids` whose accounts are still active.

    Asked before every frame a live connection sends (rooms.realtime; for a batch
    of sends, once for all their senders), so it is one plain statement: the same
    question as a query Django compiles each time cost 0.4 ms, a quarter of a send's
    work (docs/performance.md)."""
    if not user_ids:
        return set()
    marks = ", ".join(["%s"] * len(user_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {User._meta.db_table} WHERE id IN ({marks}) AND is_active",
            list(user_ids),
        )
        return {user_id for (user_id,) in cursor.fetchall()}


def still_signed_in(user_id: int, session_key: str | None) -> bool:
    """Whether the session would still sign this user in on a new request."""
    user = signed_in_user(session_key)
    return user.is_authenticated and user.pk == user_id


async def recheck(user_id: int, session_key: str | None) -> None:
    """Raises SessionEnded unless the session still signs this user in."""
    if not await database_sync_to_async(still_signed_in)(user_id, session_key):
        raise SessionEnded(signed_out_frame(SESSION_ENDED))


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    # Sent before the session is flushed, so its key still names what to end.
    if user is not None and request.session.session_key:
        end(user, LOGGED_OUT, session_key=request.session.session_key)


@receiver(post_save, sender=User)
def _on_account_saved(
    sender: Any, instance: User, created: bool, **kwargs: Any
) -> None:
    """A save that closes the account (the admin's "active" box) or stores a new
    password ends its sessions.

    AbstractBaseUser keeps a newly set raw password in `_password` until its save
    completes (that is how Django tells the validators' password_changed hooks), so
    it is set here exactly when this save stores a new password."""
    if created:
        return
    if not instance.is_active:
        end(instance, ACCOUNT_CLOSED)
    elif getattr(instance, "_password", None) is not None:
        end(instance, PASSWORD_CHANGED)
