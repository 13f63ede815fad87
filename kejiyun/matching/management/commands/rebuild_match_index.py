from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.matching.index import index_dir, match_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the matching index (experts, demands, teams and studios, results) from the "
        "database and save it "
        "under MATCH_INDEX_DIR, where web workers open it. Safe to run while they serve."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = match_index_rebuild()
        self.stdout.write(
            f"match index: {sizes['experts']} experts, {sizes['demands']} demands, "
            f"{sizes['teams']} teams and studios, {sizes['results']} results "
            f"saved in {index_dir()}"
        )
