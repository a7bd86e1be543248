"""Pages for who is in a room: members, roles, invites by username and by link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from rooms import moderation, permissions, presence, selectors, services
from rooms.errors import ChatError, InvalidInput, NotFound
from rooms.forms import MemberAddForm
from rooms.models import Invite
from rooms.views import access_or_404, sidebar


@login_required
@require_GET
def members(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_or_404(request, slug)
    room = access.room
    can_manage = permissions.can_manage_members(request.user, room, access.membership)
    members = list(selectors.room_members(room=room))
    return render(
        request,
        "rooms/members.html",
        {
            "room": room,
            "title": selectors.room_title(room=room, viewer=request.user),
            "access": access,
            "members": members,
            "presence": presence.presence_statuses(
                user_ids=[m.user_id for m in members]
            ),
            "can_manage": can_manage,
            "is_owner": access.is_member and access.membership.role == "owner",
            "invites": selectors.room_invites(room=room) if can_manage else [],
            "bans": selectors.room_bans(room=room) if can_manage else [],
            "now": timezone.now(),
            "form": MemberAddForm(),
            "sidebar": sidebar(request),
        },
    )


def _act(request: HttpRequest, slug: str, action, success: str) -> HttpResponse:
    """Runs a membership service; its error, if any, is shown on the members page."""
    access = access_or_404(request, slug)
    try:
        action(access.room)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ChatError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("rooms:members", slug=slug)


@login_required
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    username = request.POST.get("username", "").strip()

    def add(room):
        if not username:
            raise InvalidInput("Enter a username.")
        services.membership_add(actor=request.user, room=room, username=username)

    return _act(request, slug, add, f"Added {username}.")


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    return _act(
        request,
        slug,
        lambda room: moderation.membership_remove(
            actor=request.user,
            room=room,
            user=user,
            reason=request.POST.get("reason", ""),
        ),
        f"Removed {user.shown_name}.",
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    role = request.POST.get("role", "")
    return _act(
        request,
        slug,
        lambda room: services.membership_set_role(
            actor=request.user, room=room, user=user, role=role
        ),
        f"{user.shown_name} is now a {role}.",
    )


@login_required
@require_POST
def invite_create(request: HttpRequest, slug: str) -> HttpResponse:
    return _act(
        request,
        slug,
        lambda room: services.invite_create(actor=request.user, room=room),
        "Invite link created. It works for 7 days unless you revoke it.",
    )


@login_required
@require_POST
def invite_revoke(request: HttpRequest, slug: str, invite_id: int) -> HttpResponse:
    def revoke(room):
        invite = Invite.objects.filter(pk=invite_id, room=room).first()
        if invite is None:
            raise NotFound("No such invite.")
        services.invite_revoke(actor=request.user, invite=invite)

    return _act(request, slug, revoke, "Invite link revoked.")


@login_required
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invite link opens: who invites you where, and a button to join."""
    try:
        invite = services.invite_for_token(token=token)
    except ChatError as error:
        return render(
            request, "rooms/invite.html", {"error": error.message}, status=404
        )
    if ban := selectors.room_ban(user=request.user, room=invite.room):
        return render(request, "rooms/invite.html", {"ban": ban}, status=403)
    if request.method == "POST":
        try:
            services.invite_accept(user=request.user, token=token)
        except ChatError as error:  # banned a moment ago
            return render(request, "rooms/invite.html", {"error": error.message})
        return redirect("rooms:detail", slug=invite.room.slug)
    already = invite.room.memberships.filter(user=request.user).exists()
    return render(request, "rooms/invite.html", {"invite": invite, "already": already})
