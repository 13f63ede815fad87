from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kejiyun.ops.management.commands._range import add_range_arguments, day_range
from kejiyun.ops.rollups import centre_names, rollup_verify


class Command(BaseCommand):
    help = (
        "Recompute every day x indicator x centre from raw records and compare with the stored "
        "rollups (and each month row with the sum of its days); exit 1 naming any mismatch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_range_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = day_range(options["start"], options["end"])
        result = rollup_verify(start=start, end=end)
        if result.mismatches:
            names = centre_names()
            for mismatch in result.mismatches:
                self.stderr.write(mismatch.describe(names))
            raise CommandError(
                f"{start} 至 {end}：{len(result.mismatches)} 处汇总与原始记录不一致"
                f"（共核对 {result.checked} 项）。",
                returncode=1,
            )
        self.stdout.write(
            f"{start} 至 {end}：{result.days} 天、{result.months} 个月，"
            f"核对 {result.checked} 项，全部一致。"
        )
