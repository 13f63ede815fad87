"""Demo data for Sichuan: S&T workers, enterprises, demands, articles, citizens and staff.

`demo_plan` is pure: from a seed and the province's regions it builds the whole data set in
memory with its own `random.Random` streams (no wall clock, no global random state), so the
same arguments always give the same content. `demo_seed` writes that plan, creating only the
rows whose natural key is missing (usernames, enterprise USCCs, (enterprise, demand title),
(article title, region)), so running it twice with the same arguments changes nothing.

Each kind of row draws from its own stream, and row i depends only on rows before it, so the
small data set is the beginning of the large one for the same seed.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import models, transaction
from django.utils import timezone

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.validators import USCC_ALPHABET, uscc_check_character
from kejiyun.common.crypto import mobile_lookup
from kejiyun.demands.models import Demand
from kejiyun.demo import vocab
from kejiyun.popsci.models import AgeBand, Article, CitizenProfile, ConsentRecord, Segment, Topic
from kejiyun.popsci.targeting.selectors import current_consent_version, interest_mask
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import province_regions
from kejiyun.regions.services import regions_load, service_centres_ensure
from kejiyun.talent.models import Discipline, Industry, ServiceMode, TalentProfile

SICHUAN = "510000"
# Passes the password rules (ADR 0002): demo staff are created through `staff_create`, which
# runs the validators, and a site word with a year ("Kejiyun-Demo-2026") is refused.
DEMO_PASSWORD = "Bamboo-Panda-Tea-2026"  # noqa: S105 - a published demo credential
USERNAME_PREFIX = "demo_"
WORKER_PREFIX = "demo_w_"
ENTERPRISE_PREFIX = "demo_e_"
CITIZEN_PREFIX = "demo_c_"
LOGIN_ACCOUNTS_PER_ROLE = 20
BATCH_SIZE = 2000
# Every timestamp is an offset back from this moment, never from the wall clock.
BASE_MOMENT = datetime(2026, 11, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# Demand statuses that passed review: they carry their publication time.
PUBLISHED_STATUSES = (Demand.Status.PUBLISHED, Demand.Status.CLOSED)

# Mobile prefixes keep the roles' numbers apart: 139 + 8-digit index for workers, etc.
MOBILE_PREFIX = {
    "worker": "139",
    "enterprise": "138",
    "citizen": "137",
    "staff": "136",
    "reviewer": "135",
}
# The science reviewer (评审专家) who reviews the demo centres' content.
REVIEWER_ACCOUNTS: tuple[str, ...] = ("demo_reviewer",)
# The security auditor (安全审计员) who reads the audit trail at /security/audit/.
AUDITOR_ACCOUNT = "demo_auditor"
# Every QUIZ_EVERY-th article is written by a demo centre through the content services and
# carries its theme's quiz; of those, the ones at PENDING_REVIEW_EVERY wait in the review
# queue instead of being published.
QUIZ_EVERY = 3
# Submitting goes through the demand checks one by one: a review queue's worth is enough.
MAX_SUBMITTED = 40
PENDING_REVIEW_EVERY = 30

# (username, region code of the centre they work at)
STAFF_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("demo_staff_province", "510000"),
    ("demo_staff_chengdu", "510100"),
    ("demo_staff_jinjiang", "510104"),
    ("demo_staff_shuangliu", "510116"),
)

_COUNTY_SUFFIXES = ("彝族自治县", "羌族自治县", "藏族自治县", "自治县", "区", "县", "市")
_CITY_SUFFIXES = ("藏族羌族自治州", "藏族自治州", "彝族自治州", "市")


class DemoError(Exception):
    """The demo data cannot be seeded with these arguments or this deployment."""


@dataclass(frozen=True)
class Scale:
    workers: int
    enterprises: int
    demands: int
    articles: int
    citizens: int

    def __post_init__(self) -> None:
        # Demands are dealt to enterprises in pairs (1+3, 2+2 or 3+1), two each on average.
        if self.demands != 2 * self.enterprises or self.enterprises % 2:
            raise ValueError("demands must be twice an even number of enterprises")


SCALES: dict[str, Scale] = {
    "small": Scale(workers=600, enterprises=150, demands=300, articles=80, citizens=60),
    "large": Scale(
        workers=100_000, enterprises=20_000, demands=40_000, articles=500, citizens=2_000
    ),
}


@dataclass(frozen=True)
class DemoResult:
    """How many rows of each kind this run created."""

    staff: int
    workers: int
    profiles: int
    enterprises: int
    enterprise_users: int
    demands: int
    articles: int
    citizens: int
    citizen_profiles: int = 0
    reviewers: int = 0

    @property
    def total(self) -> int:
        return (
            self.staff
            + self.reviewers
            + self.workers
            + self.profiles
            + self.enterprises
            + self.enterprise_users
            + self.demands
            + self.articles
            + self.citizens
            + self.citizen_profiles
        )


# --- The plan: plain records, no database ------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    centre_name: str  # empty for townships, which have no centre


@dataclass(frozen=True)
class PersonSpec:
    username: str
    display_name: str
    mobile: str
    region_code: str
    joined_at: datetime


@dataclass(frozen=True)
class WorkerSpec:
    person: PersonSpec
    employer: str
    title: str
    fields: str
    keywords: str
    capability: str
    verified: bool
    # GB/T 4754 and NSFC codes of the worker's fields, and ServiceMode values OR-ed together
    # as the capability text and the kind of employer suggest.
    industries: tuple[str, ...] = ()
    disciplines: tuple[str, ...] = ()
    service_modes: int = 0


@dataclass(frozen=True)
class EnterpriseSpec:
    uscc: str
    name: str
    region_code: str
    industry: str
    description: str
    created_at: datetime
    contact: PersonSpec


@dataclass(frozen=True)
class DemandSpec:
    uscc: str
    title: str
    description: str
    category: str
    industry: str
    status: str  # "submitted" ones are written as drafts and submitted through the service
    region_code: str
    created_at: datetime
    problem: str = ""
    current_state: str = ""
    target_indicators: str = ""


@dataclass(frozen=True)
class ArticleSpec:
    title: str
    summary: str
    body: str
    topic: str
    region_code: str | None
    published_at: datetime
    # Content with a quiz is written, quizzed and submitted by `author` (a demo staff
    # account) through the content services and approved by the demo reviewer.
    quiz: tuple[vocab.Quiz, ...] = ()
    author: str = ""
    pending_review: bool = False


@dataclass(frozen=True)
class CitizenProfileSpec:
    """What a demo citizen is targeted by, and whether they consented (about 70% do)."""

    username: str
    region_code: str
    occupation: str
    age_band: str
    interests: tuple[str, ...]
    crops: str
    consent: bool


@dataclass(frozen=True)
class DemoPlan:
    staff: tuple[PersonSpec, ...]
    workers: tuple[WorkerSpec, ...]
    enterprises: tuple[EnterpriseSpec, ...]
    demands: tuple[DemandSpec, ...]
    articles: tuple[ArticleSpec, ...]
    citizens: tuple[PersonSpec, ...]
    citizen_profiles: tuple[CitizenProfileSpec, ...] = ()
    reviewers: tuple[PersonSpec, ...] = ()


def scale_get(scale: str) -> Scale:
    try:
        return SCALES[scale]
    except KeyError:
        raise DemoError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}") from None


def demo_login_usernames(*, scale: str) -> tuple[str, ...]:
    """The accounts that get the demo password; everyone else cannot sign in."""
    sizes = scale_get(scale)
    names = [username for username, _ in STAFF_ACCOUNTS] + list(REVIEWER_ACCOUNTS)
    names.append(AUDITOR_ACCOUNT)
    for prefix, count in (
        (WORKER_PREFIX, sizes.workers),
        (ENTERPRISE_PREFIX, sizes.enterprises),
        (CITIZEN_PREFIX, sizes.citizens),
    ):
        names += [_username(prefix, i) for i in range(1, min(count, LOGIN_ACCOUNTS_PER_ROLE) + 1)]
    return tuple(names)


def _username(prefix: str, index: int) -> str:
    return f"{prefix}{index:06d}"


def _mobile(role: str, index: int) -> str:
    return f"{MOBILE_PREFIX[role]}{index:08d}"


def _moment_before(rng: random.Random, *, days: int) -> datetime:
    return BASE_MOMENT - timedelta(minutes=rng.randrange(days * 24 * 60))


T = TypeVar("T")


class _Weighted(Generic[T]):
    """Repeated weighted choice from a fixed population (cumulative weights, bisect)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = items
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random) -> T:
        point = rng.random() * self.cumulative[-1]
        return self.items[bisect_right(self.cumulative, point)]


def _weighted_pairs(pairs: Sequence[tuple[str, int]]) -> _Weighted[str]:
    return _Weighted([item for item, _ in pairs], [weight for _, weight in pairs])


class _Geography:
    """The province's counties, their cities and townships, with weights for sampling."""

    def __init__(self, regions: Sequence[RegionRow]) -> None:
        by_code = {r.code: r for r in regions}
        self.counties = sorted(
            (r for r in regions if r.level == Region.Level.COUNTY), key=lambda r: r.code
        )
        self.cities = sorted(
            (r for r in regions if r.level == Region.Level.CITY), key=lambda r: r.code
        )
        provinces = [r for r in regions if r.level == Region.Level.PROVINCE]
        if not self.counties or len(provinces) != 1:
            raise DemoError("regions are not loaded for the province")
        self.province = provinces[0]
        self.by_code = by_code
        self.townships: dict[str, list[RegionRow]] = {}
        for r in sorted(regions, key=lambda r: r.code):
            if r.level == Region.Level.TOWNSHIP and r.parent_code:
                self.townships.setdefault(r.parent_code, []).append(r)
        self.counties_of_city: dict[str, list[RegionRow]] = {}
        for county in self.counties:
            self.counties_of_city.setdefault(self.city_code(county), []).append(county)
        weights = [self._county_weight(c) for c in self.counties]
        self.county_picker = _Weighted(self.counties, weights)

    def city_code(self, county: RegionRow) -> str:
        return county.parent_code or county.code

    def city(self, county: RegionRow) -> RegionRow:
        return self.by_code[self.city_code(county)]

    def _county_weight(self, county: RegionRow) -> float:
        weight = vocab.CITY_WEIGHTS.get(self.city_code(county), 1.0)
        if county.name.endswith("区"):
            weight *= vocab.DISTRICT_FACTOR
        return weight

    def pick_county(self, rng: random.Random) -> RegionRow:
        return self.county_picker.pick(rng)

    def short_name(self, county: RegionRow) -> str:
        """锦江区 → 锦江, 北川羌族自治县 → 北川; one-character or 市中/东区 names use the city."""
        short = _strip_suffix(county.name, _COUNTY_SUFFIXES)
        if len(short) < 2 or short in {"市中", "东", "西"}:
            return _strip_suffix(self.city(county).name, _CITY_SUFFIXES) + county.name
        return short


def _strip_suffix(name: str, suffixes: Iterable[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class _Namer:
    """Personal names, with Tibetan and Yi names in the autonomous prefectures."""

    def __init__(self) -> None:
        self.surnames = _weighted_pairs(vocab.SURNAMES)

    def name(self, rng: random.Random, city_code: str) -> str:
        if city_code in vocab.TIBETAN_NAME_CITIES and rng.random() < vocab.MINORITY_NAME_SHARE:
            first, second = rng.sample(vocab.TIBETAN_NAME_PARTS, 2)
            return first + second
        if city_code in vocab.YI_NAME_CITIES and rng.random() < vocab.MINORITY_NAME_SHARE:
            return rng.choice(vocab.YI_NAME_FIRST) + rng.choice(vocab.YI_NAME_SECOND)
        surname = self.surnames.pick(rng)
        length = 2 if rng.random() < 0.7 else 1
        return surname + "".join(rng.choice(vocab.GIVEN_NAME_CHARS) for _ in range(length))


class _FieldPicker:
    """Chooses a professional field, favouring the industries concentrated in a city."""

    HOT_FACTOR = 4.0

    def __init__(self) -> None:
        self._by_city: dict[str, _Weighted[vocab.Field]] = {}

    def pick(self, rng: random.Random, city_code: str) -> vocab.Field:
        picker = self._by_city.get(city_code)
        if picker is None:
            weights = [self.HOT_FACTOR if city_code in f.hot_cities else 1.0 for f in vocab.FIELDS]
            picker = self._by_city[city_code] = _Weighted(vocab.FIELDS, weights)
        return picker.pick(rng)


def demo_plan(
    *, scale: str, seed: int, regions: Sequence[RegionRow], with_workers: bool = True
) -> DemoPlan:
    """The whole demo data set for `scale` and `seed`, built in memory. Without workers (the
    slowest part at the large scale) every other part is the same."""
    sizes = scale_get(scale)
    geo = _Geography(regions)
    namer = _Namer()
    fields = _FieldPicker()
    streams = {
        part: random.Random(f"{seed}:{part}")
        for part in (
            "staff",
            "workers",
            "enterprises",
            "demands",
            "articles",
            "citizens",
            "citizen_profiles",
            "reviewers",
        )
    }
    citizens = _plan_citizens(streams["citizens"], geo, namer, sizes.citizens)
    enterprises = _plan_enterprises(streams["enterprises"], geo, namer, fields, sizes.enterprises)
    return DemoPlan(
        staff=_plan_staff(streams["staff"], geo, namer),
        workers=_plan_workers(streams["workers"], geo, namer, fields, sizes.workers)
        if with_workers
        else (),
        enterprises=enterprises,
        demands=_plan_demands(streams["demands"], geo, enterprises),
        articles=_plan_articles(streams["articles"], geo, sizes.articles),
        citizens=citizens,
        citizen_profiles=_plan_citizen_profiles(streams["citizen_profiles"], citizens),
        reviewers=_plan_reviewers(streams["reviewers"], namer),
    )


def _plan_reviewers(rng: random.Random, namer: _Namer) -> tuple[PersonSpec, ...]:
    return tuple(
        PersonSpec(
            username=username,
            display_name=namer.name(rng, SICHUAN[:4] + "00"),
            mobile=_mobile("reviewer", index),
            region_code=SICHUAN,
            joined_at=_moment_before(rng, days=900),
        )
        for index, username in enumerate(REVIEWER_ACCOUNTS, start=1)
    )


def _plan_staff(rng: random.Random, geo: _Geography, namer: _Namer) -> tuple[PersonSpec, ...]:
    staff = []
    for index, (username, code) in enumerate(STAFF_ACCOUNTS, start=1):
        if code not in geo.by_code:
            raise DemoError(f"region {code} for {username} is not loaded")
        staff.append(
            PersonSpec(
                username=username,
                display_name=namer.name(rng, code[:4] + "00"),
                mobile=_mobile("staff", index),
                region_code=code,
                joined_at=_moment_before(rng, days=900),
            )
        )
    return tuple(staff)


def _plan_workers(
    rng: random.Random, geo: _Geography, namer: _Namer, fields: _FieldPicker, count: int
) -> tuple[WorkerSpec, ...]:
    employers_by_field: dict[str, list[vocab.Employer]] = {}
    for unit in vocab.EMPLOYERS:
        for name in unit.fields:
            employers_by_field.setdefault(name, []).append(unit)
    workers = []
    for index in range(1, count + 1):
        # The first pass visits every county once, so each has at least one worker.
        first_pass = index <= len(geo.counties)
        county = geo.counties[index - 1] if first_pass else geo.pick_county(rng)
        city = geo.city(county)
        field = fields.pick(rng, city.code)
        employer, title, kind = _employer_and_title(rng, geo, county, field, employers_by_field)
        keywords = rng.sample(field.keywords, rng.randint(3, 5))
        field_names = [field.name]
        if rng.random() < 0.25:
            other = rng.choice(vocab.FIELDS)
            if other is not field:
                field_names.append(other.name)
                keywords.append(rng.choice(other.keywords))
        values = {
            "field": field.name,
            "k1": keywords[0],
            "k2": keywords[1],
            "k3": keywords[2],
            "k4": keywords[3] if len(keywords) > 3 else keywords[0],
            "years": rng.randint(5, 32),
            "count": rng.randint(3, 30),
            "served": rng.randint(3, 40),
            "area": rng.randrange(500, 30_001, 500),
            "county": county.name,
        }
        core = rng.choice(field.capabilities)
        openers = [
            o for o in vocab.CAPABILITY_OPENERS if "{years}" not in o or "{years}" not in core
        ]
        sentences = [rng.choice(openers), core]
        if rng.random() < 0.6:
            sentences.append(rng.choice(vocab.CAPABILITY_CLOSERS))
        capability = "".join(s.format(**values) for s in sentences)
        person = PersonSpec(
            username=_username(WORKER_PREFIX, index),
            display_name=namer.name(rng, city.code),
            mobile=_mobile("worker", index),
            region_code=county.code,
            joined_at=_moment_before(rng, days=1100),
        )
        workers.append(
            WorkerSpec(
                person=person,
                employer=employer,
                title=title,
                fields="、".join(field_names),
                keywords="、".join(keywords),
                capability=capability,
                verified=rng.random() < 0.65,
                industries=_codes(vocab.FIELD_INDUSTRIES, field_names),
                disciplines=_codes(vocab.FIELD_DISCIPLINES, field_names),
                service_modes=service_modes_of(capability, employer_kind=kind),
            )
        )
    return tuple(workers)


def _codes(table: dict[str, tuple[str, ...]], field_names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for name in field_names for code in table.get(name, ())))


_MODE_BY_LABEL = {str(label): value for value, label in ServiceMode.choices}


def service_modes_of(capability: str, *, employer_kind: str) -> int:
    """The service modes a capability text speaks of, with those usual for the employer's
    kind (a county agency guides on site and trains; an institute develops and transfers)."""
    labels = set(vocab.EMPLOYER_KIND_MODES.get(employer_kind, ()))
    labels |= {
        label for label, words in vocab.SERVICE_MODE_WORDS if any(w in capability for w in words)
    }
    return sum(_MODE_BY_LABEL[label] for label in labels)


def _employer_and_title(
    rng: random.Random,
    geo: _Geography,
    county: RegionRow,
    field: vocab.Field,
    employers_by_field: dict[str, list[vocab.Employer]],
) -> tuple[str, str, str]:
    """A provincial unit in the same city if there is one, otherwise mostly a county agency;
    some work for a unit based in Chengdu and are stationed in the county (科技特派员)."""
    candidates = employers_by_field.get(field.name, [])
    city_code = geo.city_code(county)
    nearby = [e for e in candidates if e.county[:4] == city_code[:4]]
    in_capital = [e for e in candidates if e.county.startswith("5101")]
    roll = rng.random()
    chosen: vocab.Employer | None = None
    if nearby and roll < 0.6:
        chosen = rng.choice(nearby)
    elif in_capital and roll > 0.8:
        chosen = rng.choice(in_capital)
    if chosen is None:
        template = rng.choice(field.local_employers)
        name = template.format(county=county.name, city=geo.city(county).name)
        return name, rng.choice(field.local_titles), "agency"
    titles = {
        "university": vocab.UNIVERSITY_TITLES,
        "institute": vocab.INSTITUTE_TITLES,
        "hospital": vocab.HOSPITAL_TITLES,
    }.get(chosen.kind, field.local_titles)
    return chosen.name, rng.choice(titles), chosen.kind


def _uscc(rng: random.Random, county_code: str) -> str:
    first17 = "91" + county_code + "".join(rng.choices(USCC_ALPHABET, k=9))
    return first17 + uscc_check_character(first17)


def _plan_enterprises(
    rng: random.Random, geo: _Geography, namer: _Namer, fields: _FieldPicker, count: int
) -> tuple[EnterpriseSpec, ...]:
    suffix_picker = _weighted_pairs(vocab.COMPANY_SUFFIXES)
    usccs: set[str] = set()
    stems: set[str] = set()
    enterprises = []
    for index in range(1, count + 1):
        county = geo.pick_county(rng)
        city = geo.city(county)
        field = fields.pick(rng, city.code)
        uscc = _uscc(rng, county.code)
        while uscc in usccs:
            uscc = _uscc(rng, county.code)
        usccs.add(uscc)
        short = geo.short_name(county)
        stem = short + rng.choice(vocab.BRAND_WORDS) + rng.choice(field.industry_words)
        while stem in stems:
            # Two brand words (蜀韵天府…) when the plain name is taken in this county.
            stem = (
                short + "".join(rng.sample(vocab.BRAND_WORDS, 2)) + rng.choice(field.industry_words)
            )
        stems.add(stem)
        suffix = suffix_picker.pick(rng)
        description = rng.choice(vocab.ENTERPRISE_DESCRIPTIONS).format(
            place=city.name + county.name if city.code != county.code else county.name,
            business=field.business,
            staff=rng.randrange(20, 801, 10),
            year=rng.randint(1998, 2023),
        )
        contact = PersonSpec(
            username=_username(ENTERPRISE_PREFIX, index),
            display_name=namer.name(rng, city.code),
            mobile=_mobile("enterprise", index),
            region_code=county.code,
            joined_at=_moment_before(rng, days=700),
        )
        enterprises.append(
            EnterpriseSpec(
                uscc=uscc,
                name=stem + suffix,
                region_code=county.code,
                industry=field.name,
                description=description,
                created_at=contact.joined_at,
                contact=contact,
            )
        )
    return tuple(enterprises)


_FIELDS_BY_NAME = {f.name: f for f in vocab.FIELDS}


def _plan_demands(
    rng: random.Random, geo: _Geography, enterprises: Sequence[EnterpriseSpec]
) -> tuple[DemandSpec, ...]:
    status_picker = _weighted_pairs(vocab.DEMAND_STATUSES)
    demands: list[DemandSpec] = []
    submitted = 0
    first_of_pair = 2
    for position, enterprise in enumerate(enterprises):
        # Pairs of enterprises share four demands: 1+3, 2+2 or 3+1.
        if position % 2 == 0:
            first_of_pair = rng.choice((1, 2, 3))
            count = first_of_pair
        else:
            count = 4 - first_of_pair
        field = _FIELDS_BY_NAME[enterprise.industry]
        for template in rng.sample(field.demands, count):
            values = {
                "product": rng.choice(field.products),
                "county": geo.by_code[enterprise.region_code].name,
                "small": rng.randint(2, 9),
                "mid": rng.randrange(10, 91, 5),
                "big": rng.randrange(200, 5001, 100),
                "huge": rng.randrange(5000, 80_001, 1000),
                "ratio": rng.randint(50, 85),
                "low": rng.randint(15, 35),
                "gain": rng.randint(10, 30),
                "days": rng.randint(3, 15),
                "people": rng.randrange(20, 201, 10),
            }
            description = "\n\n".join(
                (
                    "存在问题：" + template.problem.format(**values),
                    "现状：" + template.current.format(**values),
                    "目标指标：" + template.target.format(**values),
                    f"合作方式：{rng.choice(vocab.DEMAND_COOPERATION)}，"
                    f"预算约{rng.randrange(5, 201, 5)}万元。",
                )
            )
            age = BASE_MOMENT - enterprise.created_at
            status = status_picker.pick(rng)
            if (
                status == Demand.Status.DRAFT
                and len(demands) % 2 == 0
                and submitted < MAX_SUBMITTED
            ):
                # Half the drafts (up to a queue's worth) were submitted and wait for review.
                status = Demand.Status.SUBMITTED
                submitted += 1
            demands.append(
                DemandSpec(
                    uscc=enterprise.uscc,
                    title=template.title.format(**values),
                    description=description,
                    category=template.category,
                    industry=field.name,
                    status=status,
                    region_code=enterprise.region_code,
                    created_at=enterprise.created_at
                    + timedelta(seconds=int(age.total_seconds() * rng.random())),
                    problem=template.problem.format(**values),
                    current_state=template.current.format(**values),
                    target_indicators=template.target.format(**values),
                )
            )
    return tuple(demands)


def _plan_articles(rng: random.Random, geo: _Geography, count: int) -> tuple[ArticleSpec, ...]:
    staff_regions = dict(STAFF_ACCOUNTS)
    seen: set[tuple[str, str | None]] = set()
    articles = []
    themes = vocab.ARTICLE_THEMES
    for index in range(count):
        theme = themes[index % len(themes)]
        region = _article_region(rng, geo, theme)
        place = region.name if region else "四川"
        centre = (region or geo.province).centre_name
        region_code = region.code if region else None
        title = rng.choice(theme.titles).format(place=place)
        if rng.random() < 0.35:
            title = rng.choice(vocab.ARTICLE_SERIES) + title
        for _ in range(10):
            if (title, region_code) not in seen:
                break
            title = rng.choice(vocab.ARTICLE_SERIES) + rng.choice(theme.titles).format(place=place)
        base_title, issue = title, 2
        while (title, region_code) in seen:
            title, issue = f"{base_title}（第{issue}期）", issue + 1
        seen.add((title, region_code))
        picked = sorted(rng.sample(range(len(theme.points)), 3))
        paragraphs = [
            rng.choice(theme.intros).format(place=place),
            *(theme.points[i] for i in picked),
            rng.choice(vocab.ARTICLE_CLOSINGS).format(centre=centre),
        ]
        articles.append(
            ArticleSpec(
                title=title,
                summary=rng.choice(theme.summaries),
                body="\n\n".join(paragraphs),
                topic=theme.topic,
                region_code=region_code,
                published_at=_moment_before(rng, days=540),
                quiz=vocab.QUIZZES.get(theme.key, ()) if index % QUIZ_EVERY == 0 else (),
                author=_nearest_staff(geo, region_code, staff_regions),
                pending_review=index % PENDING_REVIEW_EVERY == QUIZ_EVERY,
            )
        )
    return tuple(articles)


def _nearest_staff(geo: _Geography, region_code: str | None, staff: dict[str, str]) -> str:
    """The demo staff account of the nearest centre at or above `region_code`."""
    by_region = {code: username for username, code in staff.items()}
    code = region_code
    while code is not None:
        if code in by_region:
            return by_region[code]
        code = geo.by_code[code].parent_code
    return by_region[geo.province.code]


def _article_region(
    rng: random.Random, geo: _Geography, theme: vocab.ArticleTheme
) -> RegionRow | None:
    """Province-wide (None) for about a third, otherwise a city or a county."""
    roll = rng.random()
    if roll < 0.3:
        return None
    cities = [geo.by_code[c] for c in theme.cities if c in geo.by_code] or geo.cities
    city = rng.choice(cities)
    if roll < 0.55:
        return city
    return rng.choice(geo.counties_of_city.get(city.code, [city]))


def _plan_citizens(
    rng: random.Random, geo: _Geography, namer: _Namer, count: int
) -> tuple[PersonSpec, ...]:
    citizens = []
    for index in range(1, count + 1):
        county = geo.pick_county(rng)
        townships = geo.townships.get(county.code, [])
        region = rng.choice(townships) if townships and rng.random() < 0.5 else county
        citizens.append(
            PersonSpec(
                username=_username(CITIZEN_PREFIX, index),
                display_name=namer.name(rng, geo.city_code(county)),
                mobile=_mobile("citizen", index),
                region_code=region.code,
                joined_at=_moment_before(rng, days=500),
            )
        )
    return tuple(citizens)


# Occupation shares of demo citizens, and the age bands and topics that go with each.
_OCCUPATIONS: tuple[tuple[str, int], ...] = (
    (Segment.FARMER, 35),
    (Segment.ENTERPRISE_WORKER, 20),
    (Segment.ELDERLY, 15),
    (Segment.STUDENT, 10),
    (Segment.OTHER, 10),
    (Segment.LEFT_BEHIND_CHILD, 5),
    (Segment.CADRE, 5),
)
_AGE_BANDS: dict[str, tuple[str, ...]] = {
    Segment.STUDENT: (AgeBand.AGE_14_17, AgeBand.AGE_18_35),
    Segment.LEFT_BEHIND_CHILD: (AgeBand.UNDER_14,),
    Segment.ELDERLY: (AgeBand.AGE_60_PLUS,),
}
_WORKING_AGE = (AgeBand.AGE_18_35, AgeBand.AGE_36_59, AgeBand.AGE_36_59, AgeBand.AGE_60_PLUS)
_FAVOURITE_TOPIC: dict[str, str] = {
    Segment.FARMER: Topic.AGRICULTURE,
    Segment.ELDERLY: Topic.HEALTH,
    Segment.STUDENT: Topic.TECHNOLOGY,
    Segment.LEFT_BEHIND_CHILD: Topic.FLOOD,
    Segment.ENTERPRISE_WORKER: Topic.ANTI_FRAUD,
    Segment.CADRE: Topic.ECOLOGY,
}
_CROPS = ("水稻", "油菜", "茶叶", "柑橘", "猕猴桃", "生猪", "中药材", "玉米")
CONSENT_SHARE = 0.7


def _plan_citizen_profiles(
    rng: random.Random, citizens: Sequence[PersonSpec]
) -> tuple[CitizenProfileSpec, ...]:
    occupations = _weighted_pairs(_OCCUPATIONS)
    topics = [t for t in Topic.values if t != Topic.DISASTER]
    profiles = []
    for person in citizens:
        occupation = occupations.pick(rng)
        age_band = rng.choice(_AGE_BANDS.get(occupation, _WORKING_AGE))
        chosen = set(rng.sample(topics, rng.randint(0, 2)))
        if occupation in _FAVOURITE_TOPIC and rng.random() < 0.8:
            chosen.add(_FAVOURITE_TOPIC[occupation])
        crops = "、".join(rng.sample(_CROPS, 2)) if occupation == Segment.FARMER else ""
        profiles.append(
            CitizenProfileSpec(
                username=person.username,
                region_code=person.region_code,
                occupation=occupation,
                age_band=age_band,
                interests=tuple(t for t in Topic.values if t in chosen),
                crops=crops,
                consent=rng.random() < CONSENT_SHARE,
            )
        )
    return tuple(profiles)


# --- Writing the plan ---------------------------------------------------------------------


def province_region_rows(province_code: str) -> tuple[RegionRow, ...]:
    """The province's regions with their centres' names, in code order."""
    centres = dict(
        ServiceCentre.objects.filter(region__path__startswith=f"{province_code}/").values_list(
            "region_id", "name"
        )
    )
    rows = province_regions(province_code).order_by("code")
    return tuple(
        RegionRow(
            code=code,
            name=name,
            level=level,
            parent_code=parent,
            centre_name=centres.get(code, ""),
        )
        for code, name, level, parent in rows.values_list("code", "name", "level", "parent_id")
    )


def demo_seed(
    *, scale: str, seed: int, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """Seed the demo data set; rows that already exist (by natural key) are left alone."""
    scale_get(scale)
    province = settings.DEPLOYMENT_PROVINCE
    if province != SICHUAN:
        raise DemoError(
            f"the demo data is written for Sichuan ({SICHUAN}); DEPLOYMENT_PROVINCE is {province}"
        )
    say = progress or (lambda _message: None)
    with transaction.atomic():
        regions_load()
        service_centres_ensure(province_code=province)
        plan = demo_plan(scale=scale, seed=seed, regions=province_region_rows(province))
        say(
            f"planned {len(plan.workers)} workers, {len(plan.enterprises)} enterprises, "
            f"{len(plan.demands)} demands, {len(plan.articles)} articles, "
            f"{len(plan.citizens)} citizens"
        )
        return _Writer(plan, scale=scale, seed=seed, say=say).write()


M = TypeVar("M", bound=models.Model)


def _batches(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    def __init__(
        self, plan: DemoPlan, *, scale: str, seed: int, say: Callable[[str], None]
    ) -> None:
        self.plan = plan
        self.seed = seed
        self.say = say
        self.login_usernames = set(demo_login_usernames(scale=scale))
        self._password_hash: str | None = None

    def write(self) -> DemoResult:
        plan = self.plan
        self._refuse_other_seed()
        enterprises = self._create(
            "enterprises", Organisation, self._new_enterprises(plan.enterprises)
        )
        org_ids = self._org_ids()
        existing = set(
            User.objects.filter(username__startswith=USERNAME_PREFIX).values_list(
                "username", flat=True
            )
        )
        taken_mobiles = self._taken_mobiles()
        centres = dict(
            ServiceCentre.objects.filter(
                region_id__in=[s.region_code for s in plan.staff]
            ).values_list("region_id", "id")
        )

        def new_users(
            people: Iterable[PersonSpec], role: str, **extra: Callable[[PersonSpec], object]
        ) -> list[User]:
            return [
                self._user(p, role, taken_mobiles, **{k: f(p) for k, f in extra.items()})
                for p in people
                if p.username not in existing
            ]

        staff = self._create(
            "staff",
            User,
            new_users(plan.staff, Role.STAFF, centre_id=lambda p: centres[p.region_code]),
        )
        workers = self._create(
            "worker accounts", User, new_users((w.person for w in plan.workers), Role.WORKER)
        )
        org_of_contact = {e.contact.username: org_ids[e.uscc] for e in plan.enterprises}
        enterprise_users = self._create(
            "enterprise accounts",
            User,
            new_users(
                (e.contact for e in plan.enterprises),
                Role.ENTERPRISE,
                organisation_id=lambda p: org_of_contact[p.username],
            ),
        )
        citizens = self._create("citizens", User, new_users(plan.citizens, Role.CITIZEN))
        reviewers = self._create("reviewers", User, new_users(plan.reviewers, Role.REVIEWER))
        if AUDITOR_ACCOUNT not in existing:
            # One account, no mobile: the auditor signs in by username.
            User.objects.create(
                username=AUDITOR_ACCOUNT,
                password=self._password_for(AUDITOR_ACCOUNT),
                display_name="安全审计员",
                role=Role.AUDITOR,
                region_id=SICHUAN,
                date_joined=BASE_MOMENT,
            )
        citizen_profiles = self._create_citizen_profiles()
        new_profiles = self._new_profiles()
        profiles = self._create("worker profiles", TalentProfile, new_profiles)
        self._classify_profiles(new_profiles)
        demands = self._create("demands", Demand, self._new_demands(org_ids))
        articles = self._create("articles", Article, self._new_articles())
        # Only the province centre may ask to see personal numbers in full (item 17).
        User.objects.get(username=STAFF_ACCOUNTS[0][0]).user_permissions.add(
            Permission.objects.get(content_type__app_label="accounts", codename="unmask_personal")
        )
        return DemoResult(
            staff=staff,
            workers=workers,
            profiles=profiles,
            enterprises=enterprises,
            enterprise_users=enterprise_users,
            demands=demands,
            articles=articles,
            citizens=citizens,
            citizen_profiles=citizen_profiles,
            reviewers=reviewers,
        )

    def _refuse_other_seed(self) -> None:
        """Usernames do not depend on the seed, USCCs do: mixing seeds would leave
        enterprises without accounts, so a database seeded with another seed is refused."""
        if not self.plan.enterprises:
            return
        first = self.plan.enterprises[0]
        held = list(
            User.objects.filter(username=first.contact.username).values_list(
                "organisation__uscc", flat=True
            )
        )
        if held and held[0] != first.uscc:
            raise DemoError(
                "this database already holds demo data seeded with another --seed; "
                "seed again with that seed, or remove the demo_* accounts and their data first"
            )

    def _create(self, label: str, model: type[M], objects: Sequence[M]) -> int:
        done = 0
        for batch in _batches(objects):
            model._default_manager.bulk_create(batch)
            done += len(batch)
            if done % 20_000 < BATCH_SIZE or done == len(objects):
                self.say(f"{label}: {done}/{len(objects)} created")
        if not objects:
            self.say(f"{label}: nothing to create")
        return done

    # Enterprises ------------------------------------------------------------------------

    def _org_ids(self) -> dict[str, int]:
        rows = Organisation.objects.filter(uscc__startswith="9151").values_list("uscc", "id")
        return {uscc: pk for uscc, pk in rows if uscc}

    def _new_enterprises(self, specs: Sequence[EnterpriseSpec]) -> list[Organisation]:
        existing = self._org_ids()
        return [
            Organisation(
                kind=Organisation.Kind.ENTERPRISE,
                name=e.name,
                uscc=e.uscc,
                region_id=e.region_code,
                industry=e.industry,
                description=e.description,
                created_at=e.created_at,
            )
            for e in specs
            if e.uscc not in existing
        ]

    # Users ------------------------------------------------------------------------------

    def _taken_mobiles(self) -> dict[str, str]:
        """Registered mobile numbers (by keyed hash: numbers are sealed), with who holds them."""
        rows = User.objects.filter(mobile_hash__isnull=False).values_list("mobile_hash", "username")
        return {h: u for h, u in rows if h}

    def _password_for(self, username: str) -> str:
        if username in self.login_usernames:
            if self._password_hash is None:
                # One Argon2 hash, shared by the few demo login accounts.
                self._password_hash = make_password(DEMO_PASSWORD)
            return self._password_hash
        # Unusable ("!" prefix) yet deterministic: no hashing for 100k accounts.
        digest = hashlib.sha256(f"kejiyun-demo:{self.seed}:{username}".encode()).hexdigest()
        return "!" + digest[:40]

    def _user(
        self, person: PersonSpec, role: str, taken_mobiles: dict[str, str], **extra: object
    ) -> User:
        holder = taken_mobiles.get(mobile_lookup(person.mobile))
        user = User(
            username=person.username,
            password=self._password_for(person.username),
            password_changed_at=timezone.now(),
            display_name=person.display_name,
            role=role,
            region_id=person.region_code,
            date_joined=person.joined_at,
            **extra,
        )
        user.mobile = person.mobile if holder in (None, person.username) else None
        return user

    def _new_profiles(self) -> list[TalentProfile]:
        user_ids = dict(
            User.objects.filter(username__startswith=WORKER_PREFIX).values_list("username", "id")
        )
        with_profile = set(
            TalentProfile.objects.filter(user__username__startswith=WORKER_PREFIX).values_list(
                "user_id", flat=True
            )
        )
        return [
            TalentProfile(
                user_id=user_ids[w.person.username],
                region_id=w.person.region_code,
                employer=w.employer,
                title=w.title,
                fields=w.fields,
                keywords=w.keywords,
                capability=w.capability,
                service_modes=w.service_modes,
                verified=w.verified,
                directory_consent=True,
                # Verified by the centre two days after joining (the rollups count the day).
                verified_at=(
                    min(w.person.joined_at + timedelta(days=2), BASE_MOMENT) if w.verified else None
                ),
                created_at=w.person.joined_at,
            )
            for w in self.plan.workers
            if user_ids[w.person.username] not in with_profile
        ]

    def _classify_profiles(self, profiles: Sequence[TalentProfile]) -> None:
        """The disciplines and industries of the new profiles (codes not loaded are left
        out: `load_classifications` has not run)."""
        specs = {w.person.username: w for w in self.plan.workers}
        usernames = dict(
            User.objects.filter(pk__in=[p.user_id for p in profiles]).values_list("id", "username")
        )
        known_disciplines = set(Discipline.objects.values_list("code", flat=True))
        known_industries = set(Industry.objects.values_list("code", flat=True))
        disciplines = TalentProfile.disciplines.through
        industries = TalentProfile.industries.through
        d_rows, i_rows = [], []
        for profile in profiles:
            spec = specs[usernames[profile.user_id]]
            d_rows += [
                disciplines(talentprofile_id=profile.pk, discipline_id=code)
                for code in spec.disciplines
                if code in known_disciplines
            ]
            i_rows += [
                industries(talentprofile_id=profile.pk, industry_id=code)
                for code in spec.industries
                if code in known_industries
            ]
        disciplines.objects.bulk_create(d_rows, batch_size=BATCH_SIZE)
        industries.objects.bulk_create(i_rows, batch_size=BATCH_SIZE)

    # Demands and articles ---------------------------------------------------------------

    def _new_demands(self, org_ids: dict[str, int]) -> list[Demand]:
        existing = set(
            Demand.objects.filter(organisation__uscc__startswith="9151").values_list(
                "organisation_id", "title"
            )
        )
        return [
            Demand(
                organisation_id=org_ids[d.uscc],
                region_id=d.region_code,
                title=d.title,
                description=d.description,
                category=d.category,
                industry=d.industry,
                # The industry the demand form would have asked for: the field's first
                # GB/T class. The discipline is left to inference from the text.
                industry_class_id=(vocab.FIELD_INDUSTRIES.get(d.industry) or (None,))[0],
                problem=d.problem,
                current_state=d.current_state,
                target_indicators=d.target_indicators,
                # Submitted ones are submitted through the service (kejiyun/demo/workflows.py).
                status=Demand.Status.DRAFT if d.status == Demand.Status.SUBMITTED else d.status,
                created_at=d.created_at,
                # Published (accepted by staff) an hour after it was written; its case, if
                # any, opens later (kejiyun/demo/cases.py).
                submitted_at=d.created_at if d.status in PUBLISHED_STATUSES else None,
                published_at=(
                    d.created_at + timedelta(hours=1) if d.status in PUBLISHED_STATUSES else None
                ),
            )
            for d in self.plan.demands
            if (org_ids[d.uscc], d.title) not in existing
        ]

    def _new_articles(self) -> list[Article]:
        """Articles without a quiz, published by the centre of their region (the province's
        for province-wide ones); those with a quiz go through the content services."""
        existing = set(Article.objects.values_list("title", "region_id"))
        province = settings.DEPLOYMENT_PROVINCE
        centres = dict(
            ServiceCentre.objects.filter(
                region_id__in={a.region_code or province for a in self.plan.articles}
            ).values_list("region_id", "id")
        )
        return [
            Article(
                title=a.title,
                summary=a.summary,
                body=a.body,
                topic=a.topic,
                region_id=a.region_code,
                centre_id=centres[a.region_code or province],
                status=Article.Status.PUBLISHED,
                published_at=a.published_at,
            )
            for a in self.plan.articles
            if not a.quiz and (a.title, a.region_code) not in existing
        ]

    # Citizens' targeting profiles and consent -------------------------------------------

    def _create_citizen_profiles(self) -> int:
        """Profiles for demo citizens who have none, with a consent record for those who
        consented (to the current policy version, at the moment they joined)."""
        user_ids = dict(
            User.objects.filter(username__startswith=CITIZEN_PREFIX).values_list("username", "id")
        )
        with_profile = set(
            CitizenProfile.objects.filter(user__username__startswith=CITIZEN_PREFIX).values_list(
                "user_id", flat=True
            )
        )
        joined = {p.username: p.joined_at for p in self.plan.citizens}
        version = current_consent_version()
        specs = [
            c
            for c in self.plan.citizen_profiles
            if c.username in user_ids and user_ids[c.username] not in with_profile
        ]
        created = self._create(
            "citizen profiles",
            CitizenProfile,
            [
                CitizenProfile(
                    user_id=user_ids[c.username],
                    region_id=c.region_code,
                    region_code=c.region_code,
                    occupation=c.occupation,
                    age_band=c.age_band,
                    interests=list(c.interests),
                    interest_bits=interest_mask(c.interests),
                    crops=c.crops,
                    targeting_consent=c.consent,
                    consent_version=version if c.consent else "",
                    updated_at=joined[c.username],
                )
                for c in specs
            ],
        )
        profile_ids = dict(
            CitizenProfile.objects.filter(
                user_id__in=[user_ids[c.username] for c in specs if c.consent]
            ).values_list("user_id", "id")
        )
        ConsentRecord.objects.bulk_create(
            [
                ConsentRecord(
                    citizen_id=profile_ids[user_ids[c.username]],
                    version=version,
                    granted=True,
                    created_at=joined[c.username],
                )
                for c in specs
                if c.consent
            ],
            batch_size=BATCH_SIZE,
        )
        return created
