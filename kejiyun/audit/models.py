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
    # Security and privacy (docs/security.md; issue 15).
    LOGIN_LOCKED = "account.login_locked", "登录被锁定拒绝"
    PASSWORD_CHANGE = "account.password_change", "修改密码"
    PASSWORD_RESET = "account.password_reset", "找回（重置）密码"
    OTP_ENROL = "account.otp_enrol", "启用动态口令"
    OTP_FAILED = "account.otp_failed", "动态口令错误"
    OTP_RESET = "account.otp_reset", "重置他人动态口令"
    RECOVERY_CODES = "account.recovery_codes", "生成恢复码"
    RECOVERY_USED = "account.recovery_used", "使用恢复码登录"
    ACCOUNT_DISABLE = "account.disable", "停用账号"
    ACCOUNT_CANCEL = "account.cancel", "注销账号"
    DATA_EXPORT = "account.data_export", "导出本人数据"
    DATA_CORRECT = "account.data_correct", "更正本人数据"
    ACCESS_REFUSED = "access.refused", "越权访问被拒绝"
    RATE_LIMITED = "access.rate_limited", "超出访问频率限制"
    UNMASK = "personal.unmask", "查看完整个人信息"
    DUPLICATE_TICKET = "personal.duplicate_ticket", "重复登记转上级核查"
    CASE_TRANSITION = "case.transition", "案例流转"
    CASE_OUTCOME = "case.outcome", "登记案例成果"
    EXPORT_REQUEST = "export.request", "申请批量导出个人信息"
    EXPORT_APPROVE = "export.approve", "批准批量导出个人信息"
    EXPORT_REFUSE = "export.refuse", "驳回批量导出个人信息"
    AUDIT_VIEW = "audit.view", "查看审计日志"
    AUDIT_EXPORT = "audit.export", "导出审计日志"
    AUDIT_PURGE = "audit.purge", "清理超期审计日志"


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


class AuditSeal(models.Model):
    """The head of the chain, kept beside it: the id and hash of the newest row, written in
    the same transaction as each row. The hash chain alone cannot show that its newest rows
    were deleted, or that a well-formed row was appended by hand (sha256 is not keyed);
    `audit_verify` compares the newest row with this seal and reports either. One row, pk 1."""

    last_id = models.BigIntegerField("最新一条编号", default=0)
    last_hash = models.CharField("最新一条哈希", max_length=64, blank=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"{self.last_id} {self.last_hash[:12]}"
