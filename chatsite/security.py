"""Login throttling around django-axes: which attempts a success clears, and the page a
locked-out login gets."""

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


class AxesHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a successful login clears only that user's
    own failed attempts.

    Axes' own reset also deletes every failed attempt from the same IP address, for any
    username: then anyone with an account could try four passwords on someone else's,
    log in to their own, and try four more, for ever. Here a success clears only the
    rows of the username that logged in; they still counted towards their IP address.
    """

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a page saying why, for how long, and the way back.

    Renders templates/registration/locked_out.html. Only `request` is used: axes
    passes the other two arguments differently on its sync and async paths. Says
    nothing of whether the username exists (axes locks unknown usernames alike).
    """
    admin_login = reverse("admin:login")
    from_admin = request.path == admin_login
    return render(
        request,
        "registration/locked_out.html",
        {
            "cooloff_minutes": _minutes(get_cool_off(request)),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "login_url": admin_login if from_admin else reverse(settings.LOGIN_URL),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def _minutes(cool_off: timedelta | None) -> int | None:
    if cool_off is None:
        return None
    return max(1, round(cool_off.total_seconds() / 60))
