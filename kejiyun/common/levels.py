"""Recognition levels (典型选树) shared by the records that carry them: the recognition app
grants them, and studios (talent) and cases show them on their pages and in search."""

from __future__ import annotations

from django.db import models


class Level(models.TextChoices):
    """The level an application asks for and the level it is granted. Workstation and
    project programmes grant `LISTED` (入选)."""

    NONE = "", "无"
    TYPICAL = "typical", "典型"
    PREMIUM = "premium", "精品"
    LISTED = "listed", "入选"
