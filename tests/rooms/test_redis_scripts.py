"""Many calls of a Lua script in one round trip, against the real Redis."""

import uuid

import redis

from rooms.redis_scripts import run_many

_APPEND = "return redis.call('RPUSH', KEYS[1], ARGV[1])"


def _calls(key: str, values: list[str]) -> list[tuple[list[str], list[str]]]:
    return [([key], [value]) for value in values]


def test_every_call_runs_in_order_and_each_reply_is_returned(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    script = client.register_script(_APPEND)
    key = f"scripts-{uuid.uuid4().hex}"

    assert run_many(client, script, _calls(key, ["a", "b", "c"])) == [1, 2, 3]
    assert client.lrange(key, 0, -1) == [b"a", b"b", b"c"]
    assert run_many(client, script, []) == []


def test_when_redis_has_lost_its_scripts_they_are_loaded_and_run_once(redis_server):
    """A Redis restart empties its script cache: the calls that failed are run again
    after loading the script, and none of them runs twice."""
    client = redis.Redis.from_url(redis_server.url)
    script = client.register_script(_APPEND)
    key = f"scripts-{uuid.uuid4().hex}"
    client.script_flush()

    assert run_many(client, script, _calls(key, ["a", "b"])) == [1, 2]
    assert client.lrange(key, 0, -1) == [b"a", b"b"]
