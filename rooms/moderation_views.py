"""Moderation from the chat's pages: a message's menu (report it; a moderator deletes
it) and the members page (mute, ban, unban). Thin: each calls one service.

The message menu posts with fetch and reads JSON (`{"ok": true}` or the API's error
body); a plain form post gets a redirect with a flash message instead."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.models import User
from rooms import moderation, selectors, services
from rooms.errors import ChatError, InvalidInput, NotFound
from rooms.views import access_or_404


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(
    request: HttpRequest, slug: str, act: Callable[[], object], success: str, back: str
) -> HttpResponse:
    """Runs a service; answers JSON for fetch, else flashes and goes back."""
    try:
        act()
    except NotFound as error:
        if _wants_json(request):
            return JsonResponse(
                {"error": {"code": error.code, "message": error.message}}, status=404
            )
        raise Http404(error.message) from error
    except ChatError as error:
        if _wants_json(request):
            return JsonResponse(
                {
                    "error": {
                        "code": error.code,
                        "message": error.message,
                        **error.details(),
                    }
                },
                status=error.status,
            )
        messages.error(request, error.message)
    else:
        if _wants_json(request):
            return JsonResponse({"ok": True, "message": success})
        messages.success(request, success)
    return redirect(back, slug=slug)


def _message(request: HttpRequest, slug: str, message_id: int):
    access = access_or_404(request, slug)
    try:
        return selectors.room_message(room=access.room, message_id=message_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_POST
def message_delete(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    """Its author, or the room's moderators and staff (with a reason, for the log)."""
    message = _message(request, slug, message_id)
    return _answer(
        request,
        slug,
        lambda: services.message_delete(
            actor=request.user, message=message, reason=request.POST.get("reason", "")
        ),
        "Message deleted.",
        "rooms:detail",
    )


@login_required
@require_POST
def message_report(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message = _message(request, slug, message_id)
    return _answer(
        request,
        slug,
        lambda: moderation.report_create(
            reporter=request.user,
            message=message,
            reason=request.POST.get("reason", ""),
        ),
        "Thank you: the report is with the moderators.",
        "rooms:detail",
    )


def _minutes(request: HttpRequest) -> timedelta:
    try:
        return timedelta(minutes=int(request.POST.get("minutes", "")))
    except ValueError as exc:
        raise InvalidInput("Choose how long the mute lasts.") from exc


def _member_act(request: HttpRequest, slug: str, user_id: int, act, success: str):
    user = get_object_or_404(User, pk=user_id)
    access = access_or_404(request, slug)
    reason = request.POST.get("reason", "")
    return _answer(
        request,
        slug,
        lambda: act(room=access.room, user=user, reason=reason),
        success.format(name=user.shown_name),
        "rooms:members",
    )


@login_required
@require_POST
def member_mute(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _member_act(
        request,
        slug,
        user_id,
        lambda **kwargs: moderation.membership_mute(
            actor=request.user, duration=_minutes(request), **kwargs
        ),
        "Muted {name}.",
    )


@login_required
@require_POST
def member_unmute(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _member_act(
        request,
        slug,
        user_id,
        lambda **kwargs: moderation.membership_unmute(actor=request.user, **kwargs),
        "{name} may post again.",
    )


@login_required
@require_POST
def member_ban(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _member_act(
        request,
        slug,
        user_id,
        lambda **kwargs: moderation.membership_ban(actor=request.user, **kwargs),
        "Banned {name} from this room.",
    )


@login_required
@require_POST
def member_unban(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    return _member_act(
        request,
        slug,
        user_id,
        lambda **kwargs: moderation.membership_unban(actor=request.user, **kwargs),
        "Lifted the ban on {name}.",
    )
