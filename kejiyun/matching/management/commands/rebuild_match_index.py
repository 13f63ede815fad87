from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.matching.index import index_dir, match_index_rebuild


class _Printer:
    """The rebuild's progress on the command's output, every tenth of the way."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command
        self.total = self.done = self.shown = 0

    def start(self, total: int, message: str = "") -> None:
        self.total, self.done, self.shown = total, 0, 0
        self.command.stdout.write(f"{message} {total} rows")

    def advance(self, steps: int = 1, message: str | None = None) -> None:
        self.done += steps
        tenth = (10 * self.done) // self.total if self.total else 10
        if tenth > self.shown:
            self.shown = tenth
            self.command.stdout.write(f"  {self.done}/{self.total} {message or ''}")


class Command(BaseCommand):
    help = (
        "Rebuild the matching index (experts, demands, teams and studios, results) from the "
        "database and save it under MATCH_INDEX_DIR, where web workers open it. Safe to run "
        "while they serve. Staff can start the same rebuild at /matching/index/."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = match_index_rebuild(progress=_Printer(self))
        self.stdout.write(
            f"match index: {sizes['experts']} experts, {sizes['demands']} demands, "
            f"{sizes['teams']} teams and studios, {sizes['results']} results "
            f"saved in {index_dir()}"
        )
