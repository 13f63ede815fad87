"""Demo operations data, through the ops services: the rollups brought up to date, work
reports (工作汇报) for the last half-year and one published bulletin (通报), so the pages a
centre uses each half-year have something on them the first time `make run` opens them.

- 锦江区 files its report and 成都市 accepts it; 双流区 files its report, waiting for review;
  成都市 files its own, waiting for the province;
- 成都市 drafts a bulletin on its counties for that half-year, the province approves it, and
  it is published to 成都市's counties (锦江区 and 双流区 staff find it in their inbox).

Idempotent: a second run creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.demo.seed import STAFF_ACCOUNTS, DemoError
from kejiyun.ops.bulletins.services import bulletin_approve, bulletin_create, bulletin_submit
from kejiyun.ops.models import Bulletin, WorkReport
from kejiyun.ops.periods import Period, PeriodKind
from kejiyun.ops.reports.services import Sections, report_accept, report_create, report_update
from kejiyun.ops.rollups import rollup_refresh

BULLETIN_INDICATORS = (
    "cases_opened",
    "closed_on_time_share",
    "solved_with_evidence",
    "satisfaction_mean",
    "workers_registered",
)

REPORTS: dict[str, Sections] = {
    "demo_staff_jinjiang": Sections(
        achievements="走访辖区企业四十余家，帮助企业梳理技术需求并发布；对接高校院所专家开展一单一策服务，"
        "多项需求已签订技术合同。",
        difficulties="部分企业需求描述过于笼统，专家难以判断能否承接；基层服务人员少，案例多时响应偏慢。",
        plans="下半年开展需求撰写辅导两次，建立专家联络员制度，力争首次响应时间缩短到一个工作日内。",
    ),
    "demo_staff_shuangliu": Sections(
        achievements="围绕航空与电子信息产业收集企业需求，组织专家进园区服务，科技工作者注册人数稳步增长。",
        difficulties="农业领域专家资源不足，部分乡镇需求找不到合适专家；企业对满意度评价参与不积极。",
        plans="下半年联合农业高校开展专家下乡活动，结案时当面引导企业完成评价。",
    ),
    "demo_staff_chengdu": Sections(
        achievements="统筹全市区（市）县服务中心开展一单一策服务，按月通报各区县办理进度，超时案例明显减少。",
        difficulties="区县之间工作进度不平衡，个别区县人员变动较大；跨区县专家调度机制还不完善。",
        plans="下半年建立全市专家共享库，对落后区县开展点对点督导，推动按时结案率整体提升。",
    ),
}


@dataclass(frozen=True)
class DemoOperations:
    rollup_rows: int
    reports: int
    bulletins: int


def demo_operations_seed(*, now: datetime | None = None) -> DemoOperations:
    """Bring the rollups up to date, then file the demo's reports and publish its bulletin
    for the half-year before the current one."""
    now = now or timezone.now()
    staff = {u.username: u for u in User.objects.filter(username__in=dict(STAFF_ACCOUNTS))}
    if len(staff) != len(STAFF_ACCOUNTS):
        raise DemoError("the demo staff accounts are missing; run demo_seed first")
    rows = rollup_refresh(now=now).rows
    half = Period.containing(PeriodKind.HALF, timezone.localdate(now)).previous()
    year, number = half.start.year, 1 if half.start.month == 1 else 2
    reports = 0
    for username, sections in REPORTS.items():
        filer = staff[username]
        if WorkReport.objects.filter(centre_id=filer.centre_id, year=year, half=number).exists():
            continue
        report = report_create(actor=filer, year=year, half=number, now=now)
        report_update(
            report=report, actor=filer, version=report.version, sections=sections, submit=True
        )
        if username == "demo_staff_jinjiang":
            report_accept(report=report, actor=staff["demo_staff_chengdu"], version=report.version)
        reports += 1
    bulletins = 0
    author = staff["demo_staff_chengdu"]
    if not Bulletin.objects.filter(centre_id=author.centre_id, period=half.token).exists():
        bulletin = bulletin_create(
            author=author,
            period=half.token,
            indicators=BULLETIN_INDICATORS,
            commentary="全市一单一策服务总体平稳，锦江区按时结案率较高；请各区（市）县对照落后指标，"
            "认真分析原因，下半年重点提升首次响应速度和企业评价率。",
        )
        bulletin_submit(actor=author, bulletin=bulletin, now=now)
        bulletin_approve(actor=staff["demo_staff_province"], bulletin=bulletin, now=now)
        bulletins = 1
    return DemoOperations(rollup_rows=rows, reports=reports, bulletins=bulletins)
