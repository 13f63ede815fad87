"""One run of long work (an import, an export, a bulletin file, an index or rollup rebuild, a
campaign send): who asked for it, where it stands, how far it got and what came of it.

The status moves queued → running → done or failed; a failed run goes back to queued only by
its owner's retry, and a running run whose worker died is claimed again (running → running,
one more attempt) once its heartbeat is stale. `kejiyun/background/services.py` is the only
code that moves a status, always with a conditional UPDATE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kejiyun.common.files import private_storage


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Run(models.Model):
    """One run of long work, started by `owner`; `idempotency_key` makes the same request
    twice one run."""

    Status = RunStatus

    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("名称"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    params = models.JSONField(_("参数"), default=dict, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    done = models.PositiveIntegerField(_("已完成"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    message = models.CharField(_("进度说明"), max_length=300, blank=True)
    # Where the user goes back to (the page the work was started from).
    back_url = models.CharField(_("返回地址"), max_length=300, blank=True)
    # The result: a link (a report page), a private file, or both.
    result_url = models.CharField(_("结果链接"), max_length=300, blank=True)
    result_label = models.CharField(_("结果链接文字"), max_length=60, blank=True)
    result_file = models.FileField(
        _("结果文件"), storage=private_storage, upload_to="background/", blank=True
    )
    result_name = models.CharField(_("结果文件名"), max_length=200, blank=True)
    result_type = models.CharField(_("结果文件类型"), max_length=100, blank=True)
    # A file that may be downloaded once (an approved bulk export of personal data).
    result_once = models.BooleanField(_("限下载一次"), default=False)
    result_taken_at = models.DateTimeField(_("结果下载时间"), null=True, blank=True)
    error = models.TextField(_("错误详情"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="background_run_status_hb"),
            models.Index(fields=["owner", "-created_at"], name="background_run_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="background_run_known_status"
            ),
            models.CheckConstraint(
                condition=Q(done__lte=F("total")), name="background_run_done_within_total"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
                | Q(finished_at__isnull=False),
                name="background_run_finished_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)

    @property
    def percent(self) -> int:
        """0-100: done over total; a finished run is 100, a run without a total 0."""
        if self.status == RunStatus.DONE:
            return 100
        if self.total <= 0:
            return 0
        return min(100, (100 * self.done) // self.total)

    @property
    def has_file(self) -> bool:
        return bool(self.result_file) and self.result_taken_at is None
