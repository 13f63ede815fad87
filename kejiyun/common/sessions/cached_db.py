"""Cached database sessions (Redis in production) with the row read by a prepared query
when the cache misses (see the package docstring)."""

from django.contrib.sessions.backends.cached_db import SessionStore as DjangoCachedDBStore

from kejiyun.common.sessions import PreparedReadMixin


class SessionStore(PreparedReadMixin, DjangoCachedDBStore):
    pass
