"""The long work of the platform as background runs, end to end on the pages (ADR 0019):
imports, large exports (and approved bulk exports), campaign sends, rollup rebuilds and match
index rebuilds. Each flow is also run a second time as a worker that died and was taken over
would run it, and must not do its work twice. (Bulletin files: tests/test_ops_bulletins.py.)
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.background.models import Run, RunStatus
from kejiyun.background.services import runs_resume_stale
from kejiyun.notifications.models import OutboxMessage
from kejiyun.ops.models import Rollup
from kejiyun.popsci.models import Delivery
from kejiyun.spreadsheets.models import ExportRequest
from kejiyun.talent.models import TalentProfile
from tests.builders import (
    WORKER_HEADERS,
    client_for,
    make_campaign,
    make_citizen,
    make_demand,
    make_enterprise,
    make_staff,
    make_superuser,
    make_worker,
    make_xlsx,
    upload_batch,
    worker_row,
)


def followed(client: Client, response: Any) -> Run:
    """The run a page sent the user to, as its progress page shows it."""
    assert response.status_code == 302, response
    assert response["Location"].startswith("/background/"), response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    run: Run = page.context["run"]
    return run


def taken_over(run: Run, settings: Any) -> Run:
    """Run `run` again as the stale pickup does after its worker died right at the end."""
    beat = timezone.now() - timedelta(seconds=settings.BACKGROUND_STALE_SECONDS + 5)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=beat, finished_at=None, done=0
    )
    assert runs_resume_stale()["resumed"] == 1
    run.refresh_from_db()
    return run


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Imports -------------------------------------------------------------------------------


def test_confirming_an_import_shows_its_progress_and_a_rerun_imports_nothing_twice(
    alice: User, settings: Any
) -> None:
    client = client_for(alice)
    rows = [worker_row(name=f"张{i}", mobile=f"1380000{i:04d}", id_number="") for i in range(3)]
    batch = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, rows, sheet="科技工作者"))
    response = client.post(f"/sheets/import/batches/{batch.pk}/confirm/")
    run = followed(client, response)
    assert (run.kind, run.status, run.done, run.total) == ("sheets.import", "done", 3, 3)
    assert run.message == "导入完成：新增3条，已存在跳过0条。"
    assert run.result_url == f"/sheets/import/batches/{batch.pk}/"
    assert TalentProfile.objects.count() == 3
    # Confirming again: the batch is applied, nothing runs.
    again = client.post(f"/sheets/import/batches/{batch.pk}/confirm/", follow=True)
    assert "该文件已经导入过，不能重复确认。" in again.content.decode()
    # The worker died after the commit: the run taken over reports the stored result.
    run = taken_over(run, settings)
    assert (run.status, run.attempts, run.message) == (
        "done",
        2,
        "导入完成：新增3条，已存在跳过0条。",
    )
    assert TalentProfile.objects.count() == 3
    assert AuditEvent.objects.filter(action=AuditAction.SHEETS_IMPORT).count() == 1
    assert Run.objects.count() == 1


# --- Exports -------------------------------------------------------------------------------


def test_a_large_export_is_written_in_the_background_masked_and_asked_twice_is_one_run(
    alice: User, tea_company: Any, settings: Any
) -> None:
    settings.BACKGROUND_EXPORT_ROWS = 1
    for i in range(3):
        make_demand(tea_company, title=f"茶叶分选设备改造{i}", description="联系 13812345678")
    client = client_for(alice)
    run = followed(client, client.get("/sheets/export/demands.xlsx"))
    assert (run.kind, run.status, run.done, run.total) == ("sheets.export", "done", 3, 3)
    assert followed(client, client.get("/sheets/export/demands.xlsx")).pk == run.pk
    response = client.get(f"/background/{run.pk}/result/")
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet is not None
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert sum("茶叶分选设备改造" in c for c in cells) == 3
    assert not any("13812345678" in c for c in cells)  # masked, as every export
    assert AuditEvent.objects.filter(action=AuditAction.SHEETS_EXPORT).count() == 1


def test_a_small_export_is_still_sent_at_once(alice: User, tea_company: Any) -> None:
    make_demand(tea_company, title="茶叶分选设备改造")
    response = client_for(alice).get("/sheets/export/demands.xlsx")
    assert response.status_code == 200 and Run.objects.count() == 0


def test_an_approved_bulk_export_runs_in_the_background_and_downloads_once(
    alice: User, settings: Any
) -> None:
    settings.BULK_EXPORT_APPROVAL_ROWS = 1
    settings.BACKGROUND_EXPORT_ROWS = 1
    for i in range(3):
        make_worker(f"w{i}", "510104", f"1390000{i:04d}")
    client = client_for(alice)
    assert client.get("/sheets/export/workers.xlsx").status_code == 302
    request = ExportRequest.objects.get()
    ann = make_staff("ann", "510104")
    ann.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="approve_bulk_export")
    )
    ann = User.objects.get(pk=ann.pk)
    client_for(ann).post(f"/sheets/export-requests/{request.pk}/decide/", {"decision": "approve"})
    download = f"/sheets/export-requests/{request.pk}/download.xlsx"
    run = followed(client, client.get(download))
    assert (run.status, run.result_once, run.total) == ("done", True, 3)
    request.refresh_from_db()
    assert request.status == ExportRequest.Status.DOWNLOADED
    first = client.get(f"/background/{run.pk}/result/")
    assert load_workbook(io.BytesIO(body(first))).active is not None
    second = client.get(f"/background/{run.pk}/result/", follow=True)
    assert "该结果只能下载一次" in second.content.decode()
    # Asking for the approved file again is refused by the approval flow, as before.
    third = client.get(download, follow=True)
    assert "该导出已下载过一次" in third.content.decode()
    assert Run.objects.count() == 1


# --- Campaign sends ------------------------------------------------------------------------


def test_a_campaign_send_runs_in_the_background_and_a_rerun_delivers_nobody_twice(
    alice: User, settings: Any
) -> None:
    for name in ("fang", "gao"):
        make_citizen(name, "510104")
    campaign = make_campaign(alice)
    client = client_for(alice)
    run = followed(client, client.post(f"/popsci/campaigns/{campaign.pk}/send/"))
    delivered = Delivery.objects.filter(campaign=campaign).count()
    assert (run.kind, run.status) == ("popsci.campaign_send", "done")
    assert run.message.startswith("已发送：受众") and f"本次新投递 {delivered} 人" in run.message
    assert run.result_url == f"/popsci/campaigns/{campaign.pk}/"
    messages = OutboxMessage.objects.count()
    run = taken_over(run, settings)
    assert run.status == "done" and "本次新投递 0 人" in run.message
    assert Delivery.objects.filter(campaign=campaign).count() == delivered
    assert OutboxMessage.objects.count() == messages


def test_staff_outside_cannot_send_a_campaign_and_no_run_is_made(
    alice: User, charlie: User
) -> None:
    campaign = make_campaign(alice)
    assert client_for(charlie).post(f"/popsci/campaigns/{campaign.pk}/send/").status_code == 404
    assert Run.objects.count() == 0


# --- Rollup rebuilds -----------------------------------------------------------------------


def test_province_staff_rebuild_the_rollups_with_progress_and_a_rerun_writes_the_same_rows(
    pat: User, alice: User, tea_company: Any, settings: Any
) -> None:
    make_demand(tea_company, title="茶叶分选设备改造")
    today = timezone.localdate()
    start = today.replace(day=1) - timedelta(days=40)
    client = client_for(pat)
    assert client.get("/ops/rollups/").status_code == 200
    response = client.post("/ops/rollups/", {"start": start.isoformat(), "end": today.isoformat()})
    run = followed(client, response)
    months = len(
        {(start + timedelta(days=d)).replace(day=1) for d in range((today - start).days + 1)}
    )
    assert (run.kind, run.status, run.total, run.done) == (
        "ops.rollup_rebuild",
        "done",
        months,
        months,
    )
    assert run.message.startswith(f"已重建 {start} 至 {today}")
    rows = sorted(Rollup.objects.values_list("grain", "start", "indicator", "centre_id", "num"))
    assert rows
    taken_over(run, settings)
    assert (
        sorted(Rollup.objects.values_list("grain", "start", "indicator", "centre_id", "num"))
        == rows
    )


def test_only_province_staff_and_administrators_may_rebuild(alice: User, bob: User) -> None:
    today = date.today().isoformat()
    for user in (alice, bob):
        client = client_for(user)
        assert client.get("/ops/rollups/").status_code == 404
        assert client.post("/ops/rollups/", {"start": today, "end": today}).status_code == 404
        assert client.get("/matching/index/").status_code == 404
        assert client.post("/matching/index/").status_code == 404
    assert Run.objects.count() == 0


def test_a_range_backwards_is_refused_with_a_chinese_message(pat: User) -> None:
    response = client_for(pat).post("/ops/rollups/", {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 400
    assert "结束日期不能早于开始日期。" in response.content.decode()
    assert Run.objects.count() == 0


# --- Match index rebuilds ------------------------------------------------------------------


def test_an_administrator_rebuilds_the_match_index_with_progress(
    match_index: Any, tea_company: Any, settings: Any
) -> None:
    make_worker("w1", "510104", "13900000001")
    make_demand(make_enterprise("青川茶厂", "510822", "MA6100002"), title="茶叶烘干")
    root = make_superuser()
    client = client_for(root)
    page = client.get("/matching/index/")
    assert page.status_code == 200 and "重建索引" in page.content.decode()
    run = followed(client, client.post("/matching/index/"))
    assert (run.kind, run.status) == ("matching.index_rebuild", "done")
    assert run.total == run.done >= 2
    assert "科技工作者 1 个" in run.message and "需求 1 个" in run.message
    run = taken_over(run, settings)
    assert run.status == "done" and "科技工作者 1 个" in run.message
