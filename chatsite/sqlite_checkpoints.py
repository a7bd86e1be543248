"""SQLite's WAL checkpoints, done in a thread of their own instead of in a commit.

In WAL mode every commit appends its pages to the -wal file, and the commit that takes
it past 1,000 pages (SQLite's wal_autocheckpoint) also copies them into the database
file and syncs both files (synchronous=NORMAL syncs only there). Under daphne that
commit is some batch of sockets' sends: in the benchmark one such commit held the
database thread for over 0.3 s, and every send of the process waited behind it
(docs/performance.md).

`start()` runs a PASSIVE checkpoint every CHECKPOINT_SECONDS in a thread of this
process, on that thread's own connection: it copies what no reader still needs without
waiting for readers or the writer, and blocks neither, while the database thread goes
on committing. The WAL is then restarted from its beginning by the next commit, so it
rarely grows to the automatic checkpoint, which stays on as a backstop. On PostgreSQL
it does nothing.
"""

import logging
import threading

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0


def checkpoint() -> tuple[int, int, int] | None:
    """One PASSIVE checkpoint of the default database on this thread's connection:
    (1 if it could not run at all, frames in the WAL, frames now in the database
    file), or None when the database is not SQLite."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return tuple(cursor.fetchone())


def _run(stop: threading.Event, interval: float) -> None:
    failing = False
    while not stop.wait(interval):
        try:
            if checkpoint() is None:
                return
            failing = False
        except DatabaseError as error:
            if not failing:
                logger.warning("WAL checkpoint failed, retrying: %s", error)
            failing = True
            connections[DEFAULT_DB_ALIAS].close()
        except RuntimeError:
            pass  # a test run that does not allow the database just now


_stop: threading.Event | None = None


def start(interval: float = CHECKPOINT_SECONDS) -> None:
    """Starts this process's checkpoints, on SQLite, unless they run already."""
    global _stop
    if _stop is not None or connections[DEFAULT_DB_ALIAS].vendor != "sqlite":
        return
    _stop = threading.Event()
    threading.Thread(
        target=_run, args=(_stop, interval), name="sqlite-checkpoints", daemon=True
    ).start()


def stop() -> None:
    """Stops them (the thread ends within one interval)."""
    global _stop
    if _stop is not None:
        _stop.set()
        _stop = None
