"""Turn platform rows into the matching engine's dataclasses, and back into Chinese labels.

The engine (`kejiyun_match`) knows nothing of Django; this module is the one place that
decides which model fields make up the text, region, disciplines and organisation of a
profile or a query.
"""

from __future__ import annotations

import re

from kejiyun.demands.models import Demand
from kejiyun.matching.fields import Classes
from kejiyun.matching.stats import ExpertStats
from kejiyun.talent.models import TalentProfile, Team, TechResult
from kejiyun_match import ConflictPolicy, MatchQuery, Profile, RegionTiers

EXPERT_KIND = "expert"
DEMAND_KIND = "demand"
TEAM_KINDS = ("team", "studio")  # Team.Kind values
RESULT_KIND = "result"

# The Chengdu–Chongqing economic circle (成渝地区双城经济圈) as region-code prefixes:
# Chongqing ("50") and the fifteen Sichuan cities named in the 规划范围 of 中共中央、国务院
# 《成渝地区双城经济圈建设规划纲要》(2021). The plan leaves out a few outlying counties of
# some of these cities and of Chongqing; whole cities are used here (a small boost only).
CHENGYU_PREFIXES: frozenset[str] = frozenset(
    {
        "50",  # 重庆
        "5101",  # 成都
        "5103",  # 自贡
        "5105",  # 泸州
        "5106",  # 德阳
        "5107",  # 绵阳
        "5109",  # 遂宁
        "5110",  # 内江
        "5111",  # 乐山
        "5113",  # 南充
        "5114",  # 眉山
        "5115",  # 宜宾
        "5116",  # 广安
        "5117",  # 达州
        "5118",  # 雅安
        "5120",  # 资阳
    }
)
CHENGYU_TIER = "chengyu"

# "Local first, then 成渝, province, nation": 成渝 sits between the city and the province.
REGION_TIERS = RegionTiers(
    county=1.0,
    city=0.7,
    groups=((CHENGYU_TIER, 0.5, CHENGYU_PREFIXES),),
    province=0.3,
    nation=0.0,
)

REGION_TIER_LABELS: dict[str, str] = {
    "county": "本县",
    "city": "本市",
    CHENGYU_TIER: "成渝",
    "province": "本省",
    "nation": "全国",
    "unknown": "未知",
}

_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_terms(value: str) -> tuple[str, ...]:
    """The items of a list typed into one field ("茶学、植物保护, 土壤"), in order, once each."""
    return tuple(dict.fromkeys(part for part in _SEPARATORS.split(value) if part))


def region_tier_label(tier: str) -> str:
    return REGION_TIER_LABELS.get(tier, tier)


def _join(*parts: str) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def expert_id(profile_pk: int) -> str:
    return f"{EXPERT_KIND}:{profile_pk}"


def demand_id(demand_pk: int) -> str:
    return f"{DEMAND_KIND}:{demand_pk}"


def team_id(team_pk: int) -> str:
    return f"team:{team_pk}"


def result_id(result_pk: int) -> str:
    return f"{RESULT_KIND}:{result_pk}"


def pk_of(match_id: str) -> int:
    """The database id behind an engine id such as "expert:12"."""
    return int(match_id.rsplit(":", 1)[1])


def _profile_fields(tp: TalentProfile, classes: Classes) -> tuple[tuple[str, ...], ...]:
    """A worker's discipline and industry paths: the ones on the profile (read from a
    prefetch when there is one), or inferred from 专业领域 and 关键词 when it names none."""
    focus = _join(tp.fields, tp.keywords)
    disciplines = tuple(classes.discipline_path(d.pk) for d in tp.disciplines.all())
    industries = tuple(classes.industry_path(i.pk) for i in tp.industries.all())
    return (
        disciplines or classes.infer_disciplines(focus),
        industries or classes.infer_industries(focus),
    )


def talent_profile_text(tp: TalentProfile) -> str:
    """What a worker's profile says, as the text a demand is matched against."""
    return _join(tp.title, tp.employer, tp.fields, tp.keywords, tp.capability)


def team_text(team: Team) -> str:
    return _join(team.name, team.fields, team.keywords, team.description)


def result_text(result: TechResult) -> str:
    return _join(result.title, result.fields, result.summary)


def demand_text(demand: Demand) -> str:
    """Everything the enterprise wrote about its need: title, industry, description, the
    problem to solve, the current state and the targets."""
    return _join(
        demand.title,
        demand.industry,
        demand.description,
        demand.problem,
        demand.current_state,
        demand.target_indicators,
    )


def _demand_fields(demand: Demand, classes: Classes) -> tuple[tuple[str, ...], ...]:
    """A demand's discipline and industry paths: the classes chosen on the form, the
    industry named in words (paper forms, imports), or inferred from its text."""
    focus = _join(demand.title, demand.industry, demand.problem)
    if demand.industry_class_id:
        industries: tuple[str, ...] = (classes.industry_path(demand.industry_class_id),)
    else:
        named = classes.industry_of_name(demand.industry) if demand.industry else None
        industries = (named,) if named else classes.infer_industries(focus)
    disciplines = (
        (classes.discipline_path(demand.discipline_id),)
        if demand.discipline_id
        else classes.infer_disciplines(focus)
    )
    return disciplines, industries


def talent_profile_to_match(
    tp: TalentProfile, classes: Classes, stats: ExpertStats | None = None
) -> Profile:
    """An S&T worker's profile as something a demand can be matched to; `stats` (from
    `kejiyun.matching.stats`) adds their load, solved cases and ratings."""
    stats = stats or ExpertStats()
    disciplines, industries = _profile_fields(tp, classes)
    return Profile(
        id=expert_id(tp.pk),
        text=talent_profile_text(tp),
        kind=EXPERT_KIND,
        region_path=tp.region.path,
        disciplines=disciplines,
        industries=industries,
        service_modes=tuple(tp.service_mode_labels),
        organisation=tp.employer.strip(),
        verified=tp.verified,
        capacity=getattr(tp, "capacity", 0) or 0,
        load=stats.load,
        closed_cases=stats.closed_cases,
        mean_rating=stats.mean_rating,
    )


def talent_profile_query_text(tp: TalentProfile) -> str:
    return _join(tp.fields, tp.keywords, tp.capability)


def talent_profile_to_query(tp: TalentProfile, classes: Classes) -> MatchQuery:
    """What an S&T worker offers, as a query for demands. Conflicting demands are left out."""
    disciplines, industries = _profile_fields(tp, classes)
    return MatchQuery(
        text=talent_profile_query_text(tp),
        region_path=tp.region.path,
        disciplines=disciplines,
        industries=industries,
        kinds=(DEMAND_KIND,),
        organisation=tp.employer.strip(),
        conflict_policy=ConflictPolicy.EXCLUDE,
    )


def demand_to_query(demand: Demand, classes: Classes) -> MatchQuery:
    """A demand, all of it, as a query for experts. Conflicts are kept and flagged so staff
    see them."""
    disciplines, industries = _demand_fields(demand, classes)
    return MatchQuery(
        text=demand_text(demand),
        region_path=demand.region.path,
        disciplines=disciplines,
        industries=industries,
        kinds=(EXPERT_KIND,),
        organisation=demand.organisation.name.strip(),
        category=demand.category,
        conflict_policy=ConflictPolicy.FLAG,
    )


def demand_query_inputs(demand: Demand) -> tuple[object, ...]:
    """Everything `demand_to_query` reads of a demand (the classes aside), cheap to take:
    a key for what is kept of its rankings without building the query (inferring its
    fields from the text costs a millisecond or more)."""
    return (
        demand_text(demand),
        demand.industry_class_id,
        demand.discipline_id,
        demand.region.path,
        demand.organisation.name,
        demand.category,
    )


def team_to_match(team: Team, classes: Classes) -> Profile:
    """A team or studio as something a demand can be matched to."""
    host = team.host_organisation.name.strip() if team.host_organisation else ""
    return Profile(
        id=team_id(team.pk),
        text=team_text(team),
        kind=team.kind,
        region_path=team.region.path,
        disciplines=classes.infer_disciplines(_join(team.fields, team.keywords)),
        industries=classes.infer_industries(_join(team.fields, team.keywords)),
        organisation=host or team.lead.employer.strip(),
    )


def result_to_match(result: TechResult, classes: Classes) -> Profile:
    """An S&T result (科技成果) as something a demand can be matched to; it sits where its
    owner (a worker or a team) is."""
    if result.owner_profile is not None:
        region, organisation = result.owner_profile.region, result.owner_profile.employer
    else:
        team = result.owner_team
        assert team is not None  # a database constraint: exactly one owner
        region = team.region
        organisation = team.host_organisation.name if team.host_organisation else ""
    return Profile(
        id=result_id(result.pk),
        text=result_text(result),
        kind=RESULT_KIND,
        region_path=region.path,
        disciplines=classes.infer_disciplines(_join(result.title, result.fields)),
        industries=classes.infer_industries(_join(result.title, result.fields)),
        organisation=organisation.strip(),
        verified=result.for_transfer,
    )


def demand_to_profile(demand: Demand, classes: Classes) -> Profile:
    """A demand as something an expert can be matched to (the reverse direction)."""
    disciplines, industries = _demand_fields(demand, classes)
    return Profile(
        id=demand_id(demand.pk),
        text=demand_text(demand),
        kind=DEMAND_KIND,
        region_path=demand.region.path,
        disciplines=disciplines,
        industries=industries,
        organisation=demand.organisation.name.strip(),
    )
