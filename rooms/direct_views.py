"""Starting direct messages, and finding the people to start them with."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from rooms import events, presence, selectors, services
from rooms.errors import ChatError
from rooms.forms import DirectMessageForm
from rooms.views import sidebar


@login_required
@require_http_methods(["GET", "POST"])
def dm_new(request: HttpRequest) -> HttpResponse:
    """Opens (or creates) the conversation with the people named; a user's name links
    here with ?to=<username>."""
    initial = {"usernames": request.GET.get("to", "")}
    form = DirectMessageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.dm_open(
                user=request.user, usernames=form.cleaned_data["usernames"]
            )
        except ChatError as error:
            form.add_error("usernames", error.message)
        else:
            return redirect("rooms:detail", slug=room.slug)
    elif request.method == "POST":
        messages.error(request, "Name at least one person.")
    return render(
        request, "rooms/dm_new.html", {"form": form, "sidebar": sidebar(request)}
    )


@login_required
@require_GET
def users(request: HttpRequest) -> JsonResponse:
    """People search for the DM picker: ?q= matches usernames and display names.
    Each comes with whether they are online, away or offline now."""
    found = list(
        selectors.users_search(
            query=request.GET.get("q", "")[:100], exclude=request.user
        )
    )
    statuses = presence.presence_statuses(user_ids=[user.pk for user in found])
    return JsonResponse(
        {
            "users": [
                {**events.user_payload(user), "presence": statuses[user.pk]}
                for user in found
            ]
        }
    )
