"""Flood control: a token bucket per user and action, shared by every entry point.

The bucket holds `burst` tokens and refills at `rate` per second; each action takes
one. The process decides at once, from buckets of its own (MemoryBuckets). With Redis
configured each take is also recorded there, in the background (SharedBuckets), so
every daphne process counts against the same limit; without it, the process's
buckets are the limit.
"""

import itertools
import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import redis
from django.conf import settings

from rooms.errors import RateLimited
from rooms.redis_scripts import run_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    burst: int
    rate: float  # tokens per second

    @property
    def ttl(self) -> int:
        """Seconds until an untouched bucket is full again, and can be forgotten."""
        return int(self.burst / self.rate) + 1

    def wait(self, left: float) -> float:
        """Seconds to wait, for a take that left `left` tokens (below 0: refused)."""
        return max(0.0, -left) / self.rate


# KEYS[1] bucket; ARGV: burst, rate, now, ttl. Returns the tokens left after the take;
# below 0 if there was none to take (and then nothing is taken).
_TAKE = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', now)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return tostring(tokens - 1)
"""


# KEYS[1] bucket; ARGV: burst, ttl. Gives back one token taken in vain (never above
# the burst); a bucket that is gone is full already.
_GIVE_BACK = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens then
  redis.call('HSET', KEYS[1], 'tokens', math.min(tonumber(ARGV[1]), tokens + 1))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class Buckets(ABC):
    @abstractmethod
    def take_counted(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        """Takes a token from each key's bucket in turn (a key listed twice takes
        two): the tokens each take left, below 0 where it was refused."""

    def take(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        """As take_counted: for each, 0 if taken, else the seconds to wait."""
        return [limit.wait(left) for left in self.take_counted(keys, limit, now)]

    @abstractmethod
    def give_back(self, key: str, limit: Limit) -> None:
        """Returns one token taken in vain (never above the burst)."""


class MemoryBuckets(Buckets):
    """This process's buckets. One untouched until it is full again is forgotten
    (a fresh bucket is full), so they hold only the users acting lately."""

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        # key -> (tokens, as of, when full again)
        self._buckets: dict[str, tuple[float, float, float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = 0.0

    def take_counted(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        with self._lock:
            if now >= self._sweep_at:
                self._sweep(now)
            return [self._take(key, limit, now) for key in keys]

    def give_back(self, key: str, limit: Limit) -> None:
        with self._lock:
            if key in self._buckets:
                tokens, at, full_at = self._buckets[key]
                self._buckets[key] = (min(limit.burst, tokens + 1), at, full_at)

    def lower(self, key: str, limit: Limit, by: float, now: float) -> None:
        """Takes `by` more tokens, down to none: what others took meanwhile."""
        with self._lock:
            tokens = max(0.0, self._level(key, limit, now) - by)
            self._buckets[key] = (tokens, now, now + limit.ttl)

    def _level(self, key: str, limit: Limit, now: float) -> float:
        tokens, at, _ = self._buckets.get(key, (limit.burst, now, now))
        return min(limit.burst, tokens + max(0.0, now - at) * limit.rate)

    def _take(self, key: str, limit: Limit, now: float) -> float:
        left = self._level(key, limit, now) - 1
        if left >= 0:
            self._buckets[key] = (left, now, now + limit.ttl)
        return left

    def _sweep(self, now: float) -> None:
        self._sweep_at = now + self.SWEEP_SECONDS
        full = [key for key, (*_, full_at) in self._buckets.items() if full_at <= now]
        for key in full:
            del self._buckets[key]


class RedisBuckets(Buckets):
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1
        )
        self._take = self._client.register_script(_TAKE)
        self._give_back = self._client.register_script(_GIVE_BACK)

    def take_counted(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        """In one round trip."""
        return self.take_many([(key, limit, now) for key in keys])

    def take_many(self, takes: list[tuple[str, Limit, float]]) -> list[float]:
        """As take_counted, each with a limit and time of its own, in one round trip."""
        calls = [([k], [lim.burst, lim.rate, now, lim.ttl]) for k, lim, now in takes]
        return [float(left) for left in run_many(self._client, self._take, calls)]

    def give_back(self, key: str, limit: Limit) -> None:
        self.give_back_many([(key, limit)])

    def give_back_many(self, give_backs: list[tuple[str, Limit]]) -> None:
        calls = [([key], [limit.burst, limit.ttl]) for key, limit in give_backs]
        run_many(self._client, self._give_back, calls)


class _Take(NamedTuple):
    """A take SharedBuckets records in Redis, and the tokens it left here."""

    key: str
    limit: Limit
    at: float
    left: float


class _GiveBack(NamedTuple):
    key: str
    limit: Limit


class SharedBuckets(Buckets):
    """Buckets decided in this process at once and shared through Redis after.

    A round trip to Redis for every action sat on the way of every message (a third
    of a millisecond of a send's 2.3 at light load, docs/performance.md). Here this
    process's buckets decide, and a thread of their own records each take in Redis,
    where every process's takes meet. Where Redis counted fewer tokens left after a
    take than this process did, others took the difference: this process's bucket
    loses it too. So one process limits exactly, and a user acting through several
    at once gets ahead of the shared limit only by what they do in the time their
    takes take to come back from Redis. If Redis cannot be reached, each process
    still limits on its own.

    The thread waits RECORD_AFTER seconds after the first take before it records
    what has come since: on one core its own work would otherwise compete with the
    send that has just taken its token, whose transaction is starting; and a busy
    process records many takes in one round trip.
    """

    RECORD_AFTER = 0.005

    def __init__(self, url: str) -> None:
        self._local = MemoryBuckets()
        self._redis = RedisBuckets(url)
        self._changed = threading.Condition()
        self._pending: list[_Take | _GiveBack] = []
        self._queued = 0  # ever queued, and ever recorded (or failed to be)
        self._recorded = 0
        self._reachable = True
        self._thread: threading.Thread | None = None

    def take_counted(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        lefts = self._local.take_counted(keys, limit, now)
        taken = [
            _Take(k, limit, now, left)
            for k, left in zip(keys, lefts, strict=True)
            if left >= 0
        ]
        self._queue(taken)
        return lefts

    def give_back(self, key: str, limit: Limit) -> None:
        self._local.give_back(key, limit)
        self._queue([_GiveBack(key, limit)])

    def recorded(self, timeout: float | None = None) -> bool:
        """Waits until what was queued before the call has been through Redis
        (recorded, or found unreachable); False if `timeout` passed first."""
        with self._changed:
            queued = self._queued
            return self._changed.wait_for(lambda: self._recorded >= queued, timeout)

    def _queue(self, changes: list[_Take | _GiveBack]) -> None:
        if not changes:
            return
        with self._changed:
            if not self._pending:
                self._changed.notify_all()
            self._pending += changes
            self._queued += len(changes)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._record_forever, name="flood-control", daemon=True
                )
                self._thread.start()

    def _record_forever(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending)
            time.sleep(self.RECORD_AFTER)
            with self._changed:
                changes, self._pending = self._pending, []
            try:
                self._record(changes)
            except Exception:
                logger.exception("Flood control could not record %d", len(changes))
            with self._changed:
                self._recorded += len(changes)
                self._changed.notify_all()

    def _record(self, changes: list[_Take | _GiveBack]) -> None:
        """In the order queued: a give-back follows the take it returns."""
        try:
            for kind, run in itertools.groupby(changes, key=type):
                if kind is _Take:
                    self._lower(list(run))
                else:
                    self._redis.give_back_many([(g.key, g.limit) for g in run])
        except redis.RedisError:
            if self._reachable:
                logger.warning("Flood control cannot reach Redis; limiting per process")
            self._reachable = False
            return
        if not self._reachable:
            logger.info("Flood control reaches Redis again")
        self._reachable = True

    def _lower(self, takes: list[_Take]) -> None:
        shared = self._redis.take_many([(t.key, t.limit, t.at) for t in takes])
        now = time.time()
        for take, shared_left in zip(takes, shared, strict=True):
            # The same take, at the same time, on both counts.
            if take.left - shared_left > 1e-9:
                self._local.lower(take.key, take.limit, take.left - shared_left, now)


_memory = MemoryBuckets()


@cache
def _shared_buckets(url: str) -> SharedBuckets:
    return SharedBuckets(url)


def _buckets() -> MemoryBuckets | SharedBuckets:
    """The process's buckets: shared through Redis when it is configured."""
    return _shared_buckets(settings.REDIS_URL) if settings.REDIS_URL else _memory


def limit_for(action: str) -> Limit:
    burst, rate = settings.CHAT_RATE_LIMITS[action]
    return Limit(burst=burst, rate=rate)


def _key(user_id: int, action: str) -> str:
    return f"{settings.CHAT_RATE_LIMIT_PREFIX}:{action}:{user_id}"


def rate_limit(*, user_id: int, action: str) -> None:
    """Takes one `action` token for the user, or raises RateLimited."""
    (refused,) = rate_limits(user_ids=[user_id], action=action)
    if refused is not None:
        raise refused


def rate_limits(*, user_ids: list[int], action: str) -> list[RateLimited | None]:
    """Takes one `action` token for each of `user_ids` (a user listed twice takes two),
    all at once: for each, None if taken, else the RateLimited that says how long to
    wait (a batch of sends, rooms.services.messages_send)."""
    limit = limit_for(action)
    waits = _buckets().take([_key(u, action) for u in user_ids], limit, time.time())
    return [_refusal(wait) if wait > 0 else None for wait in waits]


def _refusal(wait: float) -> RateLimited:
    retry_after = round(wait + 0.05, 1)
    return RateLimited(
        f"You are going too fast. Try again in {retry_after:g} s.",
        retry_after=retry_after,
    )


def give_back(*, user_id: int, action: str) -> None:
    """Returns the token of an action that turned out not to happen (a retried send
    answered with its first result), so a retry never counts twice."""
    _buckets().give_back(_key(user_id, action), limit_for(action))
