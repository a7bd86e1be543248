"""Seeds a fresh benchmark database: rooms, members with live sessions, a long history.

Run from the project root with the site's environment (DJANGO_SETTINGS_MODULE,
DATABASE_URL, ...) after `manage.py migrate`:

    python bench/seed.py --rooms 100 --members 100 --history 1000000 --out DIR

Everything goes through the service layer (accounts.services.user_create,
rooms.services.room_create / membership_join) except the history, which is bulk-inserted
with plain SQL that keeps seq gap-free and sets the room's last_seq, as message_send
would have. It writes DIR/accounts.json: for every bench user the session cookie that a
login would have set (made with Django's SessionStore, exactly as auth.login stores it),
and the room each one belongs to.

Room `bench-<r>` has members `u<r>-<m>` (`u<r>-0` created it and owns it); each user is
in exactly one bench room, so a socket receives only its own room's traffic. Room 0 can
have more members than the others (--room0-members) for the one-big-room scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

PASSWORD = "bench-password-not-secret"
HISTORY_ROOM = "history"
STORM_PREFIX = "storm"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rooms", type=int, default=10)
    ap.add_argument("--members", type=int, default=20, help="members per bench room")
    ap.add_argument("--room0-members", type=int, default=0, help="members of bench-0")
    ap.add_argument("--storm-rooms", type=int, default=0)
    ap.add_argument("--storm-members", type=int, default=0, help="per storm room")
    ap.add_argument("--history", type=int, default=0, help="messages in room 'history'")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        base_user,
        hashers,
    )
    from django.contrib.auth import models as auth_models
    from django.db import transaction

    from accounts.services import user_create
    from rooms import events, services

    # Hash the shared bench password once (the real hasher, so the login form accepts
    # it), not once per user: thousands of deliberate 1M-round PBKDF2 runs would take
    # minutes and measure nothing.
    hashed = hashers.make_password(PASSWORD)

    def make_password(raw, *args, **kwargs):
        if raw == PASSWORD:
            return hashed
        return hashers.make_password(raw, *args, **kwargs)

    base_user.make_password = auth_models.make_password = make_password
    # Nobody is connected while seeding, so there is no one to ring: skip publishing.
    events._send = lambda group, event: None

    session_store = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"])
    backend = "django.contrib.auth.backends.ModelBackend"
    if backend not in settings.AUTHENTICATION_BACKENDS:
        backend = settings.AUTHENTICATION_BACKENDS[-1]

    def session_cookie(user) -> str:
        session = session_store.SessionStore()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    started = time.monotonic()
    accounts: dict[str, dict] = {}
    rooms: dict[str, dict] = {}
    with transaction.atomic():
        owner = user_create(username="bench-owner", password=PASSWORD)

        def room_with_members(slug: str, prefix: str, count: int) -> None:
            # Member 0 creates the room (one room each: room creation is rate
            # limited per user) and is its owner; the others join it.
            room = None
            for m in range(count):
                name = f"{prefix}-{m}"
                user = user_create(username=name, password=PASSWORD)
                if room is None:
                    room = services.room_create(creator=user, name=slug)
                else:
                    services.membership_join(user=user, room=room)
                accounts[name] = {"cookie": session_cookie(user), "room": room.slug}
            rooms[slug] = {"id": room.pk, "members": count}

        for r in range(args.rooms):
            members = args.members if r else max(args.members, args.room0_members)
            room_with_members(f"bench-{r}", f"u{r}", members)
        for r in range(args.storm_rooms):
            room_with_members(f"{STORM_PREFIX}-{r}", f"s{r}", args.storm_members)
        history = services.room_create(creator=owner, name=HISTORY_ROOM)
        rooms[HISTORY_ROOM] = {"id": history.pk, "members": 1}
    seeded_users = time.monotonic() - started
    print(
        f"seed: {len(accounts)} users with sessions in {len(rooms)} rooms "
        f"in {seeded_users:.1f} s",
        file=sys.stderr,
    )

    if args.history:
        t0 = time.monotonic()
        bulk_history(history.pk, owner.pk, args.history)
        print(
            f"seed: {args.history:,} history messages in {time.monotonic() - t0:.1f} s",
            file=sys.stderr,
        )

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "accounts.json").write_text(
        json.dumps(
            {"password": PASSWORD, "rooms": rooms, "accounts": accounts},
            indent=0,
        )
    )
    return 0


def bulk_history(room_id: int, author_id: int, count: int, batch: int = 20_000) -> None:
    """Inserts `count` messages with seq 1..count into the room and sets its last_seq,
    in one transaction, the way message_send leaves them (gap-free seq)."""
    from django.db import connection, transaction

    from rooms.models import Message, Room

    adapt = connection.ops.adapt_datetimefield_value
    start = datetime.now(UTC) - timedelta(seconds=count)
    given = {"room", "seq", "author", "body", "created_at"}
    # Columns added later get their model default, so the insert keeps working.
    others = [
        f
        for f in Message._meta.concrete_fields
        if not f.primary_key and f.name not in given
    ]
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in others]
    columns = ["room_id", "seq", "author_id", "body", "created_at"]
    columns += [f.column for f in others]
    sql = (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if Room.objects.get(pk=room_id).last_seq:
            raise SystemExit("the history room already has messages")
        for first in range(1, count + 1, batch):
            rows = [
                (
                    room_id,
                    seq,
                    author_id,
                    f"History message number {seq}: a line of about sixty chars.",
                    adapt(start + timedelta(seconds=seq)),
                    *defaults,
                )
                for seq in range(first, min(first + batch, count + 1))
            ]
            cursor.executemany(sql, rows)
        Room.objects.filter(pk=room_id).update(last_seq=count)


if __name__ == "__main__":
    sys.exit(main())
