"""Django's database sessions, read with one plain statement.

Every page, API request and socket handshake loads its session, and a live socket
re-checks it now and then. Django compiling the same lookup for each was most of the
load (docs/performance.md), so the read is written out once (rooms.rows converts the
row as the ORM would). Writing, expiry and the data's format are Django's: sessions
stored by Django's own engine load here unchanged, and the other way round.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from rooms import rows

_FIELDS = rows.fields_of(Session)
_LOAD = (
    f"SELECT {rows.columns(None, _FIELDS)} FROM {Session._meta.db_table}"
    " WHERE session_key = %s AND expire_date > %s"
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        """The session's row if it exists and has not expired; else None, and the
        key is dropped (as Django does), so a save makes a new one."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        found = rows.read(_LOAD, [self.session_key, now], _FIELDS)
        if not found:
            self._session_key = None
            return None
        return rows.instance(Session, found[0])
