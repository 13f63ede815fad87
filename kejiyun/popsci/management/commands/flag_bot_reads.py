from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kejiyun.popsci.content.bots import BOT_WINDOW_HOURS
from kejiyun.popsci.content.services import reads_flag_bots


class Command(BaseCommand):
    help = "Flag bot-like reading: too fast, one device for many accounts, regular groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=BOT_WINDOW_HOURS,
            help="look at reads opened in the last N hours",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        flagged = reads_flag_bots(since=now - timedelta(hours=options["hours"]), now=now)
        self.stdout.write(f"flagged reads: {flagged}")
