"""Flood control: a token bucket per user and action, shared by every entry point.

The bucket holds `burst` tokens and refills at `rate` per second; each action takes
one. With Redis configured the buckets live there, so every daphne process counts
against the same limit; without it, in this process. If Redis cannot be reached the
limit fails open: a message must still be stored when the channel layer is down.
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache

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


# KEYS[1] bucket; ARGV: burst, rate, now, ttl. Returns 0 if taken, else seconds to wait.
_TAKE = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return tostring((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', now)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return '0'
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


class MemoryBuckets:
    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        return [self._take(key, limit, now) for key in keys]

    def _take(self, key: str, limit: Limit, now: float) -> float:
        with self._lock:
            tokens, at = self._buckets.get(key, (limit.burst, now))
            tokens = min(limit.burst, tokens + max(0.0, now - at) * limit.rate)
            if tokens < 1:
                return (1 - tokens) / limit.rate
            self._buckets[key] = (tokens - 1, now)
            return 0.0

    def give_back(self, key: str, limit: Limit) -> None:
        with self._lock:
            if key in self._buckets:
                tokens, at = self._buckets[key]
                self._buckets[key] = (min(limit.burst, tokens + 1), at)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


class RedisBuckets:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1
        )
        self._take = self._client.register_script(_TAKE)
        self._give_back = self._client.register_script(_GIVE_BACK)

    def take(self, keys: list[str], limit: Limit, now: float) -> list[float]:
        """In one round trip: a key given twice takes two tokens, in turn."""
        args = [limit.burst, limit.rate, now, limit.ttl]
        return [
            float(wait)
            for wait in run_many(self._client, self._take, [([k], args) for k in keys])
        ]

    def give_back(self, key: str, limit: Limit) -> None:
        self._give_back(keys=[key], args=[limit.burst, limit.ttl])


_memory = MemoryBuckets()


@cache
def _redis_buckets(url: str) -> RedisBuckets:
    return RedisBuckets(url)


def _buckets() -> MemoryBuckets | RedisBuckets:
    return _redis_buckets(settings.REDIS_URL) if settings.REDIS_URL else _memory


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
    all in one round trip to the store: for each, None if taken, else the RateLimited
    that says how long to wait (a batch of sends, rooms.services.messages_send)."""
    limit = limit_for(action)
    try:
        waits = _buckets().take([_key(u, action) for u in user_ids], limit, time.time())
    except redis.RedisError:
        logger.warning("Rate limit store unreachable; letting %s through", action)
        return [None] * len(user_ids)
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
    try:
        _buckets().give_back(_key(user_id, action), limit_for(action))
    except redis.RedisError:
        logger.warning("Rate limit store unreachable; %s token not given back", action)
