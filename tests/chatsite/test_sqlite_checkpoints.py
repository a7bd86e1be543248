"""chatsite.sqlite_checkpoints: the WAL is copied into the database file in the
background, so the next commit starts it over instead of growing it toward a checkpoint
of its own."""

import time

import pytest
from django.db import connection

from chatsite import sqlite_checkpoints
from tests.factories import RoomFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL only"),
]


def commits(count: int) -> None:
    for _ in range(count):
        RoomFactory()  # each one its own transaction


def frames_in_the_wal() -> int:
    busy, frames, _ = sqlite_checkpoints.checkpoint()
    assert busy == 0
    return frames


def test_when_checkpoints_run_in_the_background_then_the_next_commit_restarts_the_wal():
    sqlite_checkpoints.start(interval=0.05)
    try:
        commits(100)
        time.sleep(0.5)
        commits(1)
        assert frames_in_the_wal() < 20
    finally:
        sqlite_checkpoints.stop()


def test_when_no_checkpoint_runs_then_the_wal_grows_with_every_commit():
    commits(100)
    commits(1)

    assert frames_in_the_wal() >= 100
