"""The --from/--to days the ops commands take, checked with a Chinese message."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError, CommandParser


def add_range_arguments(parser: CommandParser) -> None:
    parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"{what}“{text}”不是有效日期，请写成 YYYY-MM-DD，如 2026-05-01。"
        ) from None


def day_range(start: str, end: str) -> tuple[date, date]:
    first, last = _day(start, "开始日期"), _day(end, "结束日期")
    if last < first:
        raise CommandError(f"结束日期 {last} 早于开始日期 {first}。")
    return first, last
