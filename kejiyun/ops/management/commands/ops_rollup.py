from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kejiyun.ops.management.commands._range import add_range_arguments, day_range
from kejiyun.ops.rollups import rollup_days


class Command(BaseCommand):
    help = "Rebuild the operations rollups of a range of days (and their months) from raw records."

    def add_arguments(self, parser: CommandParser) -> None:
        add_range_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = day_range(options["start"], options["end"])
        began = time.perf_counter()
        result = rollup_days(start=start, end=end)
        seconds = time.perf_counter() - began
        self.stdout.write(
            f"已重建 {start} 至 {end}：{result.days} 天、{result.months} 个月，"
            f"写入 {result.rows} 行，用时 {seconds:.1f} 秒。"
        )
