"""A synthetic province's year of activity with planted gaming, for `make bench-integrity`.

Everything is plain rows (`kejiyun.integrity.rows`), in memory, seeded: the same scale and seed
give the same snapshot and the same ground truth. No database. Import after `django.setup()`
(the rows name the integrity models' choices).

The generator was written before the detectors were tuned and its planted rates and strengths
are fixed (see docs/benchmarks.md, "bench-integrity", for what it assumes and what it does not
model). The constants below are the whole of it.

Shape (scale 1): Sichuan's 183 real county-level units from kejiyun/regions/data/regions.csv,
one service centre each (ids 1..183 in code order) in 21 cities; about 25,000 demands, 50,000
accounts, 300,000 reading sessions and 8,000 cases of normal activity over one year (Beijing
time 2025-12-01 to 2026-12-01), and on top of it planted gaming in 15% of the centres. Text is
drawn from the CSL abstracts, titles and keywords in bench/data (Apache-2.0, see
bench/data/SOURCE.md): an industry is a cluster of papers by shared character bigrams, so firms
of one industry share vocabulary.

Each detector kind points at one subject type (`KIND_SUBJECT`): template demands flag demands;
scripted reading and quota accounts flag accounts; self-dealing, hollow closures and rating
rings flag cases.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import DATA, ROOT
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import (
    AccountRow,
    CaseRow,
    DemandRow,
    ExpertRow,
    FootprintRow,
    OrganisationRow,
    ReadRow,
    Snapshot,
)

SEED = 20261207
BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 12, 1, tzinfo=BEIJING)
END = datetime(2026, 12, 1, tzinfo=BEIJING)

KIND_SUBJECT: dict[Kind, Subject] = {
    Kind.DUPLICATE_DEMAND: Subject.DEMAND,
    Kind.SCRIPTED_READING: Subject.ACCOUNT,
    Kind.QUOTA_ACCOUNT: Subject.ACCOUNT,
    Kind.SELF_DEALING: Subject.CASE,
    Kind.HOLLOW_CLOSURE: Subject.CASE,
    Kind.RATING_RING: Subject.CASE,
}

# --- Normal activity at scale 1 ---------------------------------------------------------------
NORMAL = {
    "demands": 25_000,
    "workers": 14_000,
    "enterprises": 9_000,  # one enterprise user each
    "citizens": 26_000,
    "reads": 300_000,
    "cases": 8_000,
    "articles": 600,
    "universities": 60,
}
STAFF_PER_CENTRE = 3
EXPERT_SHARE = 0.45  # of workers, verified experts who can serve cases
CENTRE_SIZE_SIGMA = 0.6  # lognormal spread of the centres' activity
CHENGDU_FACTOR = 2.0  # 成都市's districts are this much busier
DORMANT_SHARE = 0.35  # normal accounts with no activity after registering
READER_SHARE = 0.7  # citizens who read at all
READ_FINISH_SHARE = 0.62
READ_SPEED_MEDIAN = 500.0  # characters per minute, lognormal sigma 0.35
CASE_CLOSED_SHARE = 0.85
CASE_DAYS_MEDIAN = 25.0  # lognormal sigma 0.6, at least 2 days
SOLVED_SHARE = 0.78
RATED_SHARE = 0.70

# --- Normal look-alikes (counted as normal records), at scale 1 -------------------------------
LOOKALIKE = {
    "campus_bursts": 25,  # 25-50 students register from one campus network within 90 min
    "training_sessions": 30,  # 10-25 workers register at a centre's training room
    "class_readings": 40,  # 30-50 students read one article within 15 min (once)
    "skimmer_share": 0.01,  # citizens who read some articles at 1,500-4,000 chars/min
    "family_device_share": 0.05,  # citizens sharing a device with 1-2 relatives
    "quick_fix_share": 0.03,  # closed cases closed in 2-20 hours, specific text, own evidence
    "repeat_business_share": 0.08,  # cases where the enterprise's previous expert serves again
    "framework_contract_share": 0.2,  # of repeat-business cases: the same framework contract no.
    "same_district_expert_share": 0.05,  # expert's university in the enterprise's county and road
    "popular_experts": 20,  # experts with 40-80 cases, honest mostly-5 ratings
    "rated_at_centre_share": 0.015,  # ratings given from the centre's office network
    "follow_up_demand_share": 0.03,  # a firm's follow-up demand on its earlier topic
    "boilerplate_heavy_share": 0.05,  # genuine demands with several stock phrases
}

# --- Planted gaming -----------------------------------------------------------------------------
INDUSTRIES = 48  # clusters of the CSL text
GAMED_SHARE = 0.15  # of centres
KIND_ACTIVE_P = 0.6  # each kind in a gamed centre; at least two kinds each
WEAK_SHARE = 0.3  # of planted instances, the subtler variant
# Per active kind in a gamed centre (ranges inclusive; "x normal" are shares of the centre's
# normal volume of that record, at least the minimum):
DUP_FAMILIES = (0.04, 1)  # families = max(1, round(0.04 x normal demands)), 3-8 demands each
DUP_FAMILY_SIZE = (3, 8)
DUP_SPREAD_MONTHS = (2, 9)
BOT_FARMS = (1, 2)
BOT_FARM_SIZE = (8, 30)
BOT_RUNS = (15, 60)  # lockstep reading runs per farm
QUOTA_BURSTS = (1, 3)
QUOTA_BURST_SIZE = (12, 40)
SELF_DEALING_CASES = (0.10, 2)
HOLLOW_CASES = (0.20, 3)
RING_ENTERPRISES = (3, 6)
RING_EXPERTS = (1, 3)
RING_CASES_PER_ENTERPRISE = (2, 4)

BOILERPLATE_CLOSINGS = (
    "问题已解决，企业满意。",
    "经服务，企业问题已解决，效果良好。",
    "已完成对接，问题得到解决，企业表示满意。",
    "服务完成，企业满意，予以结案。",
    "专家已提供解决方案，问题解决，结案。",
)
STOCK_PHRASES = (
    "提升企业核心竞争力",
    "实现经济效益和社会效益双丰收",
    "助力乡村振兴",
    "解决企业技术难题",
    "具有广阔的市场前景",
    "欢迎有意向的专家团队联系",
    "推动企业可持续发展",
    "突破关键核心技术",
)
SUBSTITUTIONS = (
    ("提高", "提升"),
    ("问题", "难题"),
    ("我公司", "我司"),
    ("希望", "期望"),
    ("专家", "专家团队"),
    ("技术", "工艺"),
    ("目前", "现阶段"),
    ("降低", "减少"),
    ("研究", "探索"),
    ("方法", "手段"),
    ("需要", "急需"),
    ("合作", "对接"),
    ("产品", "产出"),
    ("成本", "费用"),
    ("效率", "效能"),
    ("质量", "品质"),
)
BRAND = "鑫华瑞泰川蜀天府锦宏达盛丰源创新科金绿康恒远博通信德美嘉润安和兴隆旺福誉卓"
INDUSTRY_WORDS = tuple(
    (
        "食品 农业科技 机械制造 电子科技 生物科技 新材料 化工 建材 中药材 茶业 酿造 "
        "环保科技 能源 医疗器械 纺织 畜牧 水产养殖 果业 信息技术 智能装备 汽车配件 "
        "冶金 包装 物流 建筑工程 检测技术 光电 精细化工 饲料 种业 林业 矿业 水务 "
        "软件 仪器仪表 陶瓷 家具 印刷 制药 农机 电力设备 航空零部件 竹业 菌业 肥业 "
        "蚕桑 油脂 花卉"
    ).split()
)
ROADS = tuple(
    (
        "人民路 建设路 滨江路 解放路 中山路 新华路 胜利路 文化路 工业大道 科技路 "
        "创业路 学府路 金沙路 锦江大道 天府大道 光明路 振兴路 和平路 迎宾大道 发展大道 "
        "望江路 西华大道 南河路 北环路"
    ).split()
)
PARKS = ("经济开发区", "高新技术产业园", "工业园区", "农业科技园", "现代物流园")
TITLES = tuple(
    (
        "教授 副教授 研究员 副研究员 高级工程师 工程师 农艺师 高级农艺师 讲师 助理研究员 "
        "博士研究生 技术员 畜牧师 兽医师"
    ).split()
)
QUOTA_PROFILES = (
    "{emp}，{title}，研究领域：农业技术推广。热爱科技服务，愿意为乡村振兴贡献力量。",
    "{emp}，{title}，专业方向：科技服务。积极参与科技志愿服务，服务基层群众。",
)
NEED_PHRASES = (
    "希望有相关经验的专家提供技术指导。",
    "寻求高校或科研院所合作攻关。",
    "希望专家到现场诊断并给出改进方案。",
    "需要一套可落地的工艺优化方案。",
    "愿意提供试验场地和经费支持。",
    "希望三个月内完成小试。",
    "可签订技术服务合同，费用面议。",
    "拟开展联合研发，共同申报项目。",
)


def keyed(*parts: object) -> str:
    """A stand-in for a keyed hash (kejiyun.common.crypto.lookup_hash): 16 hex digits."""
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def sha256(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


# --- Source text --------------------------------------------------------------------------------


@dataclass
class Corpus:
    """CSL text split into industries (clusters of papers with shared character bigrams)."""

    clauses: list[list[str]]  # per industry
    keywords: list[list[str]]
    titles: list[list[str]]


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def cluster(texts: list[str], k: int, seed: int, rounds: int = 8) -> list[int]:
    """Spherical k-means over tf-idf weighted character bigrams: a cluster index per text."""
    import numpy as np
    from scipy import sparse

    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, text in enumerate(texts):
        for g in _bigrams(text):
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    x = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab))
    )
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    idf = np.log(len(texts) / np.maximum(df, 1)).astype(np.float32)
    idf[df < 2] = 0  # a bigram of one text says nothing about its neighbours
    x = sparse.csr_matrix(x.multiply(idf.reshape(1, -1)))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sparse.csr_matrix(sparse.diags(1 / np.maximum(norms, 1e-9)) @ x)
    rs = np.random.default_rng(seed)
    centroids = x[rs.choice(len(texts), size=k, replace=False)].toarray()
    assign = np.zeros(len(texts), dtype=np.int64)
    for _ in range(rounds):
        assign = np.asarray((x @ centroids.T).argmax(axis=1)).ravel()
        for c in range(k):
            members = x[assign == c]
            if members.shape[0] == 0:
                continue
            v = np.asarray(members.sum(axis=0)).ravel()
            centroids[c] = v / max(float(np.linalg.norm(v)), 1e-9)
    return [int(a) for a in assign]


@functools.cache
def load_corpus(industries: int, seed: int) -> Corpus:
    """Cached: callers copy the pools before shuffling them."""
    rng = random.Random(seed)  # noqa: S311 - reproducible simulation, not security
    abstracts = [
        json.loads(line)["text"]
        for line in (DATA / "need2cap" / "corpus.jsonl").open(encoding="utf-8")
        if line.strip()
    ]
    profiles = [
        json.loads(line)["text"]
        for line in (DATA / "problem2profile" / "corpus.jsonl").open(encoding="utf-8")
        if line.strip()
    ]
    assignment = cluster(abstracts + profiles, industries, seed)
    nearest = iter(assignment)

    clauses: list[list[str]] = [[] for _ in range(industries)]
    keywords: list[list[str]] = [[] for _ in range(industries)]
    titles: list[list[str]] = [[] for _ in range(industries)]
    for a in abstracts:
        i = next(nearest)
        for part in re.split(r"[，。；,.;！？]", a):
            part = part.strip()
            if 8 <= len(part) <= 40 and re.search(r"[\u4e00-\u9fff]{4}", part):
                clauses[i].append(part)
    for p in profiles:
        title, _, kws = p.partition("；")
        i = next(nearest)
        titles[i].append(title.strip())
        keywords[i].extend(k.strip() for k in kws.split("，") if 2 <= len(k.strip()) <= 12)
    pools: tuple[list[list[str]], ...] = (clauses, keywords, titles)
    for lst in pools:
        for items in lst:
            if not items:  # an empty cluster borrows the largest one's text
                largest: list[str] = max(lst, key=len)
                items.extend(largest)
            rng.shuffle(items)
    return Corpus(clauses=clauses, keywords=keywords, titles=titles)


class Cycler:
    """Draws from each industry's pool without replacement, reshuffling when it runs out."""

    def __init__(self, pools: list[list[str]], rng: random.Random) -> None:
        self.pools = pools
        self.pos = [0] * len(pools)
        self.rng = rng

    def take(self, industry: int) -> str:
        pool = self.pools[industry]
        if self.pos[industry] >= len(pool):
            self.rng.shuffle(pool)
            self.pos[industry] = 0
        self.pos[industry] += 1
        return pool[self.pos[industry] - 1]


# --- Regions and centres -----------------------------------------------------------------------


@dataclass(frozen=True)
class Centre:
    id: int
    code: str
    name: str
    city_code: str
    city_name: str
    weight: float
    office_network: str


def short_city(name: str) -> str:
    """成都市 -> 成都, 凉山彝族自治州 -> 凉山."""
    return name[:2] if name.endswith("自治州") else name.removesuffix("市")


def load_centres(rng: random.Random) -> list[Centre]:
    import csv

    names: dict[str, str] = {}
    parent: dict[str, str] = {}
    counties: list[str] = []
    with (ROOT / "kejiyun" / "regions" / "data" / "regions.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["code"].startswith("51"):
                continue
            names[row["code"]] = row["name"]
            parent[row["code"]] = row["parent_code"]
            if row["level"] == "county":
                counties.append(row["code"])
    out = []
    for i, code in enumerate(sorted(counties), start=1):
        city = parent[code]
        w = math.exp(rng.gauss(0, CENTRE_SIZE_SIGMA)) * (CHENGDU_FACTOR if city == "510100" else 1)
        out.append(Centre(i, code, names[code], city, names[city], w, "n" + keyed("office", code)))
    return out


# --- The plan: how much of what, decided before any row is made --------------------------------


@dataclass
class CentrePlan:
    kinds: dict[Kind, list[tuple[int, bool]]]  # kind -> [(size, weak)] per planted unit


@dataclass
class Plan:
    scale: float = 1.0
    seed: int = SEED
    centres: list[Centre] = field(default_factory=list)
    gamed: dict[int, CentrePlan] = field(default_factory=dict)
    normal: dict[str, int] = field(default_factory=dict)
    lookalike: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(f"plan:{self.seed}")  # noqa: S311 - reproducible simulation
        self.centres = load_centres(rng)
        self.normal = {k: max(1, round(v * self.scale)) for k, v in NORMAL.items()}
        self.normal["articles"] = max(20, round(NORMAL["articles"] * min(1.0, self.scale * 4)))
        self.normal["universities"] = max(5, self.normal["universities"])
        self.lookalike = {
            k: (v if isinstance(v, float) else max(1, round(v * self.scale)))
            for k, v in LOOKALIKE.items()
        }
        total_w = sum(c.weight for c in self.centres)
        n_gamed = max(2, round(GAMED_SHARE * len(self.centres)))
        for c in sorted(rng.sample(self.centres, n_gamed), key=lambda c: c.id):
            share = c.weight / total_w
            kinds = [k for k in KIND_SUBJECT if rng.random() < KIND_ACTIVE_P]
            while len(kinds) < 2:
                extra = rng.choice([k for k in KIND_SUBJECT if k not in kinds])
                kinds.append(extra)
            units: dict[Kind, list[tuple[int, bool]]] = {}
            small = min(1.0, self.scale)  # below scale 1 bursts and farms shrink too, to >= 4

            def sized(bounds: tuple[int, int], small: float = small) -> int:
                return max(4, round(rng.randint(*bounds) * small))

            for kind in KIND_SUBJECT:
                if kind not in kinds:
                    continue

                def weak() -> bool:
                    return rng.random() < WEAK_SHARE

                if kind == Kind.DUPLICATE_DEMAND:
                    n = max(
                        DUP_FAMILIES[1], round(DUP_FAMILIES[0] * share * self.normal["demands"])
                    )
                    units[kind] = [(rng.randint(*DUP_FAMILY_SIZE), weak()) for _ in range(n)]
                elif kind == Kind.SCRIPTED_READING:
                    n = rng.randint(*BOT_FARMS)
                    units[kind] = [(sized(BOT_FARM_SIZE), weak()) for _ in range(n)]
                elif kind == Kind.QUOTA_ACCOUNT:
                    n = rng.randint(*QUOTA_BURSTS)
                    units[kind] = [(sized(QUOTA_BURST_SIZE), weak()) for _ in range(n)]
                elif kind == Kind.SELF_DEALING:
                    n = max(
                        SELF_DEALING_CASES[1],
                        round(SELF_DEALING_CASES[0] * share * self.normal["cases"]),
                    )
                    units[kind] = [(1, weak()) for _ in range(n)]
                elif kind == Kind.HOLLOW_CLOSURE:
                    n = max(HOLLOW_CASES[1], round(HOLLOW_CASES[0] * share * self.normal["cases"]))
                    units[kind] = [(1, weak()) for _ in range(n)]
                else:
                    ents = rng.randint(*RING_ENTERPRISES)
                    units[kind] = [
                        (rng.randint(*RING_CASES_PER_ENTERPRISE), weak()) for _ in range(ents)
                    ]
            self.gamed[c.id] = CentrePlan(units)

    def planted_expected(self) -> dict[str, int]:
        """How many records of each kind the plan plants (the ground truth must match)."""
        out = {k.value: 0 for k in KIND_SUBJECT}
        for cp in self.gamed.values():
            for kind, units in cp.kinds.items():
                out[kind.value] += sum(size for size, _ in units)
        return out


# --- Ground truth --------------------------------------------------------------------------------


@dataclass
class Truth:
    planted: set[tuple[Kind, Subject, int]] = field(default_factory=set)
    weak: set[tuple[Kind, Subject, int]] = field(default_factory=set)
    lookalike: dict[tuple[Subject, int], str] = field(default_factory=dict)
    gamed_centres: dict[int, list[str]] = field(default_factory=dict)

    def plant(self, kind: Kind, subject_id: int, weak: bool) -> None:
        key = (kind, KIND_SUBJECT[kind], subject_id)
        self.planted.add(key)
        if weak:
            self.weak.add(key)

    def planted_subjects(self) -> set[tuple[Subject, int]]:
        return {(s, i) for _, s, i in self.planted}

    def by_kind(self) -> dict[str, int]:
        out = {k.value: 0 for k in KIND_SUBJECT}
        for kind, _, _ in self.planted:
            out[kind.value] += 1
        return out


# --- The generator -------------------------------------------------------------------------------


@dataclass
class Person:
    mobile: str
    ident: str

    @property
    def keys(self) -> frozenset[str]:
        return frozenset({self.mobile, self.ident})


@dataclass
class Ring:
    experts: list[int]
    network: str
    device: str
    days: list[datetime]


@dataclass
class Org:
    id: int
    name: str
    address: str
    industry: int
    centre: Centre
    intro: str
    keys: set[str]
    user_id: int = 0
    network: str = ""
    device: str = ""


class Builder:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = random.Random(f"gen:{plan.seed}")  # noqa: S311 - reproducible simulation
        self.corpus = load_corpus(INDUSTRIES, plan.seed)
        self.industry_weights = [len(c) for c in self.corpus.clauses]
        self.clauses = Cycler([list(p) for p in self.corpus.clauses], self.rng)
        self.kw = Cycler([list(p) for p in self.corpus.keywords], self.rng)
        self.titles = Cycler([list(p) for p in self.corpus.titles], self.rng)
        self.snap = Snapshot(start=START, end=END)
        self.truth = Truth()
        self.next_id: dict[str, int] = defaultdict(lambda: 1)
        self.centres = plan.centres
        self.centre_weights = [c.weight for c in self.centres]
        self.by_centre_orgs: dict[int, list[Org]] = defaultdict(list)
        self.orgs: dict[int, Org] = {}
        self.staff: dict[int, list[tuple[int, str]]] = defaultdict(list)  # centre -> (id, device)
        self.experts: list[ExpertRow] = []
        self.city_experts: dict[str, list[int]] = defaultdict(list)
        self.account_net: dict[int, str] = {}
        self.account_dev: dict[int, str] = {}
        self.accounts: dict[int, dict[str, object]] = {}
        self.demand_ids_by_org: dict[int, list[int]] = defaultdict(list)
        self.demand_ids_by_centre: dict[int, list[int]] = defaultdict(list)
        self.unis: list[Org] = []
        self.used_names: set[str] = set()
        self.citizens: list[int] = []
        self.articles: list[tuple[int, int, datetime]] = []
        self.hollow_cases: dict[int, list[int]] = defaultdict(list)  # centre -> case indexes
        self.ring_state: dict[int, Ring] = {}
        self.demands: dict[int, DemandRow] = {}
        self.cased_demands: set[int] = set()
        self.mobile_pool = [
            "n" + keyed("mobile", i) for i in range(max(50, round(500 * plan.scale)))
        ]
        self.county_pool = {
            c.id: [
                "n" + keyed("home", c.code, i)
                for i in range(max(5, round(200 * plan.scale * c.weight)))
            ]
            for c in self.centres
        }

    # helpers
    def industry(self) -> int:
        """An industry, in proportion to how much text it has (small clusters are rare)."""
        return self.rng.choices(range(INDUSTRIES), weights=self.industry_weights)[0]

    def nid(self, what: str) -> int:
        n = self.next_id[what]
        self.next_id[what] = n + 1
        return n

    def when(self, lo: datetime = START, hi: datetime = END) -> datetime:
        return lo + timedelta(seconds=self.rng.uniform(0, (hi - lo).total_seconds()))

    def centre(self) -> Centre:
        return self.rng.choices(self.centres, weights=self.centre_weights)[0]

    def person(self, tag: object) -> Person:
        return Person(
            "m" + keyed("mobile", tag, self.plan.seed), "i" + keyed("id", tag, self.plan.seed)
        )

    def home_network(self, centre: Centre) -> str:
        if self.rng.random() < 0.3:
            return self.rng.choice(self.mobile_pool)
        return self.rng.choice(self.county_pool[centre.id])

    def address(self, centre: Centre, road: str | None = None, number: int | None = None) -> str:
        road = road or self.rng.choice(ROADS)
        number = number or self.rng.randint(1, 999)
        park = self.rng.choice(PARKS) if self.rng.random() < 0.3 else ""
        return f"四川省{centre.city_name}{centre.name}{park}{road}{number}号"

    def account(
        self,
        role: str,
        centre: Centre | None,
        at: datetime,
        profile: str,
        *,
        org: int | None = None,
        person: Person | None = None,
        activity: int | None = None,
        network: str | None = None,
        device: str | None = None,
        logins: bool = True,
    ) -> int:
        aid = self.nid("account")
        person = person or self.person(("acct", aid))
        if activity is None:
            activity = 0 if self.rng.random() < DORMANT_SHARE else self.rng.randint(1, 40)
        net = network or (
            self.home_network(centre) if centre else self.rng.choice(self.mobile_pool)
        )
        dev = device or "d" + keyed("device", aid, self.plan.seed)
        self.account_net[aid] = net
        self.account_dev[aid] = dev
        self.accounts[aid] = {
            "role": role,
            "centre_id": centre.id if centre else None,
            "created_at": at,
            "profile_text": profile,
            "organisation_id": org,
            "person_keys": person.keys,
            "activity": activity,
        }
        self.snap.footprints.append(FootprintRow(aid, "register", at, net, dev))
        if logins and activity > 0:
            for _ in range(min(activity, self.rng.randint(1, 6))):
                day = at + timedelta(days=self.rng.uniform(1, 120))
                if day < END:
                    lnet = net if self.rng.random() < 0.8 else self.rng.choice(self.mobile_pool)
                    self.snap.footprints.append(FootprintRow(aid, "login", day, lnet, dev))
        return aid

    def worker_profile(self, employer: str, industry: int) -> str:
        kws = "、".join(dict.fromkeys(self.kw.take(industry) for _ in range(3)))
        title = self.rng.choice(TITLES)
        return f"{employer}，{title}，研究方向：{kws}。{self.clauses.take(industry)}。"

    def org_name(self, centre: Centre, industry: int) -> str:
        """A firm's name, unique in the province (as registered names are)."""
        while True:
            place = centre.name if self.rng.random() < 0.5 else short_city(centre.city_name)
            brand = "".join(self.rng.sample(BRAND, 2))
            word = INDUSTRY_WORDS[industry % len(INDUSTRY_WORDS)]
            suffix = self.rng.choice(
                ("有限公司", "有限责任公司", "股份有限公司", "有限公司", "专业合作社")
            )
            name = f"{place}{brand}{word}{suffix}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def make_enterprise(self, centre: Centre, at: datetime, industry: int | None = None) -> Org:
        industry = self.industry() if industry is None else industry
        oid = self.nid("org")
        name = self.org_name(centre, industry)
        years = self.rng.randint(2, 30)
        staff = self.rng.choice((12, 30, 45, 80, 120, 200, 350, 600))
        intro = (
            f"{name}成立于{2025 - years}年，位于{centre.city_name}{centre.name}，"
            f"现有员工约{staff}人，主要从事{self.kw.take(industry)}相关产品的研发与生产"
        )
        org = Org(oid, name, self.address(centre), industry, centre, intro, set())
        person = self.person(("ent", oid))
        uid = self.account("enterprise", centre, at, intro, org=oid, person=person)
        org.user_id = uid
        org.network = self.account_net[uid]
        org.device = self.account_dev[uid]
        org.keys |= set(person.keys) | {f"account:{uid}"}
        self.orgs[oid] = org
        self.by_centre_orgs[centre.id].append(org)
        return org

    def make_institution(self, centre: Centre, name: str) -> Org:
        oid = self.nid("org")
        org = Org(oid, name, self.address(centre), self.industry(), centre, name, set())
        self.orgs[oid] = org
        return org

    def make_expert(
        self,
        centre: Centre,
        at: datetime,
        *,
        org: Org | None,
        employer: str,
        industry: int,
        person: Person | None = None,
        address: str | None = None,
    ) -> int:
        person = person or self.person(("expert", self.next_id["account"]))
        aid = self.account(
            "worker",
            centre,
            at,
            self.worker_profile(employer, industry),
            org=org.id if org else None,
            person=person,
            activity=self.rng.randint(2, 40),
        )
        if org is not None:
            org.keys |= set(person.keys) | {f"account:{aid}"}
        self.experts.append(
            ExpertRow(
                aid,
                employer,
                org.id if org else None,
                address if address is not None else (org.address if org else ""),
                person.keys,
            )
        )
        self.city_experts[centre.city_code].append(aid)
        return aid

    # demand text
    def demand_text(self, org: Org, *, stock: int = 0) -> dict[str, str]:
        ind = org.industry
        kw1, kw2 = self.kw.take(ind), self.kw.take(ind)
        pattern = self.rng.randrange(6)
        title = (
            f"{kw1}技术攻关需求",
            f"关于{kw1}的技术咨询",
            f"寻求{kw1}方面的专家合作",
            self.titles.take(ind),
            f"{kw1}与{kw2}问题求解",
            f"{kw1}工艺改进",
        )[pattern]
        stock_text = "".join(self.rng.sample(STOCK_PHRASES, stock)) if stock else ""
        description = (
            f"{org.intro}。{self.clauses.take(ind)}，{self.clauses.take(ind)}。"
            f"{stock_text}{self.rng.choice(NEED_PHRASES)}"
        )
        problem = f"{self.clauses.take(ind)}，{self.clauses.take(ind)}。"
        current = (
            f"目前采用{kw2}方案，合格率约{self.rng.randint(55, 92)}%，{self.clauses.take(ind)}。"
        )
        target = (
            f"{kw1}指标提升{self.rng.randint(5, 40)}%，成本降低{self.rng.randint(3, 25)}%，"
            f"{self.rng.randint(2, 12)}个月内完成。"
        )
        return {
            "title": title,
            "description": description,
            "problem": problem,
            "current_state": current,
            "target_indicators": target,
        }

    def add_demand(
        self, org: Org, at: datetime, text: dict[str, str], by: int | None = None
    ) -> int:
        did = self.nid("demand")
        row = DemandRow(
            did,
            org.id,
            by if by is not None else org.user_id,
            org.centre.id,
            at,
            text["title"],
            text["description"],
            text["problem"],
            text["current_state"],
            text["target_indicators"],
        )
        self.demands[did] = row
        self.demand_ids_by_org[org.id].append(did)
        self.demand_ids_by_centre[org.centre.id].append(did)
        return did

    # --- normal activity ---
    def build_normal(self) -> None:
        n = self.plan.normal
        rng = self.rng
        # staff: three per centre, office network, logins through the year
        for c in self.centres:
            for s in range(STAFF_PER_CENTRE):
                staff_dev = "d" + keyed("staff", c.code, s)
                sid = self.account(
                    "staff",
                    c,
                    START - timedelta(days=400),
                    "",
                    network=c.office_network,
                    device=staff_dev,
                    activity=50,
                    logins=False,
                )
                self.staff[c.id].append((sid, staff_dev))
                for _ in range(12):
                    self.snap.footprints.append(
                        FootprintRow(sid, "login", self.when(), c.office_network, staff_dev)
                    )
        # universities and institutes (mostly in 成都市's districts)
        unis: list[Org] = []
        chengdu = [c for c in self.centres if c.city_code == "510100"]
        for u in range(n["universities"]):
            c = rng.choice(chengdu) if rng.random() < 0.6 else self.centre()
            kind = rng.choice(("大学", "理工学院", "农业科学院", "职业技术学院", "研究所"))
            unis.append(
                self.make_institution(c, f"{short_city(c.city_name)}{BRAND[u % len(BRAND)]}{kind}")
            )
        self.unis = unis
        # enterprises
        for _ in range(n["enterprises"]):
            self.make_enterprise(self.centre(), self.when(START - timedelta(days=700), END))
        all_orgs = [o for o in self.orgs.values() if o.user_id]
        # workers: experts (university, county institute or enterprise engineers) and others
        for _ in range(n["workers"]):
            c = self.centre()
            at = self.when()
            ind = self.industry()
            if rng.random() < EXPERT_SHARE:
                r = rng.random()
                if r < 0.5:
                    org = rng.choice(unis)
                    self.make_expert(c, at, org=org, employer=org.name, industry=ind)
                elif r < 0.8:
                    emp = f"{c.name}农业技术推广中心"
                    self.make_expert(c, at, org=None, employer=emp, industry=ind)
                else:
                    org = rng.choice(all_orgs)
                    self.make_expert(
                        org.centre,
                        at,
                        org=None,
                        employer=f"{self.org_name(org.centre, ind)}",
                        industry=ind,
                    )
            else:
                self.account(
                    "worker",
                    c,
                    at,
                    self.worker_profile(
                        f"{c.name}{rng.choice(('中学', '医院', '农技站', '林业站', '企业'))}", ind
                    ),
                )
        # citizens (some families share a device)
        citizens: list[int] = []
        last_citizen: dict[int, int] = {}
        for _ in range(n["citizens"]):
            c = self.centre()
            dev = None
            if last_citizen.get(c.id) and rng.random() < LOOKALIKE["family_device_share"]:
                dev = self.account_dev[last_citizen[c.id]]
                self.truth.lookalike[(Subject.ACCOUNT, last_citizen[c.id])] = "family_device"
            profile = "" if rng.random() < 0.6 else f"关注：{self.kw.take(self.industry())}"
            aid = self.account("citizen", c, self.when(), profile, device=dev)
            if dev is not None:
                self.truth.lookalike.setdefault((Subject.ACCOUNT, aid), "family_device")
            citizens.append(aid)
            last_citizen[c.id] = aid
        self.citizens = citizens
        self.build_lookalike_registrations()
        self.build_demands(all_orgs)
        self.build_reads()
        self.build_cases()

    def build_lookalike_registrations(self) -> None:
        rng = self.rng
        for b in range(int(self.plan.lookalike["campus_bursts"])):
            uni = rng.choice(self.unis)
            net = "n" + keyed("campus", uni.id, b)
            at = self.when(START, END - timedelta(days=30))
            role = "worker" if rng.random() < 0.5 else "citizen"
            for _ in range(rng.randint(25, 50)):
                ind = self.industry()
                profile = (
                    self.worker_profile(f"{uni.name}研究生", ind)
                    if role == "worker"
                    else f"{uni.name}学生，关注：{self.kw.take(ind)}、{self.kw.take(ind)}"
                )
                aid = self.account(
                    role,
                    uni.centre,
                    at + timedelta(minutes=rng.uniform(0, 90)),
                    profile,
                    network=net,
                    activity=rng.randint(2, 15),
                )
                self.truth.lookalike[(Subject.ACCOUNT, aid)] = "campus_burst"
        for _ in range(int(self.plan.lookalike["training_sessions"])):
            c = self.centre()
            at = self.when(START, END - timedelta(days=30))
            shared = (
                [("d" + keyed("training", c.code, at, i)) for i in range(rng.randint(1, 2))]
                if rng.random() < 0.5
                else []
            )
            for _ in range(rng.randint(10, 25)):
                ind = self.industry()
                aid = self.account(
                    "worker",
                    c,
                    at + timedelta(minutes=rng.uniform(0, 120)),
                    self.worker_profile(
                        f"{c.name}{rng.choice(('农技站', '中学', '卫生院', '林业站'))}", ind
                    ),
                    network=c.office_network,
                    device=rng.choice(shared) if shared else None,
                    activity=rng.randint(1, 20),
                )
                self.truth.lookalike[(Subject.ACCOUNT, aid)] = "training_session"

    def build_demands(self, orgs: list[Org]) -> None:
        rng = self.rng
        # an enterprise's propensity to post: a few post many
        weights = [rng.paretovariate(1.5) for _ in orgs]
        follow = self.plan.lookalike["follow_up_demand_share"]
        heavy = self.plan.lookalike["boilerplate_heavy_share"]
        for _ in range(self.plan.normal["demands"]):
            org = rng.choices(orgs, weights=weights)[0]
            at = self.when()
            earlier = self.demand_ids_by_org[org.id]
            if earlier and rng.random() < follow:
                prev = self.demands[earlier[-1]]
                text = self.demand_text(org)
                text["title"] = f"{prev.title}（后续需求）"
                text["description"] = (
                    f"去年就“{prev.title}”得到专家帮助，现有新问题。" + text["description"]
                )
                at = max(at, prev.submitted_at + timedelta(days=30))
                if at >= END:
                    at = prev.submitted_at + timedelta(days=1)
                did = self.add_demand(org, min(at, END - timedelta(hours=1)), text)
                self.truth.lookalike[(Subject.DEMAND, did)] = "follow_up"
                continue
            stock = rng.randint(2, 3) if rng.random() < heavy else 0
            did = self.add_demand(org, at, self.demand_text(org, stock=stock))
            if stock:
                self.truth.lookalike[(Subject.DEMAND, did)] = "boilerplate_heavy"
            elif len(earlier) > 1:
                self.truth.lookalike.setdefault((Subject.DEMAND, did), "same_firm_again")

    def build_reads(self) -> None:
        rng = self.rng
        n = self.plan.normal
        arts = []
        for a in range(n["articles"]):
            arts.append(
                (
                    a + 1,
                    rng.randint(600, 6000),
                    self.when(START - timedelta(days=200), END - timedelta(days=7)),
                )
            )
        self.articles = arts
        readers = [a for a in self.citizens if rng.random() < READER_SHARE]
        skimmers = set(
            rng.sample(readers, max(1, round(len(readers) * LOOKALIKE["skimmer_share"])))
        )
        for s in skimmers:
            self.truth.lookalike.setdefault((Subject.ACCOUNT, s), "skimmer")
        per = [rng.paretovariate(2.0) for _ in readers]
        total = sum(per)
        budget = n["reads"]
        for aid, p in zip(readers, per, strict=True):
            k = max(1, round(budget * p / total))
            for _ in range(k):
                self.add_read(aid, rng.choice(arts), skim=aid in skimmers and rng.random() < 0.5)
        # class readings: a teacher has the class read one article in a lesson
        for _ in range(int(self.plan.lookalike["class_readings"])):
            c = self.centre()
            art = rng.choice(arts)
            t0 = self.when(max(art[2], START), END)
            for _ in range(rng.randint(30, 50)):
                aid = self.account(
                    "citizen",
                    c,
                    t0 - timedelta(days=rng.uniform(1, 60)),
                    "",
                    network="n" + keyed("school", c.code),
                    activity=rng.randint(2, 10),
                )
                self.truth.lookalike[(Subject.ACCOUNT, aid)] = "class_reading"
                self.add_read(
                    aid, art, at=t0 + timedelta(minutes=rng.uniform(0, 15)), finish_p=0.85
                )

    def add_read(
        self,
        aid: int,
        art: tuple[int, int, datetime],
        *,
        skim: bool = False,
        at: datetime | None = None,
        finish_p: float = READ_FINISH_SHARE,
        speed: float | None = None,
        device: str | None = None,
        centre_id: int | None = None,
    ) -> None:
        rng = self.rng
        art_id, chars, published = art
        at = at or self.when(max(published, START), END)
        if speed is None:
            speed = (
                rng.uniform(1500, 4000)
                if skim
                else READ_SPEED_MEDIAN * math.exp(rng.gauss(0, 0.35))
            )
        finished = at + timedelta(minutes=chars / speed) if rng.random() < finish_p else None
        self.snap.reads.append(
            ReadRow(
                self.nid("read"),
                aid,
                art_id,
                centre_id if centre_id is not None else self.accounts[aid]["centre_id"],  # type: ignore[arg-type]
                device or self.account_dev[aid],
                at,
                finished,
                chars,
            )
        )

    def close_text(self, demand: DemandRow, org: Org) -> str:
        rng = self.rng
        kw = self.kw.take(org.industry)
        return rng.choice(
            (
                f"专家{rng.randint(1, 4)}次到企业现场，针对“{demand.title}”调整{kw}参数，"
                f"合格率由{rng.randint(55, 85)}%提升至{rng.randint(86, 99)}%，企业已按新工艺生产。",
                f"双方签订技术服务合同，完成{kw}小试{rng.randint(2, 9)}批次，"
                f"{self.clauses.take(org.industry)}，企业验收通过。",
                f"经线上诊断和{rng.randint(1, 3)}次现场指导，{self.clauses.take(org.industry)}，"
                f"年节约成本约{rng.randint(3, 90)}万元。",
                f"专家团队提出{kw}改进方案，企业试用{rng.randint(1, 6)}个月后反馈效果明显，"
                f"{self.clauses.take(org.industry)}。",
            )
        )

    def add_case(
        self,
        demand_id: int,
        experts: tuple[int, ...],
        opened: datetime,
        closed: datetime | None,
        *,
        solved: bool = True,
        evidence: str = "",
        contract: str = "",
        text: str = "",
        rating: int | None = None,
        rated_at: datetime | None = None,
        rate_network: str = "",
        rate_device: str = "",
        owner: tuple[int, str] | None = None,
    ) -> int:
        d = self.demands[demand_id]
        org = self.orgs[d.organisation_id]
        cid = self.nid("case")
        owner = owner or self.rng.choice(self.staff[org.centre.id])
        if closed is None or rated_at is None:
            rating = rated_at = None
        if rating is not None and rated_at is not None:
            self.snap.footprints.append(
                FootprintRow(
                    org.user_id,
                    "rate",
                    rated_at,
                    rate_network or org.network,
                    rate_device or org.device,
                )
            )
        self.snap.cases.append(
            CaseRow(
                cid,
                org.centre.id,
                demand_id,
                org.id,
                owner[0],
                experts,
                opened,
                closed,
                ("solved" if solved else "not_solved") if closed else "",
                evidence if closed else "",
                contract if closed else "",
                text if closed else "",
                rating,
                org.user_id if rating is not None else None,
                rated_at if rating is not None else None,
            )
        )
        self.cased_demands.add(demand_id)
        return cid

    def free_demands(self, centre_id: int | None = None) -> list[int]:
        """Demands with no case yet, old enough to have one, not planted templates."""
        pool = self.demand_ids_by_centre[centre_id] if centre_id is not None else list(self.demands)
        return [
            did
            for did in pool
            if did not in self.cased_demands
            and self.demands[did].submitted_at < END - timedelta(days=40)
            and (Kind.DUPLICATE_DEMAND, Subject.DEMAND, did) not in self.truth.planted
        ]

    def build_cases(self) -> None:
        rng = self.rng
        lk = self.plan.lookalike
        pool = self.free_demands()
        rng.shuffle(pool)
        all_experts = [e.account_id for e in self.experts]
        popular = rng.sample(all_experts, min(len(all_experts), int(lk["popular_experts"])))
        expert_by_id = {e.account_id: e for e in self.experts}
        last_expert: dict[int, int] = {}
        last_contract: dict[int, str] = {}
        for did in pool[: self.plan.normal["cases"]]:
            d = self.demands[did]
            org = self.orgs[d.organisation_id]
            label = ""
            r = rng.random()
            if org.id in last_expert and r < lk["repeat_business_share"]:
                experts: tuple[int, ...] = (last_expert[org.id],)
                label = "repeat_business"
            elif r < lk["repeat_business_share"] + lk["same_district_expert_share"]:
                uni = self.make_institution(
                    org.centre,
                    short_city(org.centre.city_name)
                    + rng.choice(BRAND)
                    + rng.choice(("大学", "职业技术学院", "研究所")),
                )
                road = re.search(r"[^区县市园]*?(路|大道)", org.address.split(org.centre.name)[-1])
                addr = self.address(org.centre, road=road.group(0) if road else None)
                while addr == org.address:
                    addr = self.address(org.centre)
                uni.address = addr
                experts = (
                    self.make_expert(
                        org.centre,
                        d.submitted_at - timedelta(days=rng.uniform(30, 400)),
                        org=uni,
                        employer=uni.name,
                        industry=org.industry,
                    ),
                )
                label = "same_district_expert"
            elif r < 0.25:
                experts = (rng.choice(popular),)
                label = "popular_expert"
            else:
                local = self.city_experts[org.centre.city_code]
                pick = local if local and rng.random() < 0.6 else all_experts
                experts = (rng.choice(pick),)
            if rng.random() < 0.2:
                other = rng.choice(all_experts)
                if other not in experts:
                    experts = (*experts, other)
            # an expert linked to the enterprise only by chance would be self-dealing: avoid it
            experts = tuple(e for e in experts if not self.linked(expert_by_id.get(e), org)) or (
                rng.choice(popular),
            )
            last_expert[org.id] = experts[0]
            opened = d.submitted_at + timedelta(days=rng.uniform(1, 20))
            closed: datetime | None = None
            quick = False
            if rng.random() < CASE_CLOSED_SHARE:
                if rng.random() < lk["quick_fix_share"]:
                    closed = opened + timedelta(hours=rng.uniform(2, 20))
                    quick = True
                else:
                    closed = opened + timedelta(
                        days=max(2.0, CASE_DAYS_MEDIAN * math.exp(rng.gauss(0, 0.6)))
                    )
                if closed >= END:
                    closed = None
            solved = rng.random() < SOLVED_SHARE
            evidence = (
                sha256("evidence", did, self.plan.seed)
                if rng.random() < (0.85 if solved else 0.3)
                else ""
            )
            contract = ""
            if (
                label == "repeat_business"
                and org.id in last_contract
                and rng.random() < lk["framework_contract_share"]
            ):
                contract = last_contract[org.id]
                label = "framework_contract"
            elif solved and rng.random() < 0.45:
                contract = (
                    f"{rng.choice(('HT', 'JSFW', 'SC'))}{opened.year}-{rng.randint(10000, 99999)}"
                )
            if contract:
                last_contract[org.id] = contract
            rating = rated_at = None
            net = dev = ""
            if closed is not None and rng.random() < RATED_SHARE:
                rating = rng.choices((5, 4, 3, 2, 1), weights=(55, 30, 10, 3, 2))[0]
                if label == "popular_expert":
                    rating = rng.choices((5, 4, 3), weights=(85, 12, 3))[0]
                rated_at = closed + timedelta(hours=min(720.0, 48 * math.exp(rng.gauss(0, 1.2))))
                if rated_at >= END:
                    rating = rated_at = None
                elif rng.random() < lk["rated_at_centre_share"]:
                    net = org.centre.office_network
                    label = label or "rated_at_centre"
            cid = self.add_case(
                did,
                experts,
                opened,
                closed,
                solved=solved,
                evidence=evidence,
                contract=contract,
                text=self.close_text(d, org),
                rating=rating,
                rated_at=rated_at,
                rate_network=net,
                rate_device=dev,
            )
            if quick and closed is not None:
                label = "quick_fix"
            if label:
                self.truth.lookalike[(Subject.CASE, cid)] = label

    def linked(self, expert: ExpertRow | None, org: Org) -> bool:
        if expert is None:
            return False
        return bool(
            expert.person_keys & org.keys
            or expert.organisation_id == org.id
            or org.name in expert.employer
            or (expert.address and expert.address == org.address)
        )

    # --- planted gaming ---
    def build_planted(self) -> None:
        for cid, cp in sorted(self.plan.gamed.items()):
            centre = self.centres[cid - 1]
            self.truth.gamed_centres[cid] = [k.value for k in cp.kinds]
            for kind, units in cp.kinds.items():
                for size, weak in units:
                    {
                        Kind.DUPLICATE_DEMAND: self.plant_family,
                        Kind.SCRIPTED_READING: self.plant_farm,
                        Kind.QUOTA_ACCOUNT: self.plant_quota,
                        Kind.SELF_DEALING: self.plant_self_dealing,
                        Kind.HOLLOW_CLOSURE: self.plant_hollow,
                        Kind.RATING_RING: self.plant_ring,
                    }[kind](centre, size, weak)

    def mutate(self, text: str, edits: int) -> str:
        rng = self.rng
        text = re.sub(r"\d+", lambda m: str(max(1, int(m.group(0)) + rng.randint(-9, 9))), text)
        subs = [p for p in SUBSTITUTIONS if p[0] in text or p[1] in text]
        rng.shuffle(subs)
        for a, b in subs[:edits]:
            text = text.replace(a, b, 1) if a in text else text.replace(b, a, 1)
        return text

    def plant_family(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        writer = self.person(("writer", centre.id, self.next_id["demand"]))
        industry = self.industry()
        shells = []
        for _ in range(rng.randint(2, 4)):
            org = self.make_enterprise(
                centre, self.when(START - timedelta(days=300), START), industry
            )
            org.keys |= set(writer.keys)
            shells.append(org)
        base = self.demand_text(shells[0])
        t0 = self.when(START, END - timedelta(days=30 * DUP_SPREAD_MONTHS[1]))
        spread = timedelta(days=30 * rng.randint(*DUP_SPREAD_MONTHS))
        for i in range(size):
            org = shells[i % len(shells)]
            if i == 0:
                text = dict(base)
            else:
                edits = rng.randint(4, 7) if weak else rng.randint(2, 3)
                text = {k: self.mutate(v, edits) for k, v in base.items()}
                # the firm's own introduction, then the template's text with a few words changed
                rest = base["description"].removeprefix(shells[0].intro)
                text["description"] = org.intro + self.mutate(rest, edits)
            at = t0 + spread * (i / max(1, size - 1)) + timedelta(hours=rng.uniform(0, 48))
            did = self.add_demand(org, min(at, END - timedelta(hours=1)), text)
            self.truth.plant(Kind.DUPLICATE_DEMAND, did, weak)

    def plant_farm(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        net = "n" + keyed("farm", centre.code, self.next_id["account"])
        devices = [
            "d" + keyed("farmdev", centre.code, self.next_id["account"], i)
            for i in range(rng.randint(1, 3))
        ]
        t0 = self.when(START, END - timedelta(days=120))
        bots = []
        for _ in range(size):
            dev = None if weak else rng.choice(devices)
            at = t0 + timedelta(days=rng.uniform(0, 14))
            bots.append(
                self.account(
                    "citizen", centre, at, "", network=net, device=dev, activity=0, logins=False
                )
            )
        reads_by_bot: dict[int, int] = defaultdict(int)
        runs = rng.randint(*BOT_RUNS)
        first = t0 + timedelta(days=15)
        # the strong farm's script runs on a timer (every 3-24 hours, +-2 minutes); the weak
        # one at random times
        interval = timedelta(
            hours=rng.uniform(3, min(24.0, (END - first) / timedelta(hours=1) / runs))
        )
        for k in range(runs):
            if weak:
                at = self.when(first, END)
            else:
                at = first + interval * k + timedelta(seconds=rng.uniform(-120, 120))
            published = [x for x in self.articles if x[2] <= at] or self.articles
            art = rng.choice(published)
            at = max(at, art[2])
            for b in bots:
                offset = rng.uniform(0, 300 if weak else 20)
                speed = rng.uniform(1800, 3000) if weak else rng.uniform(5000, 30000)
                self.add_read(b, art, at=at + timedelta(seconds=offset), finish_p=1.0, speed=speed)
                reads_by_bot[b] += 1
        for b in bots:
            self.accounts[b]["activity"] = reads_by_bot[b]
            self.truth.plant(Kind.SCRIPTED_READING, b, weak)

    def plant_quota(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        net = "n" + keyed("quota", centre.code, self.next_id["account"])
        devices = [
            "d" + keyed("quotadev", centre.code, self.next_id["account"], i)
            for i in range(rng.randint(2, 3) if weak else 1)
        ]
        at0 = self.when(START, END - timedelta(days=20))
        template = rng.choice(QUOTA_PROFILES)
        for _ in range(size):
            emp = f"{centre.name}{rng.choice(('农技站', '科协', '乡镇综合服务中心', '村委会'))}"
            at = at0 + timedelta(minutes=rng.uniform(0, 360 if weak else 60))
            activity = rng.choice((0, 0, 1)) if weak else 0
            aid = self.account(
                "worker",
                centre,
                at,
                template.format(emp=emp, title=rng.choice(TITLES)),
                network=net,
                device=rng.choice(devices),
                activity=activity,
            )
            self.truth.plant(Kind.QUOTA_ACCOUNT, aid, weak)

    def plant_self_dealing(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        free = self.free_demands(centre.id)
        if not free:  # a centre with no spare demand gets one from a local enterprise
            org = (
                self.by_centre_orgs[centre.id][0]
                if self.by_centre_orgs[centre.id]
                else self.make_enterprise(centre, START)
            )
            free = [
                self.add_demand(
                    org, self.when(START, END - timedelta(days=60)), self.demand_text(org)
                )
            ]
        did = rng.choice(free)
        d = self.demands[did]
        org = self.orgs[d.organisation_id]
        link = rng.choice(("person", "organisation", "employer", "address"))
        at = d.submitted_at - timedelta(days=rng.uniform(10, 300))
        if link == "person":
            # the enterprise's own contact person, registered as an expert of a university
            person = Person(
                sorted(k for k in org.keys if k.startswith("m"))[0], "i" + keyed("sd", did)
            )
            uni = rng.choice(self.unis)
            eid = self.make_expert(
                centre,
                at,
                org=None,
                employer=uni.name,
                industry=org.industry,
                person=person,
                address=uni.address,
            )
        elif link == "organisation":
            eid = self.make_expert(centre, at, org=org, employer=org.name, industry=org.industry)
        elif link == "employer":
            name = org.name
            if weak:
                name = (
                    name.replace("股份有限公司", "")
                    .replace("有限责任公司", "")
                    .replace("有限公司", "")
                )
            eid = self.make_expert(centre, at, org=None, employer=name, industry=org.industry)
        else:
            addr = org.address.removeprefix("四川省") if weak else org.address
            inst = self.make_institution(centre, f"{centre.name}{rng.choice(BRAND)}技术研究所")
            inst.address = addr
            eid = self.make_expert(
                centre, at, org=inst, employer=inst.name, industry=org.industry, address=addr
            )
        opened = d.submitted_at + timedelta(days=rng.uniform(1, 10))
        closed = min(
            opened + timedelta(days=max(3.0, 20 * math.exp(rng.gauss(0, 0.5)))),
            END - timedelta(hours=2),
        )
        rated_at = closed + timedelta(hours=rng.uniform(2, 96))
        cid = self.add_case(
            did,
            (eid,),
            opened,
            closed,
            evidence=sha256("sd", did),
            text=self.close_text(d, org),
            contract=f"HT{opened.year}-{rng.randint(10000, 99999)}",
            rating=5,
            rated_at=rated_at if rated_at < END else None,
        )
        self.truth.plant(Kind.SELF_DEALING, cid, weak)

    def plant_hollow(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        free = self.free_demands(centre.id)
        if not free:
            org = (
                self.by_centre_orgs[centre.id][0]
                if self.by_centre_orgs[centre.id]
                else self.make_enterprise(centre, START)
            )
            free = [
                self.add_demand(
                    org, self.when(START, END - timedelta(days=60)), self.demand_text(org)
                )
            ]
        did = rng.choice(free)
        d = self.demands[did]
        org = self.orgs[d.organisation_id]
        owner = rng.choice(self.staff[centre.id])
        signals = ["boilerplate", "hash", "contract", "owner_network"]
        chosen = rng.sample(signals, 1 if weak else rng.randint(2, 3))
        opened = d.submitted_at + timedelta(days=rng.uniform(0, 5))
        closed = opened + timedelta(hours=rng.uniform(6, 20) if weak else rng.uniform(0.3, 4))
        text = (
            rng.choice(BOILERPLATE_CLOSINGS) if "boilerplate" in chosen else self.close_text(d, org)
        )
        evidence = sha256("hollow-ev", did)
        if "hash" in chosen:
            evidence = sha256("hollow-shared", centre.id)
        contract = ""
        if "contract" in chosen:
            contract = f"HT{opened.year}-{centre.id:03d}01"
        local = self.city_experts[centre.city_code]
        experts = (rng.choice(local),) if local and rng.random() < 0.5 else ()
        if "owner_network" in chosen:
            rated_at = closed + timedelta(minutes=rng.uniform(1, 30))
            cid = self.add_case(
                did,
                experts,
                opened,
                closed,
                evidence=evidence,
                contract=contract,
                text=text,
                rating=5,
                rated_at=rated_at,
                rate_network=self.staff_net(centre),
                rate_device="" if weak else owner[1],
                owner=owner,
            )
        else:
            rated_at = closed + timedelta(hours=rng.uniform(1, 72))
            cid = self.add_case(
                did,
                experts,
                opened,
                closed,
                evidence=evidence,
                contract=contract,
                text=text,
                rating=5 if rng.random() < 0.8 else None,
                rated_at=rated_at,
                owner=owner,
            )
        self.truth.plant(Kind.HOLLOW_CLOSURE, cid, weak)
        self.hollow_cases[centre.id].append(len(self.snap.cases) - 1)

    def staff_net(self, centre: Centre) -> str:
        return centre.office_network

    def plant_ring(self, centre: Centre, size: int, weak: bool) -> None:
        rng = self.rng
        ring = self.ring_state.get(centre.id)
        if ring is None:
            local = self.city_experts[centre.city_code] or [e.account_id for e in self.experts]
            ring = Ring(
                experts=rng.sample(local, min(len(local), rng.randint(*RING_EXPERTS))),
                network="n" + keyed("ring", centre.code),
                device="d" + keyed("ringdev", centre.code),
                days=[
                    self.when(START + timedelta(days=30), END - timedelta(days=20))
                    for _ in range(4)
                ],
            )
            self.ring_state[centre.id] = ring
        org = self.make_enterprise(centre, self.when(START - timedelta(days=400), START))
        for _ in range(size):
            did = self.add_demand(
                org, self.when(START, END - timedelta(days=60)), self.demand_text(org)
            )
            d = self.demands[did]
            opened = d.submitted_at + timedelta(days=rng.uniform(1, 5))
            day = rng.choice(ring.days)
            closed = max(opened + timedelta(days=rng.uniform(3, 15)), day)
            if closed >= END - timedelta(hours=2):
                closed = END - timedelta(hours=rng.uniform(3, 20))
            rated_at = closed + timedelta(minutes=rng.uniform(5, 60))
            experts = tuple(rng.sample(ring.experts, min(len(ring.experts), rng.randint(1, 2))))
            cid = self.add_case(
                did,
                experts,
                opened,
                closed,
                evidence=sha256("ring", did),
                text=self.close_text(d, org),
                rating=5,
                rated_at=rated_at if rated_at < END else None,
                rate_network=ring.network,
                rate_device=self.account_dev[org.user_id] if weak else ring.device,
            )
            # the ring's firm and its demands look real and count as normal; its cases are planted
            self.truth.plant(Kind.RATING_RING, cid, weak)

    def finish(self) -> None:
        snap = self.snap
        # a reused evidence hash or contract number is on at least two of a centre's hollow
        # closures: when only one drew it, the centre's next hollow closure carries it too
        for indexes in self.hollow_cases.values():
            for attr in ("evidence_sha256", "contract_number"):
                values = [getattr(snap.cases[i], attr) for i in indexes]
                shared = [
                    v
                    for v in values
                    if v
                    and values.count(v) == 1
                    and (
                        v.startswith("HT") and v.endswith("01")
                        if attr == "contract_number"
                        else v == sha256("hollow-shared", snap.cases[indexes[0]].centre_id)
                    )
                ]
                if shared and len(indexes) > 1:
                    i = next(i for i in indexes if getattr(snap.cases[i], attr) != shared[0])
                    snap.cases[i] = replace(snap.cases[i], **{attr: shared[0]})
        for aid, a in sorted(self.accounts.items()):
            snap.accounts.append(AccountRow(id=aid, **a))  # type: ignore[arg-type]
        for org in sorted(self.orgs.values(), key=lambda o: o.id):
            snap.organisations.append(
                OrganisationRow(org.id, org.name, org.address, frozenset(org.keys))
            )
        snap.experts = sorted(self.experts, key=lambda e: e.account_id)
        snap.demands = sorted(self.demands.values(), key=lambda d: d.id)
        snap.footprints.sort(key=lambda f: (f.at, f.account_id))
        snap.reads.sort(key=lambda r: r.id)
        snap.cases.sort(key=lambda c: c.id)
        # a record planted for gaming is not also a look-alike
        for _, s, i in self.truth.planted:
            self.truth.lookalike.pop((s, i), None)


def generate(plan: Plan) -> tuple[Snapshot, Truth]:
    """The snapshot of `plan`'s province and the ground truth of what was planted in it."""
    b = Builder(plan)
    b.build_normal()
    b.build_planted()
    b.finish()
    return b.snap, b.truth
