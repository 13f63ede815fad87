"""Fill the anchor's table with ROWS deterministic records (none if it already has them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from bench.anchor.rows.models import Row

CATEGORIES = ("技术难题", "人才需求", "设备共享", "成果转化", "培训服务")
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


class Command(BaseCommand):
    help = "Fill the anchor's rows table (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rows", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: int = options["rows"]
        have = Row.objects.count()
        Row.objects.bulk_create(
            Row(
                title=f"第{i}号记录：某企业的一项技术需求",
                category=CATEGORIES[i % len(CATEGORIES)],
                amount=Decimal(i * 137 % 100000) + Decimal("0.50"),
                published_at=START + timedelta(hours=i),
            )
            for i in range(have + 1, wanted + 1)
        )
        self.stdout.write(f"anchor rows: {max(have, wanted)}")
