"""The JSON API: message history, and the HTTP transports for clients without a
WebSocket (POSTed frames, an event stream, long-polling), which speak the same protocol
as /ws/ (see docs/protocol.md)."""

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from rooms import events, mentions, permissions, protocol, recent, selectors, streams
from rooms import presence as presences
from rooms.errors import ChatError, InvalidInput, NotFound

MAX_PRESENCE_USERS = 500


def _unauthenticated() -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "unauthenticated", "message": "Log in first."}}, status=401
    )


def _error(error: ChatError) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": error.code, "message": error.message, **error.details()}},
        status=error.status,
    )


@require_POST
def frames(request: HttpRequest) -> JsonResponse:
    """A client frame as the POST body; the answers as JSON `{"frames": [...]}`.

    A `presence` frame names the stream or polls it is about (`connection`)."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    try:
        frame = protocol.parse(request.body.decode("utf-8", errors="replace"))
    except ChatError as error:
        return _error(error)
    reply = protocol.handle(request.user, frame)
    return JsonResponse({"frames": reply.frames})


def _cursor(request: HttpRequest) -> streams.Cursor:
    text = request.headers.get("Last-Event-ID") or request.GET.get("cursor", "")
    return streams.Cursor.parse(text)


async def _live(
    request: HttpRequest, body, content_type: str, headers: dict[str, str]
) -> HttpResponse:
    """A streamed answer for a signed-in user from their cursor, or a JSON error."""
    user = await request.auser()
    if not user.is_authenticated:
        return _unauthenticated()
    try:
        cursor = _cursor(request)
        presence = streams.Presence.parse(request.GET)
    except ChatError as error:
        return _error(error)
    return StreamingHttpResponse(
        body(user, request.session.session_key, cursor, presence),
        content_type=content_type,
        headers=headers,
    )


@require_GET
async def stream(request: HttpRequest) -> HttpResponse:
    return await _live(
        request,
        streams.event_stream,
        "text/event-stream",
        {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@require_GET
async def poll(request: HttpRequest) -> HttpResponse:
    return await _live(
        request, streams.poll_body, "application/json", {"Cache-Control": "no-cache"}
    )


@require_GET
def presence(request: HttpRequest) -> JsonResponse:
    """?user=<id>&user=<id>…: each one's status now, for a page refreshing the
    presence it shows (events may be missed while it reconnects, and pages without
    a connection get none). Anyone signed in may ask: people search shows anyone."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    try:
        user_ids = [int(v) for v in request.GET.getlist("user")]
    except ValueError:
        return _error(InvalidInput("“user” must be a user id."))
    if len(user_ids) > MAX_PRESENCE_USERS:
        return _error(
            InvalidInput(f"Ask for at most {MAX_PRESENCE_USERS} people at a time.")
        )
    statuses = presences.presence_statuses(user_ids=user_ids)
    return JsonResponse({"presence": {str(u): s for u, s in statuses.items()}})


@require_GET
def history(request: HttpRequest, slug: str) -> JsonResponse:
    """Older messages, keyset by seq: ?before=<seq>&limit=<n> (n ≤ 50).

    `last_change` is the room's change number as read before the page: the page
    shows every change up to it (a client catches up on changes from there)."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    try:
        access = selectors.room_access(user=request.user, slug=slug)
        before = _optional_int(request.GET.get("before"), "before")
        limit = _optional_int(request.GET.get("limit"), "limit")
    except ChatError as error:
        return _error(error)
    page = recent.history(room=access.room, before_seq=before, limit=limit)
    return JsonResponse(
        {
            "room": access.room.slug,
            "messages": page,
            "has_more": bool(page) and page[0]["seq"] > 1,
            "last_change": access.room.last_change,
        }
    )


@require_GET
def members(request: HttpRequest, slug: str) -> JsonResponse:
    """Members to @mention: ?q= is the start of a username or of a display name's
    word. For members only: anyone else gets the answer a missing room gets."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    try:
        access = selectors.room_access(user=request.user, slug=slug)
        if not permissions.can_post(request.user, access.room, access.membership):
            raise NotFound("No such room.")
    except ChatError as error:
        return _error(error)
    found = mentions.member_suggestions(
        room=access.room, query=request.GET.get("q", "")[:100], exclude=request.user
    )
    return JsonResponse({"users": [events.user_payload(user) for user in found]})


def _optional_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 1:
        raise InvalidInput(f"“{name}” must be a whole number ≥ 1.")
    return number
