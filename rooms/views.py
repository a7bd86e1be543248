"""HTTP adapters for rooms: the pages. Thin: they call selectors and services and turn
domain errors into pages. The JSON API is rooms/api.py."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rooms import (
    events,
    mentions,
    permissions,
    presence,
    receipts,
    recent,
    selectors,
    services,
)
from rooms.errors import ChatError, InvalidInput, NotFound
from rooms.forms import RoomCreateForm
from rooms.models import Room


def access_or_404(request: HttpRequest, slug: str) -> selectors.RoomAccess:
    try:
        return selectors.room_access(user=request.user, slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    """The user's rooms with their unread counts, the seqs of their unread mentions
    (the client keeps both live), and whether the user muted them; a DM with one other
    person carries theirs (`person`) and whether they are online, away or offline
    (`presence`)."""
    unread_mentions = mentions.unread_mention_seqs(user=request.user)
    items = [
        {
            "slug": m.room.slug,
            "name": selectors.room_title(room=m.room, viewer=request.user),
            "kind": m.room.kind,
            "last_seq": m.room.last_seq,
            "unread": max(m.room.last_seq - m.last_read_seq, 0),
            "person": selectors.dm_partner(room=m.room, viewer=request.user),
            "mentions": unread_mentions.get(m.room_id, []),
            "muted": m.notifications_muted,
        }
        for m in selectors.memberships_for_user(user=request.user)
    ]
    statuses = presence.presence_statuses(
        user_ids=[item["person"] for item in items if item["person"]]
    )
    for item in items:
        item["presence"] = statuses.get(item["person"])
    return items


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The default room if the user is in it, else their first room, else the list."""
    memberships = selectors.memberships_for_user(user=request.user)
    first = (
        memberships.filter(room__slug=settings.CHAT_DEFAULT_ROOM_SLUG).first()
        or memberships.first()
    )
    if first is None:
        return redirect("rooms:list")
    return redirect("rooms:detail", slug=first.room.slug)


@login_required
@require_http_methods(["GET", "POST"])
def room_list(request: HttpRequest) -> HttpResponse:
    form = RoomCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(
                creator=request.user,
                name=form.cleaned_data["name"],
                topic=form.cleaned_data["topic"],
                kind=Room.Kind.PRIVATE
                if form.cleaned_data["private"]
                else Room.Kind.PUBLIC,
            )
        except ChatError as error:
            form.add_error("name", error.message)
        else:
            return redirect("rooms:detail", slug=room.slug)
    joined = set(selectors.member_room_ids(user=request.user))
    return render(
        request,
        "rooms/room_list.html",
        {
            "form": form,
            "rooms": selectors.public_rooms(),
            "joined": joined,
            "sidebar": sidebar(request),
        },
    )


@login_required
@require_GET
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_or_404(request, slug)
    page = recent.history(room=access.room)
    client_state = {
        "user": events.user_payload(request.user),
        "room": events.room_payload(
            access.room,
            name=selectors.room_title(room=access.room, viewer=request.user),
        ),
        "is_member": access.is_member,
        "last_read_seq": access.membership.last_read_seq if access.membership else None,
        "messages": page,
        "rooms": sidebar(request),
        "max_length": settings.CHAT_MESSAGE_MAX_LENGTH,
        "presence_idle_ms": settings.CHAT_PRESENCE_IDLE_SECONDS * 1000,
        "receipts": (
            receipts.room_receipts(room=access.room) if access.is_member else None
        ),
    }
    return render(
        request,
        "rooms/room_detail.html",
        {
            "room": access.room,
            "access": access,
            "client_state": client_state,
            "sidebar": client_state["rooms"],
            **moderation_context(request, access),
        },
    )


def moderation_context(request: HttpRequest, access: selectors.RoomAccess) -> dict:
    """What the room page says about moderation: a lock, the reader's mute or ban,
    and whether they may moderate (the message menu offers Delete)."""
    room, membership = access.room, access.membership
    can_moderate = permissions.can_moderate(request.user, room, membership)
    return {
        "can_moderate": can_moderate and not room.is_direct,
        "read_only": room.is_locked and not can_moderate,
        "mute": selectors.active_mute(user=request.user, membership=membership),
        "ban": None if membership else selectors.room_ban(user=request.user, room=room),
    }


@login_required
@require_POST
def room_join(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_or_404(request, slug)
    try:
        services.membership_join(user=request.user, room=access.room)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ChatError as error:  # banned from it
        messages.error(request, error.message)
    return redirect("rooms:detail", slug=slug)


@login_required
@require_POST
def room_leave(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_or_404(request, slug)
    if access.is_member:
        try:
            services.membership_leave(user=request.user, room=access.room)
        except InvalidInput as error:
            messages.error(request, error.message)
            return redirect("rooms:detail", slug=slug)
    return redirect("rooms:list")
