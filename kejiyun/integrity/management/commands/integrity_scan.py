from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kejiyun.common.workdays import BEIJING
from kejiyun.integrity.services import integrity_scan, integrity_scan_due


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"{what}“{text}”不是有效日期，请写成 YYYY-MM-DD，如 2026-05-01。"
        ) from None


class Command(BaseCommand):
    help = (
        "Run the gaming detectors over the Beijing days --from..--to (inclusive) and bring the "
        "flags up to date; without them, what the periodic job does (the last days)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["start"] is None and options["end"] is None:
            result = integrity_scan_due()
        else:
            if options["start"] is None or options["end"] is None:
                raise CommandError("请同时给出 --from 和 --to。")
            first, last = _day(options["start"], "开始日期"), _day(options["end"], "结束日期")
            if last < first:
                raise CommandError(f"结束日期 {last} 早于开始日期 {first}。")
            since = datetime.combine(first, time(0), tzinfo=BEIJING)
            until = min(
                datetime.combine(last + timedelta(days=1), time(0), tzinfo=BEIJING),
                timezone.now(),
            )
            if until <= since:
                raise CommandError(f"开始日期 {first} 还没有到。")
            result = integrity_scan(since=since, now=until)
        kinds = "，".join(f"{k} {n}" for k, n in result.per_kind.items())
        self.stdout.write(
            f"已扫描 {result.since:%Y-%m-%d %H:%M} 至 {result.now:%Y-%m-%d %H:%M}："
            f"发现 {result.findings} 条（{kinds}），新标记 {result.created}，"
            f"更新 {result.updated}，撤回 {result.withdrawn}，已复核未改动 {result.kept_decided}，"
            f"用时 {result.seconds:.1f} 秒。"
        )
