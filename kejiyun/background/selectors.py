"""Reads of runs: who may see one."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from kejiyun.background.models import Run

# Staff who may see everyone's runs (administrators hold every permission).
VIEW_PERMISSION = "background.view_run"


def may_see(user: Any, run: Run) -> bool:
    """Its owner; and whoever holds `background.view_run` (superusers, and staff an
    administrator granted it to follow others' runs)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(run.owner_id == user.pk or user.has_perm(VIEW_PERMISSION))


def access_run(user: Any, run_id: int) -> Run:
    """The run if `user` may see it; otherwise 404 (never "exists but not yours")."""
    run = Run.objects.filter(pk=run_id).select_related("owner").first()
    if run is None or not may_see(user, run):
        raise Http404("任务不存在")
    return run
