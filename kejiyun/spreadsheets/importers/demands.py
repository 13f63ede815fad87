"""Importer for demands collected on paper (线下收集的技术需求).

Natural key: (the organisation's 统一社会信用代码, 需求名称). The organisation is found by
its code, or created as an enterprise in the row's county.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from kejiyun.accounts.models import Organisation, User
from kejiyun.accounts.validators import normalise_uscc, uscc_check_character, validate_uscc
from kejiyun.demands.models import Demand
from kejiyun.demands.services import (
    DemandInput,
    demand_create,
    demand_flags_refresh,
    demand_transition,
)
from kejiyun.regions.models import Region
from kejiyun.spreadsheets.importers.base import RowOutcome, RowReader
from kejiyun.spreadsheets.selectors import counties_for_import
from kejiyun.spreadsheets.workbooks import Column, SheetRow

# A valid example: 91 (an enterprise), the county, a serial, and the check character the
# importer verifies.
EXAMPLE_USCC = "91510104MA6000001" + uscc_check_character("91510104MA6000001")

ORG_NAME = Column(
    "企业名称",
    required=True,
    note="营业执照上的企业全称。",
    example="成都锦江电子有限公司",
    width=28,
)
USCC = Column(
    "统一社会信用代码",
    required=True,
    note="营业执照上的18位代码；已登记的企业按此代码匹配，未登记的会新建。",
    example=EXAMPLE_USCC,
    width=22,
    text=True,
)
COUNTY = Column(
    "所在区县代码",
    required=True,
    note="企业所在区县的6位行政区划代码，必须在您所在服务中心的辖区内。",
    example="510104",
    width=14,
    text=True,
)
TITLE = Column(
    "需求名称",
    required=True,
    note="一句话概括需求，120字以内。同一企业的同名需求只登记一次。",
    example="电路板焊点缺陷自动检测",
    width=28,
)
DESCRIPTION = Column(
    "需求描述", required=True, note="需求的具体内容。", example="产线人工目检效率低……", width=40
)
CATEGORY = Column(
    "类别",
    required=True,
    note="从下拉列表中选择。",
    choices=tuple(label for _, label in Demand.Category.choices),
    example=Demand.Category.PROBLEM.label,
)
INDUSTRY = Column("所属行业", note="64字以内。", example="电子信息")
PROBLEM = Column(
    "要解决的问题",
    note="具体要解决的技术问题。",
    example="贴片后焊点虚焊、漏焊靠人工目检，夜班漏检明显增多",
    width=30,
)
CURRENT_STATE = Column(
    "目前现状",
    note="目前的做法和已有的基础。",
    example="两条产线各配4名质检员目检，漏检率约2%",
    width=30,
)
TARGETS = Column(
    "目标指标",
    note="希望达到的可检验指标。",
    example="漏检率低于0.5%，单板检测不超过3秒",
    width=30,
)
BUDGET = Column(
    "预算范围",
    note="从下拉列表中选择；不填为“待商定”。",
    choices=tuple(label for _, label in Demand.Budget.choices),
    example=Demand.Budget.FROM_50K.label,
)
DEADLINE = Column("期望完成时间", note="日期，格式 YYYY-MM-DD。", example="2027-06-30", width=14)
CONFIDENTIALITY = Column(
    "公开方式",
    note="从下拉列表中选择；不填为“公开”。",
    choices=tuple(label for _, label in Demand.Confidentiality.choices),
    example=Demand.Confidentiality.PUBLIC.label,
)

COLUMNS = (
    ORG_NAME,
    USCC,
    COUNTY,
    TITLE,
    DESCRIPTION,
    CATEGORY,
    INDUSTRY,
    PROBLEM,
    CURRENT_STATE,
    TARGETS,
    BUDGET,
    DEADLINE,
    CONFIDENTIALITY,
)


@dataclass(frozen=True)
class DemandRecord:
    organisation_name: str
    uscc: str
    county: Region
    title: str
    description: str
    category: str
    industry: str
    problem: str
    current_state: str
    target_indicators: str
    budget: str
    deadline: date | None
    confidentiality: str


def _labels(choices: list[tuple[str, str]]) -> dict[str, str]:
    return {label: value for value, label in choices}


class DemandImporter:
    kind: str = "demands"
    title: str = "技术需求"
    sheet_title: str = "需求"
    object_type: str = "demand"
    columns: tuple[Column, ...] = COLUMNS

    def check(self, rows: Sequence[SheetRow], *, user: User) -> list[RowOutcome]:
        counties = counties_for_import(user=user)
        codes = {normalise_uscc(row.get(USCC.header)) for row in rows}
        organisations = {
            org.uscc: org for org in Organisation.objects.filter(uscc__in=codes - {""})
        }
        existing = set(
            Demand.objects.filter(organisation__uscc__in=codes - {""}).values_list(
                "organisation__uscc", "title"
            )
        )
        seen_keys: dict[tuple[str, str], int] = {}
        new_org_county: dict[str, tuple[str, int]] = {}
        outcomes = []
        for row in rows:
            reader = RowReader(row)
            name = reader.text(ORG_NAME, max_length=120)
            uscc = normalise_uscc(row.get(USCC.header))
            uscc_ok = reader.validated(USCC, value=uscc, validator=validate_uscc)
            code = row.get(COUNTY.header)
            county = None
            if not code:
                reader.error(COUNTY.header, "必填，不能为空")
            elif (problem := counties.problem(code)) is not None:
                reader.error(COUNTY.header, problem)
            else:
                county = counties.allowed[code]
            title = reader.text(TITLE, max_length=120)
            description = reader.text(DESCRIPTION)
            category = reader.choice(CATEGORY, labels=_labels(Demand.Category.choices), default="")
            industry = reader.text(INDUSTRY, max_length=64)
            budget = reader.choice(
                BUDGET, labels=_labels(Demand.Budget.choices), default=Demand.Budget.UNKNOWN
            )
            deadline = reader.date(DEADLINE)
            confidentiality = reader.choice(
                CONFIDENTIALITY,
                labels=_labels(Demand.Confidentiality.choices),
                default=Demand.Confidentiality.PUBLIC,
            )
            if uscc_ok and county is not None:
                organisation = organisations.get(uscc)
                if organisation is not None and organisation.region_id != county.code:
                    reader.error(COUNTY.header, "与该企业已登记的所在区县不一致")
                elif organisation is None:
                    first = new_org_county.setdefault(uscc, (county.code, row.number))
                    if first[0] != county.code:
                        reader.error(COUNTY.header, f"与第{first[1]}行同一企业的所在区县不一致")
            if uscc_ok and title:
                key = (uscc, title)
                if key in seen_keys:
                    reader.error(TITLE.header, f"与第{seen_keys[key]}行重复（同一企业的同名需求）")
                else:
                    seen_keys[key] = row.number
                reader.outcome.exists = key in existing
            if not reader.outcome.issues and county is not None:
                reader.outcome.record = DemandRecord(
                    organisation_name=name,
                    uscc=uscc,
                    county=county,
                    title=title,
                    description=description,
                    category=category,
                    industry=industry,
                    problem=row.get(PROBLEM.header),
                    current_state=row.get(CURRENT_STATE.header),
                    target_indicators=row.get(TARGETS.header),
                    budget=budget,
                    deadline=deadline,
                    confidentiality=confidentiality,
                )
            outcomes.append(reader.outcome)
        return outcomes

    def create(self, record: object, *, actor: User) -> None:
        assert isinstance(record, DemandRecord)
        organisation = Organisation.objects.filter(uscc=record.uscc).first()
        if organisation is None:
            organisation = Organisation(
                kind=Organisation.Kind.ENTERPRISE,
                name=record.organisation_name,
                uscc=record.uscc,
                region=record.county,
            )
            organisation.full_clean()
            organisation.save()
        # Through the demands' own services: a draft, moved to 待审核 with a timeline event,
        # then flagged by the same duplicate and boilerplate checks as an online submission.
        demand = demand_create(
            organisation=organisation,
            actor=actor,
            data=DemandInput(
                title=record.title,
                description=record.description,
                category=record.category,
                industry=record.industry,
                region=record.county,
                problem=record.problem,
                current_state=record.current_state,
                target_indicators=record.target_indicators,
                budget=record.budget,
                deadline=record.deadline,
                confidentiality=record.confidentiality,
            ),
        )
        demand_transition(
            demand=demand,
            to_status=Demand.Status.SUBMITTED,
            actor=actor,
            reason="线下收集，由服务中心工作人员通过 Excel 导入",
            changes={"source": Demand.Source.PAPER, "submitted_at": timezone.now()},
        )
        demand_flags_refresh(demand=demand)
