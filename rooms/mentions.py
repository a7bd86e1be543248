"""@mentions: who a message names, kept as Mention rows, and who may be named.

A name becomes a mention only for a member of the room when the message is stored (or
edited, or restored); the rest is rooms.markdown's. The rows are what the server counts
unread mentions from: a member's mentions with seq above their read position, the same
position that drives unread counts, so reading clears both at once.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from rooms import markdown
from rooms.models import Membership, Mention, Message, Room

# Names looked up per message at most: a message of a thousand "@x" costs one query.
MAX_CANDIDATES = 50
# Unread mentions served per user at most (a badge shows "99+" long before).
MAX_UNREAD = 1000


def mentionable(*, room: Room, text: str) -> dict[str, int]:
    """The members of `room` that `text` may name, username to id: only the names
    after an "@" are looked up, so a big room costs no more than a small one."""
    names = sorted(markdown.mention_candidates(text))[:MAX_CANDIDATES]
    if not names:
        return {}
    named = Q()
    for name in names:
        named |= Q(user__username__iexact=name)
    return dict(
        Membership.objects.filter(named, room=room, user__is_active=True).values_list(
            "user__username", "user_id"
        )
    )


def render(*, room: Room, text: str) -> markdown.Rendered:
    """A message's HTML, with @mentions of the room's members."""
    return markdown.render_message(text, members=mentionable(room=room, text=text))


def mentions_set(*, message: Message, user_ids: frozenset[int]) -> None:
    """Makes the message's Mention rows name exactly `user_ids`, less its author (who
    has read what they wrote). Call it in the transaction that changes the message."""
    wanted = set(user_ids) - {message.author_id}
    stored = set(message.mentions.values_list("user_id", flat=True))
    if stale := stored - wanted:
        message.mentions.filter(user_id__in=stale).delete()
    Mention.objects.bulk_create(
        Mention(message=message, user_id=pk, room_id=message.room_id, seq=message.seq)
        for pk in sorted(wanted - stored)
    )


def unread_mention_seqs(*, user: User) -> dict[int, list[int]]:
    """Room id to the seqs of the messages mentioning `user` that they have not read,
    for every room they are in, in one query."""
    unread = Membership.objects.filter(
        user=user, room=OuterRef("room"), last_read_seq__lt=OuterRef("seq")
    )
    found: dict[int, list[int]] = {}
    rows = (
        Mention.objects.filter(Exists(unread), user=user)
        .order_by("-seq")
        .values_list("room_id", "seq")[:MAX_UNREAD]
    )
    for room_id, seq in rows:
        found.setdefault(room_id, []).append(seq)
    return {room_id: sorted(seqs) for room_id, seqs in found.items()}


def member_suggestions(*, room: Room, query: str, exclude: User) -> QuerySet[User]:
    """Members of `room` whose username, or a word of whose display name, starts with
    `query`: the composer's @ autocomplete (the caller has checked the reader is a
    member)."""
    query = query.strip().lstrip("@")
    users = User.objects.filter(memberships__room=room, is_active=True).exclude(
        pk=exclude.pk
    )
    if query:
        users = users.filter(
            Q(username__istartswith=query)
            | Q(display_name__istartswith=query)
            | Q(display_name__icontains=f" {query}")
        )
    return users.order_by("username")[: settings.CHAT_MENTION_SUGGESTIONS]
