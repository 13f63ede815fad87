"""Exports of staff lists: one registry entry per list, all with the same shape
(docs/requirements/style.md rule 19). Each entry names the staff selector that scopes the
list page, so an export holds exactly the rows its page would show. Personal data leaves only
masked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.accounts.selectors import organisations_for_staff
from kejiyun.cases.workflow.selectors import cases_for_staff
from kejiyun.common.masking import mask_mobile, mask_personal_text
from kejiyun.demands.selectors import demands_for_staff
from kejiyun.talent.selectors import talent_for_staff

MAX_EXPORT_ROWS = 100_000


def masked_text(value: str) -> str:
    """Free text with mobile and identity numbers in it masked: the one masking function of
    the platform (`kejiyun.common.masking.mask_personal_text`), e-mail addresses kept."""
    return mask_personal_text(value, emails=False)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _region(region: Any) -> str:
    parent = region.parent.name if region.parent_id else ""
    return f"{parent} {region.name}".strip()


@dataclass(frozen=True)
class ExportColumn:
    """One column: its header and how to read it from a row. Text is scanned for mobile and
    identity numbers unless `scrub` is off (codes such as the 统一社会信用代码 are exact)."""

    header: str
    value: Callable[[Any], object]
    scrub: bool = True


@dataclass(frozen=True)
class ExportList:
    """One staff list that can be exported: its title, its staff selector and its columns."""

    name: str
    title: str
    selector: Callable[..., QuerySet]
    columns: tuple[ExportColumn, ...]
    # Holds personal data (names, masked mobiles and ID numbers): above
    # settings.BULK_EXPORT_APPROVAL_ROWS rows it needs a second person's approval.
    personal: bool = False

    def queryset(self, *, user: User) -> QuerySet:
        return self.selector(user=user).order_by("region_id", "pk")

    def row(self, item: Any) -> list[object]:
        values: list[object] = []
        for column in self.columns:
            value = column.value(item)
            if isinstance(value, str) and column.scrub:
                value = masked_text(value)
            elif isinstance(value, Decimal):
                value = float(value)
            values.append(value)
        return values


DEMANDS = ExportList(
    name="demands",
    title="辖区技术需求",
    selector=demands_for_staff,
    columns=(
        ExportColumn("编号", lambda d: d.pk),
        ExportColumn("需求名称", lambda d: d.title),
        ExportColumn("需求单位", lambda d: d.organisation.name),
        ExportColumn("统一社会信用代码", lambda d: d.organisation.uscc or "", scrub=False),
        ExportColumn("所在区县", lambda d: _region(d.region)),
        ExportColumn("类别", lambda d: d.get_category_display()),
        ExportColumn("所属行业", lambda d: d.industry),
        ExportColumn("需求描述", lambda d: d.description),
        ExportColumn("预算范围", lambda d: d.get_budget_display()),
        ExportColumn("期望完成时间", lambda d: _day(d.deadline)),
        ExportColumn("公开方式", lambda d: d.get_confidentiality_display()),
        ExportColumn("状态", lambda d: d.get_status_display()),
        ExportColumn("来源", lambda d: d.get_source_display()),
        ExportColumn("提交时间", lambda d: _local(d.submitted_at)),
        ExportColumn("创建时间", lambda d: _local(d.created_at)),
    ),
)

WORKERS = ExportList(
    name="workers",
    title="辖区科技工作者",
    selector=talent_for_staff,
    personal=True,
    columns=(
        ExportColumn("编号", lambda p: p.pk),
        ExportColumn("姓名", lambda p: p.user.display_name),
        ExportColumn("手机号", lambda p: mask_mobile(p.user.mobile or "")),
        ExportColumn("身份证号", lambda p: p.id_number_masked()),
        ExportColumn("所在区县", lambda p: _region(p.region)),
        ExportColumn("工作单位", lambda p: p.employer),
        ExportColumn("职称", lambda p: p.title),
        ExportColumn("专业领域", lambda p: p.fields),
        ExportColumn("关键词", lambda p: p.keywords),
        ExportColumn("能力描述", lambda p: p.capability),
        ExportColumn("已核验", lambda p: "是" if p.verified else "否"),
        ExportColumn("登记时间", lambda p: _local(p.created_at)),
    ),
)

ORGANISATIONS = ExportList(
    name="organisations",
    title="辖区企业与机构",
    selector=organisations_for_staff,
    columns=(
        ExportColumn("编号", lambda o: o.pk),
        ExportColumn("名称", lambda o: o.name),
        ExportColumn("类型", lambda o: o.get_kind_display()),
        ExportColumn("统一社会信用代码", lambda o: o.uscc or "", scrub=False),
        ExportColumn("所在区县", lambda o: _region(o.region)),
        ExportColumn("所属行业", lambda o: o.industry),
        ExportColumn("需求数", lambda o: o.demand_count),
        ExportColumn("登记时间", lambda o: _local(o.created_at)),
    ),
)

CASES = ExportList(
    name="cases",
    title="辖区服务案例",
    selector=cases_for_staff,
    columns=(
        ExportColumn("案例编号", lambda c: c.pk),
        ExportColumn("需求名称", lambda c: c.demand.title),
        ExportColumn("需求单位", lambda c: c.demand.organisation.name),
        ExportColumn("所在区县", lambda c: _region(c.region)),
        ExportColumn("承办中心", lambda c: c.centre.name),
        ExportColumn("科服保姆", lambda c: str(c.owner) if c.owner_id else ""),
        ExportColumn("当前环节", lambda c: c.get_step_display()),
        ExportColumn("本环节时限", lambda c: _local(c.due_at)),
        ExportColumn("升级次数", lambda c: c.escalations),
        ExportColumn("办理结果", lambda c: c.get_outcome_display()),
        ExportColumn("合同编号", lambda c: c.contract_number),
        ExportColumn("合同金额（万元）", lambda c: c.contract_amount),
        ExportColumn("满意度评分", lambda c: c.rating),
        ExportColumn("立案时间", lambda c: _local(c.opened_at)),
        ExportColumn("结案时间", lambda c: _local(c.closed_at)),
    ),
)

EXPORT_LISTS: dict[str, ExportList] = {
    entry.name: entry for entry in (DEMANDS, WORKERS, ORGANISATIONS, CASES)
}


def get_export_list(name: str) -> ExportList:
    try:
        return EXPORT_LISTS[name]
    except KeyError:
        raise Http404("没有这个导出列表") from None
