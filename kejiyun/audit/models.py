"""Append-only audit log (docs/requirements/security.md items 11, 12, 14).

Each row carries the hash of the row before it, so an edited or deleted row breaks the chain
(`audit_verify`). On PostgreSQL a trigger refuses UPDATE and DELETE outright. `detail` never
holds personal data: no phone numbers, names, ID numbers or typed login names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    """Every action the audit log records, named `<subject>.<verb>`. Which writes are audited
    is a rule (CONTRIBUTING.md, "Audit log or event table"); a new one adds its name here."""

    LOGIN = "account.login", "登录"
    LOGIN_FAILED = "account.login_failed", "登录失败"
    LOGOUT = "account.logout", "退出"
    TALENT_VERIFY = "talent.verify", "核验科技工作者"
    DEMAND_ACCEPT = "demand.accept", "受理需求"
    CASE_ASSIGN = "case.assign", "指派案例"
    DOCKING_APPROVE = "docking.approve", "安排对接（批准申请或企业提议）"
    DOCKING_REFUSE = "docking.refuse", "不予安排对接"
    CASE_FILE_DOWNLOAD = "case.file_download", "下载案例文件"
    CONTENT_APPROVE = "content.approve", "审核通过科普内容"
    CONTENT_RETURN = "content.return", "退回科普内容"
    CONSENT_GRANT = "consent.grant", "同意定向推送"
    CONSENT_WITHDRAW = "consent.withdraw", "撤回定向推送同意"
    CAMPAIGN_SEND = "campaign.send", "发送科普推送"
    SHEETS_IMPORT = "sheets.import", "导入表格"
    SHEETS_EXPORT = "sheets.export", "导出表格"
    FLAG_CONFIRM = "flag.confirm", "确认刷量标记"
    FLAG_CLEAR = "flag.clear", "排除刷量标记"
    SCHEME_PUBLISH = "scheme.publish", "发布考核方案"
    ALLOCATION_CREATE = "allocation.create", "编制资金分配"
    ALLOCATION_EDIT = "allocation.edit", "修改资金分配"
    ALLOCATION_SUBMIT = "allocation.submit", "提交资金分配审批"
    ALLOCATION_RETURN = "allocation.return", "退回资金分配"
    ALLOCATION_APPROVE = "allocation.approve", "批准资金分配"
    ALLOCATION_EXPORT = "allocation.export", "导出资金分配"
    BULLETIN_PUBLISH = "bulletin.publish", "批准发布通报"
    BULLETIN_RETURN = "bulletin.return", "退回通报"
    BULLETIN_EXPORT = "bulletin.export", "下载通报"
    RECOGNITION_BATCH = "recognition.batch", "管理申报批次"
    RECOGNITION_MOVE = "recognition.move", "申报流转"
    RECOGNITION_ASSIGN = "recognition.assign", "分配评审专家"
    RECOGNITION_SCORE = "recognition.score", "提交评审评分"
    RECOGNITION_OBJECTION = "recognition.objection", "答复公示异议"
    RECOGNITION_POOL = "recognition.pool", "管理评审专家库"
    RECOGNITION_FILE_DOWNLOAD = "recognition.file_download", "下载申报附件"
    RECOGNITION_PUBLISH = "recognition.publish", "发布认定结果"
    LIBRARY_CONSENT = "library.consent", "案例入库展示授权"
    EVENT_MANAGE = "event.manage", "管理对接活动"
    EVENT_CHECKIN = "event.checkin", "活动签到"
    EVENT_AGREEMENT = "event.agreement", "登记现场签约"


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "成功"
        REFUSED = "refused", "拒绝"

    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    # No database constraint and nothing done on delete: an audit row is never rewritten
    # (its hash covers the user id, and PostgreSQL refuses UPDATE), so deleting a user
    # leaves the id of whoever acted in place.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    action = models.CharField("操作", max_length=40, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=40, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.OK)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("上一条哈希", max_length=64, blank=True)
    hash = models.CharField("哈希", max_length=64, unique=True)

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"
