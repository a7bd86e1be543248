"""Who is online, away or offline: one expiring entry per live connection.

A person may have several tabs open, each connected to any of several daphne
processes, and a process may die without a word. So presence is not a flag per user
but an entry per live connection (a socket, an event stream, a long-polling client),
each with its own status (online, or away when its tab is hidden or idle) and an
expiry that the process serving it pushes forward (rooms.realtime.PresenceTracker).
A user is online if any entry is online, away if every entry is away, and offline
when none is left. Entries of a process that crashed stop being refreshed and lapse
after CHAT_PRESENCE_TTL seconds: every read applies the expiry, and the sweep of any
live process announces the change.

Events go out only on a transition of a user's combined status. With Redis the
entries, the combination and the last announced status change in one script, so two
processes never both announce the same change; without Redis (one process, the
in-memory channel layer) the same rules run here in memory. Nothing is stored in the
database. If Redis cannot be reached, presence fails open: connections still work, and
the tracker puts its entries back once Redis answers again.
"""

import logging
import math
import threading
import time
from collections.abc import Iterable
from functools import cache
from typing import Literal

import redis
from django.conf import settings

from rooms import events, selectors
from rooms.redis_scripts import run_many

logger = logging.getLogger(__name__)

Status = Literal["online", "away", "offline"]
REPORTABLE = ("online", "away")
# One change to one user's entries: (user id, op, connection, status); see _CHANGE.
Change = tuple[int, str, str, str]

# KEYS: entries (zset connection -> expiry), away (set), announced (hash user ->
# status), due (zset user -> earliest expiry). ARGV: user, op, connection, status,
# now, expiry, key ttl. op: "refresh" (add the entry with `status`, or only push its
# expiry forward if it is there), "report" (the status of an entry that is there),
# "remove", "settle" (only apply expiry). Returns {before, after, found}.
_CHANGE = """
local entries, away, announced, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local user, op, conn, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for _, lapsed in ipairs(redis.call('ZRANGEBYSCORE', entries, '-inf', ARGV[5])) do
  redis.call('ZREM', entries, lapsed)
  redis.call('SREM', away, lapsed)
end
local found = redis.call('ZSCORE', entries, conn) and 1 or 0
if op == 'refresh' then
  redis.call('ZADD', entries, ARGV[6], conn)
end
if (op == 'refresh' and found == 0) or (op == 'report' and found == 1) then
  if status == 'away' then
    redis.call('SADD', away, conn)
  else
    redis.call('SREM', away, conn)
  end
elseif op == 'remove' then
  redis.call('ZREM', entries, conn)
  redis.call('SREM', away, conn)
end
local live = redis.call('ZCARD', entries)
local after = 'offline'
if live > 0 then
  after = redis.call('SCARD', away) < live and 'online' or 'away'
  local first = redis.call('ZRANGE', entries, 0, 0, 'WITHSCORES')
  redis.call('ZADD', due, first[2], user)
  redis.call('EXPIRE', entries, ARGV[7])
  redis.call('EXPIRE', away, ARGV[7])
else
  redis.call('ZREM', due, user)
  redis.call('DEL', away)
end
local before = redis.call('HGET', announced, user) or 'offline'
if after == 'offline' then
  redis.call('HDEL', announced, user)
else
  redis.call('HSET', announced, user, after)
end
return {before, after, found}
"""

# KEYS: entries, away. ARGV: now. The combined status with expiry applied, changing
# nothing: what a page shows.
_READ = """
local now = tonumber(ARGV[1])
local live = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
if live == 0 then return 'offline' end
local away = 0
for _, conn in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local expiry = redis.call('ZSCORE', KEYS[1], conn)
  if expiry and tonumber(expiry) > now then away = away + 1 end
end
return away < live and 'online' or 'away'
"""


def _combine(entries: dict[str, tuple[str, float]], now: float) -> Status:
    live = [status for status, expiry in entries.values() if expiry > now]
    if not live:
        return "offline"
    return "online" if "online" in live else "away"


class MemoryStore:
    """The same rules for one process without Redis."""

    def __init__(self) -> None:
        self._entries: dict[int, dict[str, tuple[str, float]]] = {}
        self._announced: dict[int, Status] = {}
        self._lock = threading.Lock()

    def change(
        self, changes: list[Change], now: float, ttl: float
    ) -> list[tuple[Status, Status, bool]]:
        with self._lock:
            return [self._change(*change, now, ttl) for change in changes]

    def _change(
        self,
        user_id: int,
        op: str,
        connection: str,
        status: str,
        now: float,
        ttl: float,
    ) -> tuple[Status, Status, bool]:
        """One change, under the lock: the rules of _CHANGE."""
        entries = {
            conn: entry
            for conn, entry in self._entries.get(user_id, {}).items()
            if entry[1] > now
        }
        known = entries.get(connection)
        if op == "refresh":
            entries[connection] = (known[0] if known else status, now + ttl)
        elif op == "report" and known:
            entries[connection] = (status, known[1])
        elif op == "remove":
            entries.pop(connection, None)
        if entries:
            self._entries[user_id] = entries
        else:
            self._entries.pop(user_id, None)
        after = _combine(entries, now)
        before = self._announced.pop(user_id, "offline")
        if after != "offline":
            self._announced[user_id] = after
        return before, after, known is not None

    def due(self, now: float) -> list[int]:
        with self._lock:
            return [
                user_id
                for user_id, entries in self._entries.items()
                if any(expiry <= now for _, expiry in entries.values())
            ]

    def read(self, user_ids: list[int], now: float) -> list[Status]:
        with self._lock:
            return [_combine(self._entries.get(u, {}), now) for u in user_ids]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._announced.clear()


class RedisStore:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1, decode_responses=True
        )
        self._change = self._client.register_script(_CHANGE)
        self._read = self._client.register_script(_READ)

    @staticmethod
    def _keys(user_id: int) -> list[str]:
        prefix = settings.CHAT_PRESENCE_PREFIX
        return [
            f"{prefix}:entries:{user_id}",
            f"{prefix}:away:{user_id}",
            f"{prefix}:announced",
            f"{prefix}:due",
        ]

    def change(
        self, changes: list[Change], now: float, ttl: float
    ) -> list[tuple[Status, Status, bool]]:
        """All in one round trip (a process refreshes all its connections at once)."""
        calls = [
            (
                self._keys(user_id),
                [user_id, op, connection, status, now, now + ttl, math.ceil(ttl) + 1],
            )
            for user_id, op, connection, status in changes
        ]
        return [
            (b, a, bool(found))
            for b, a, found in run_many(self._client, self._change, calls)
        ]

    def due(self, now: float) -> list[int]:
        key = f"{settings.CHAT_PRESENCE_PREFIX}:due"
        return [int(u) for u in self._client.zrangebyscore(key, "-inf", now)]

    def read(self, user_ids: list[int], now: float) -> list[Status]:
        calls = [(self._keys(user_id)[:2], [now]) for user_id in user_ids]
        return run_many(self._client, self._read, calls)


_memory = MemoryStore()


@cache
def _redis_store(url: str) -> RedisStore:
    return RedisStore(url)


def _store() -> MemoryStore | RedisStore:
    return _redis_store(settings.REDIS_URL) if settings.REDIS_URL else _memory


def presence_event(*, user_id: int, status: Status) -> dict[str, object]:
    return {"type": "presence", "user": user_id, "status": status}


def _announce(
    user_id: int, before: Status, after: Status, room_ids: Iterable[int] | None
) -> None:
    """Tells everyone who shares a room with the user (DMs are rooms too): the rooms
    of `room_ids` if the caller has just read them, else those read now."""
    if before != after:
        if room_ids is None:
            room_ids = selectors.member_room_ids(user=user_id)
        events.publish_many_on_commit(
            ((events.presence_group(room_id), room_id) for room_id in room_ids),
            presence_event(user_id=user_id, status=after),
            topic=events.PRESENCE_TOPIC,
        )


def _apply(changes: list[Change], room_ids: Iterable[int] | None = None) -> list[bool]:
    """Applies changes and announces the transitions; False for a report that found
    no entry. Redis being unreachable is logged and otherwise ignored. `room_ids`:
    the member rooms of a single change's user, if the caller has them."""
    if not changes:
        return []
    try:
        results = _store().change(changes, time.time(), settings.CHAT_PRESENCE_TTL)
    except redis.RedisError:
        logger.warning("Presence store unreachable; %d changes skipped", len(changes))
        return [True] * len(changes)
    for (user_id, *_), (before, after, _found) in zip(changes, results, strict=True):
        _announce(user_id, before, after, room_ids)
    return [found for _, _, found in results]


def presence_connect(
    *,
    user_id: int,
    connection: str,
    status: str = "online",
    room_ids: Iterable[int] | None = None,
) -> None:
    """Adds a live connection's entry with `status`, or, if it is there, pushes its
    expiry CHAT_PRESENCE_TTL seconds forward and keeps the status its client reported
    (which may have come through another process, over HTTP).

    `room_ids`: the user's member rooms, as the connection has just read them to
    follow them (selectors.member_room_ids), so that coming online need not read them
    again."""
    _apply([(user_id, "refresh", connection, status)], room_ids)


def presence_report(*, user_id: int, connection: str, status: str) -> bool:
    """What a client says of its connection (online, or away: tab hidden or idle).

    False if the user has no such live connection: only a connection's own client
    sets its status, and it cannot bring back one that lapsed."""
    return _apply([(user_id, "report", connection, status)])[0]


def presence_remove(*, user_id: int, connection: str) -> None:
    """A connection closed: its entry goes at once, not when it would lapse."""
    _apply([(user_id, "remove", connection, "")])


def presence_refresh(*, entries: Iterable[tuple[int, str, str]]) -> None:
    """Refreshes a process's live connections (user id, connection, status), then
    sweeps: announces the users whose entries lapsed, wherever they were served."""
    _apply(
        [(user, "refresh", connection, status) for user, connection, status in entries]
    )
    presence_sweep()


def presence_sweep() -> None:
    """Applies expiry to every user with a lapsed entry, announcing who went away or
    offline because the process that served them stopped refreshing."""
    try:
        due = _store().due(time.time())
    except redis.RedisError:
        logger.warning("Presence store unreachable; sweep skipped")
        return
    _apply([(user_id, "settle", "", "") for user_id in due])


def presence_statuses(*, user_ids: Iterable[int]) -> dict[int, Status]:
    """Each user's status now, expiry applied: what a page shows when it loads.

    Everyone is offline if Redis cannot be reached: that is no reason to fail a page."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    try:
        found = _store().read(ids, time.time())
    except redis.RedisError:
        logger.warning("Presence store unreachable; showing everyone offline")
        found = ["offline"] * len(ids)
    return dict(zip(ids, found, strict=True))
