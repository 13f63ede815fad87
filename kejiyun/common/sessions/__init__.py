"""Session engines: Django's database and cached-database sessions, reading the session row
with a query compiled once per process (kejiyun/common/prepared.py; issue 16, "fast pages").

`SESSION_ENGINE` names `kejiyun.common.sessions.db` on the embedded default and
`kejiyun.common.sessions.cached_db` with Redis. Everything but the read of the row (saving,
creating, expiry, cycling the key, clearing) is Django's own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from kejiyun.common.prepared import PreparedQuery

if TYPE_CHECKING:
    from django.contrib.sessions.backends.db import SessionStore as DBStore
else:
    DBStore = object

_SESSION_ROW = PreparedQuery(
    lambda key: Session.objects.filter(session_key=key), "kejiyun-session-key-stand-in"
)


class PreparedReadMixin(DBStore):
    def _get_session_from_db(self) -> Any:
        """Django's read (the row of this key unless it has expired), compiled once: the
        expiry is compared here rather than in the SQL, with the same result."""
        key = self.session_key
        row = None
        if key:
            try:
                row = _SESSION_ROW.first(key)
            except SuspiciousOperation as exc:
                logger = logging.getLogger(f"django.security.{exc.__class__.__name__}")
                logger.warning(str(exc))
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None
            return None
        return row
