"""The request an audit row is written in (docs/security.md item 11).

`AuditContextMiddleware` stores the current request's client address in a context variable for
the length of the request and clears it after the response, so `audit_record` fills `ip` when a
service writes a row without being handed the request. Outside a request (jobs, the shell) the
variable is empty and rows carry no address, as they should.
"""

from __future__ import annotations

from contextvars import ContextVar

_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def current_ip() -> str | None:
    """The client address of the request being served in this context, if any."""
    return _client_ip.get()


def set_current_ip(ip: str | None) -> object:
    """Set the address for this context; returns the token `reset_current_ip` takes."""
    return _client_ip.set(ip)


def reset_current_ip(token: object) -> None:
    _client_ip.reset(token)  # type: ignore[arg-type]


# Whether a service already wrote a refused row during this request (then the middleware's
# ACCESS_REFUSED row would say the same thing twice).
_refusal_recorded: ContextVar[bool] = ContextVar("audit_refusal_recorded", default=False)


def note_refusal_recorded() -> None:
    _refusal_recorded.set(True)


def refusal_recorded() -> bool:
    return _refusal_recorded.get()


def reset_refusal_recorded() -> object:
    """Start a request with nothing recorded; returns the token for `_refusal_recorded.reset`."""
    return _refusal_recorded.set(False)


def restore_refusal_recorded(token: object) -> None:
    _refusal_recorded.reset(token)  # type: ignore[arg-type]
