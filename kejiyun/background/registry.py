"""The handlers of long work, one per kind, registered by the apps that own the work.

This app sits in the base layer and imports no app above it: an owning app (spreadsheets,
ops, matching, popsci) registers its handlers when its `AppConfig.ready` imports its
`background` module, and a run names its handler by kind. A handler is a function
`(run, progress) -> Outcome` that reads its input from `run.params` (ids and flags, never
model instances), reports `progress` from inside its loops and is safe to run twice: a run
whose worker died is run again from the start (docs/adr/0019-background-work.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kejiyun.background.models import Run
    from kejiyun.background.progress import Progress


@dataclass(frozen=True)
class Outcome:
    """What a finished run leaves for its owner: a Chinese message, and a link, a file, or
    both. A file is kept private and sent only to the owner (once when `once`)."""

    message: str
    url: str = ""
    url_label: str = ""
    file: bytes | None = None
    file_name: str = ""
    file_type: str = ""
    once: bool = False


HandlerFunction = Callable[["Run", "Progress"], Outcome]
# Told when the owner downloads a run's result file: (run, user, client IP). The owning app
# records what a download of its file means (an audit row, a read receipt).
DeliveredFunction = Callable[["Run", Any, "str | None"], None]


@dataclass(frozen=True)
class Handler:
    kind: str
    run: HandlerFunction
    delivered: DeliveredFunction | None = None


HANDLERS: dict[str, Handler] = {}


def handler_register(
    kind: str, run: HandlerFunction, *, delivered: DeliveredFunction | None = None
) -> None:
    """Register the handler of `kind`; registering the same function again is harmless, a
    second function for one kind is a programming error."""
    existing = HANDLERS.get(kind)
    if existing is not None and existing.run is not run:
        qualified = f"{run.__module__}.{run.__qualname__}"
        raise ValueError(f"background handler {kind!r} is already registered ({qualified})")
    HANDLERS[kind] = Handler(kind=kind, run=run, delivered=delivered)


def handler_for(kind: str) -> Handler:
    try:
        return HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no background handler registered for {kind!r}") from None
