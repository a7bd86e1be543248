"""chatsite.settings: read from the environment (DATABASE_URL, REDIS_URL, ...).

Each case imports the settings module in a fresh interpreter with exactly the
environment under test, as a deployment would.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import connection, transaction
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
# Variables the settings read; each case starts without any of them.
SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "REDIS_URL",
    "CHAT_CHANNEL_PREFIX",
    "CHAT_RESUME_LIMIT",
    "CHAT_MAX_FRAME_BYTES",
    "DJANGO_DEBUG",
    "DEBUG",
    "DJANGO_SECURE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
}

PRINT_SETTINGS = """
import json
import chatsite.settings as s
print(json.dumps({
    "DATABASES": s.DATABASES,
    "CHANNEL_LAYERS": s.CHANNEL_LAYERS,
    "DEBUG": s.DEBUG,
    "CHAT_RESUME_LIMIT": s.CHAT_RESUME_LIMIT,
    "CHAT_MAX_FRAME_BYTES": s.CHAT_MAX_FRAME_BYTES,
}, default=str))
"""


@pytest.fixture
def settings_with(tmp_path):
    """Loads chatsite.settings under `env` (on top of a clean environment)."""

    def load(**env: str) -> dict:
        clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
        clean["CHAT_VAR_DIR"] = str(tmp_path)
        result = subprocess.run(
            [sys.executable, "-c", PRINT_SETTINGS],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return load


# --- DATABASE_URL ------------------------------------------------------------------------


def test_when_database_url_is_unset_then_sqlite_under_the_var_dir(
    settings_with, tmp_path
):
    db = settings_with()["DATABASES"]["default"]

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "chat.sqlite3")
    assert Path(db["TEST"]["NAME"]).parent == tmp_path


def test_when_the_database_is_sqlite_then_it_is_set_up_for_concurrent_writers(
    settings_with,
):
    options = settings_with()["DATABASES"]["default"]["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    pragmas = options["init_command"].replace(" ", "").lower()
    assert "journal_mode=wal" in pragmas
    assert "foreign_keys=on" in pragmas


def test_when_database_url_names_a_sqlite_file_then_that_file_with_the_same_options(
    settings_with, tmp_path
):
    path = tmp_path / "elsewhere.sqlite3"

    db = settings_with(DATABASE_URL=f"sqlite:///{path}")["DATABASES"]["default"]

    assert db["NAME"] == str(path)
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_when_database_url_is_postgres_then_its_parts_and_no_sqlite_options(
    settings_with,
):
    db = settings_with(
        DATABASE_URL="postgres://chat:s3cret@db.internal:6543/chatdb",
        DATABASE_CONN_MAX_AGE="60",
    )["DATABASES"]["default"]

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "chatdb",
        "chat",
        "s3cret",
        "db.internal",
        6543,
    )
    assert db["CONN_MAX_AGE"] == 60
    assert "transaction_mode" not in db.get("OPTIONS", {})
    assert "init_command" not in db.get("OPTIONS", {})


def test_postgres_pools_its_connections_unless_told_otherwise(settings_with):
    url = "postgres://chat:s3cret@db.internal:6543/chatdb"

    pooled = settings_with(DATABASE_URL=url)["DATABASES"]["default"]
    unpooled = settings_with(DATABASE_URL=url, DATABASE_POOL="0")["DATABASES"][
        "default"
    ]

    assert pooled["CONN_MAX_AGE"] == 0
    assert pooled["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8}
    assert "pool" not in unpooled.get("OPTIONS", {})


def test_sqlite_keeps_its_connection_by_default(settings_with, tmp_path):
    db = settings_with(DATABASE_URL=f"sqlite:///{tmp_path / 'chat.sqlite3'}")
    assert db["DATABASES"]["default"]["CONN_MAX_AGE"] == 600


# --- REDIS_URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{}, {"REDIS_URL": ""}], ids=["unset", "empty"])
def test_when_redis_url_is_unset_then_the_in_memory_channel_layer(settings_with, env):
    layers = settings_with(**env)["CHANNEL_LAYERS"]

    assert layers == {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_when_redis_url_is_set_then_redis_pubsub_without_a_read_timeout(settings_with):
    layer = settings_with(REDIS_URL="redis://10.1.2.3:6380/2")["CHANNEL_LAYERS"][
        "default"
    ]

    # channels-redis' pub/sub layer, or a subclass of it.
    backend = import_string(layer["BACKEND"])
    assert issubclass(backend, RedisPubSubChannelLayer)
    (host,) = layer["CONFIG"]["hosts"]
    assert host["address"] == "redis://10.1.2.3:6380/2"
    # redis-py 8's default 5 s read timeout would drop idle subscribers.
    assert "socket_timeout" in host and host["socket_timeout"] is None
    assert layer["CONFIG"]["prefix"] == "chat"


def test_when_a_channel_prefix_is_set_then_the_layer_uses_it(settings_with):
    layer = settings_with(
        REDIS_URL="redis://127.0.0.1:6379/0", CHAT_CHANNEL_PREFIX="staging"
    )["CHANNEL_LAYERS"]["default"]

    assert layer["CONFIG"]["prefix"] == "staging"


# --- other knobs -------------------------------------------------------------------------


def test_when_nothing_is_set_then_debug_is_off_and_the_chat_limits_are_the_defaults(
    settings_with,
):
    loaded = settings_with()

    assert loaded["DEBUG"] is False
    assert loaded["CHAT_RESUME_LIMIT"] == 500
    assert loaded["CHAT_MAX_FRAME_BYTES"] == 64 * 1024


def test_when_the_chat_limits_are_set_then_they_are_used(settings_with):
    loaded = settings_with(CHAT_RESUME_LIMIT="20", CHAT_MAX_FRAME_BYTES="1000")

    assert (loaded["CHAT_RESUME_LIMIT"], loaded["CHAT_MAX_FRAME_BYTES"]) == (20, 1000)


# --- the SQLite database the tests run on -------------------------------------------------


def skip_unless_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on another database (DATABASE_URL)")


@pytest.mark.django_db
def test_when_connected_to_sqlite_then_wal_busy_timeout_and_foreign_keys_are_on():
    skip_unless_sqlite()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        busy_timeout = cursor.fetchone()[0]
        cursor.execute("PRAGMA foreign_keys")
        foreign_keys = cursor.fetchone()[0]

    assert journal_mode == "wal"
    assert busy_timeout >= 5000
    assert foreign_keys == 1


@pytest.mark.django_db(transaction=True)
def test_when_a_transaction_begins_then_it_holds_the_write_lock_at_once():
    """IMMEDIATE: a second writer waits at BEGIN, never half-way through (no deadlock)."""
    skip_unless_sqlite()
    connection.ensure_connection()
    path = connection.settings_dict["NAME"]
    other = sqlite3.connect(path, timeout=0)
    try:
        with transaction.atomic():
            # Nothing written yet, and still the lock is ours.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
    finally:
        other.close()
