"""Database sessions with the row read by a prepared query (see the package docstring)."""

from django.contrib.sessions.backends.db import SessionStore as DjangoDBStore

from kejiyun.common.sessions import PreparedReadMixin


class SessionStore(PreparedReadMixin, DjangoDBStore):
    pass
