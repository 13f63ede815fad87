"""The review's pure rules: conflicts of interest, the assignment planner, scores, ranking,
proposed levels and outliers (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kejiyun.common.levels import Level
from kejiyun.recognition.review.assignment import (
    NO_CAPACITY,
    NO_ELIGIBLE,
    Fit,
    expertise_fits,
    plan_assignments,
)
from kejiyun.recognition.review.conflicts import (
    ApplicationFacts,
    ReviewerFacts,
    conflict_reason,
    normalise_employer,
)
from kejiyun.recognition.review.ranking import (
    Entry,
    Marks,
    application_score,
    criterion_outliers,
    rank_entries,
    reviewer_total,
    total_outliers,
)

EMPLOYERS = ["四川农业大学", "四川大学", "西南交通大学", "省农科院", "成都中医药大学"]
COUNTIES = ["510104", "510105", "510822", "511802"]
NAMES = ["张建国", "李秀英", "王志强", "刘海燕", "陈明", "杨帆"]


# --- Conflicts ----------------------------------------------------------------------------


def _reviewer(**kw: object) -> ReviewerFacts:
    values: dict[str, object] = {"id": "1", "user_id": 1, "name": "张建国"}
    values.update(kw)
    return ReviewerFacts(**values)  # type: ignore[arg-type]


def _application(**kw: object) -> ApplicationFacts:
    values: dict[str, object] = {"id": "9", "applicant_id": 99}
    values.update(kw)
    return ApplicationFacts(**values)  # type: ignore[arg-type]


def test_each_conflict_rule_names_its_reason_and_an_unrelated_reviewer_has_none() -> None:
    app = _application(
        people=frozenset({99, 50}),
        organisations=frozenset({7}),
        employers=frozenset({"四川农业大学（雅安校区）"}),
        named_people="李秀英（合作专家）\n王五",
        text="工作室由刘海燕牵头建设",
        county="510104",
    )
    same_county = {"exclude_same_county": True}
    cases = [
        (_reviewer(user_id=99), "本人申报或为申报团队成员"),
        (_reviewer(user_id=50), "本人申报或为申报团队成员"),
        (_reviewer(organisation_id=7), "与申报方为同一单位"),
        (_reviewer(employer="四川农业大学 (雅安校区)"), "与申报方工作单位相同"),
        (_reviewer(name="李秀英"), "申报材料中列有该专家"),
        (_reviewer(name="刘海燕"), "申报材料中列有该专家"),
        (_reviewer(county="510104"), "与申报方同属一个区县"),
        (_reviewer(case_enterprises=frozenset({7})), "曾为申报单位提供对接服务"),
        (_reviewer(case_partners=frozenset({50})), "曾与申报人共同服务案例"),
    ]
    for reviewer, reason in cases:
        assert conflict_reason(reviewer, app, **same_county) == reason
    assert conflict_reason(_reviewer(county="510104"), app, exclude_same_county=False) == ""
    assert (
        conflict_reason(
            _reviewer(employer="四川大学", county="510822", organisation_id=8), app, **same_county
        )
        == ""
    )
    # A one-character name is not "named" by every text that contains that character.
    assert conflict_reason(_reviewer(name="王"), app, **same_county) == ""


def test_employers_compare_without_spaces_punctuation_or_width() -> None:
    assert normalise_employer(" 四川农业大学（雅安） ") == normalise_employer("四川农业大学(雅安)")
    assert normalise_employer("ＡＢＣ 公司") == normalise_employer("abc公司")


# --- The planner, by property --------------------------------------------------------------

reviewer_strategy = st.builds(
    lambda i, name, employer, org, county, enterprises, partners: ReviewerFacts(
        id=str(i),
        user_id=i,
        name=name,
        employer=employer,
        organisation_id=org,
        county=county,
        case_enterprises=frozenset(enterprises),
        case_partners=frozenset(partners),
    ),
    st.integers(1, 40),
    st.sampled_from(NAMES),
    st.sampled_from(["", *EMPLOYERS]),
    st.one_of(st.none(), st.integers(1, 5)),
    st.sampled_from(["", *COUNTIES]),
    st.sets(st.integers(1, 5), max_size=2),
    st.sets(st.integers(1, 60), max_size=3),
)

application_strategy = st.builds(
    lambda i, applicant, people, orgs, employers, named, county: ApplicationFacts(
        id=str(100 + i),
        applicant_id=applicant,
        people=frozenset({applicant, *people}),
        organisations=frozenset(orgs),
        employers=frozenset(employers),
        named_people="\n".join(named),
        text="茶叶绿色防控科创工作室",
        county=county,
    ),
    st.integers(1, 30),
    st.integers(1, 60),
    st.sets(st.integers(1, 60), max_size=3),
    st.sets(st.integers(1, 5), max_size=2),
    st.sets(st.sampled_from(EMPLOYERS), max_size=2),
    st.sets(st.sampled_from(NAMES), max_size=2),
    st.sampled_from(COUNTIES),
)


@settings(max_examples=120, deadline=None)
@given(
    reviewers=st.lists(reviewer_strategy, min_size=0, max_size=12, unique_by=lambda r: r.id),
    applications=st.lists(application_strategy, min_size=1, max_size=8, unique_by=lambda a: a.id),
    per_application=st.integers(1, 4),
    batch_load=st.integers(1, 5),
    exclude_same_county=st.booleans(),
    data=st.data(),
)
def test_the_planner_never_assigns_a_conflict_a_reviewer_twice_or_over_their_load(
    reviewers: list[ReviewerFacts],
    applications: list[ApplicationFacts],
    per_application: int,
    batch_load: int,
    exclude_same_county: bool,
    data: st.DataObject,
) -> None:
    rids = [r.id for r in reviewers]
    loads = {r: data.draw(st.integers(0, 6)) for r in rids}
    # Assignments the batch already has (earlier runs): never in conflict, never repeated.
    already: dict[str, frozenset[str]] = {}
    used: dict[str, int] = dict.fromkeys(rids, 0)
    by_id = {r.id: r for r in reviewers}
    for app in applications:
        picked = data.draw(st.sets(st.sampled_from(rids), max_size=2)) if rids else set()
        ok = {
            r
            for r in picked
            if not conflict_reason(by_id[r], app, exclude_same_county=exclude_same_county)
            and used[r] < min(loads[r], batch_load)
        }
        already[app.id] = frozenset(ok)
        for r in ok:
            used[r] += 1
    fits = {
        a.id: {r: Fit(data.draw(st.floats(0, 1))) for r in rids if data.draw(st.booleans())}
        for a in applications
    }
    plan = plan_assignments(
        reviewers=reviewers,
        applications=applications,
        loads=loads,
        fits=fits,
        already=already,
        used=used,
        per_application=per_application,
        batch_load=batch_load,
        exclude_same_county=exclude_same_county,
    )
    apps = {a.id: a for a in applications}
    pairs = [(p.application_id, p.reviewer_id) for p in plan.assignments]
    assert len(pairs) == len(set(pairs))
    for app_id, reviewer_id in pairs:
        assert reviewer_id not in already[app_id]
        assert not conflict_reason(
            by_id[reviewer_id], apps[app_id], exclude_same_county=exclude_same_county
        )
    for reviewer_id in rids:
        new = sum(1 for _, r in pairs if r == reviewer_id)
        assert used[reviewer_id] + new <= max(
            used[reviewer_id], min(loads[reviewer_id], batch_load)
        )
    for app_id in apps:
        total = len(already[app_id]) + sum(1 for a, _ in pairs if a == app_id)
        assert total <= max(per_application, len(already[app_id]))
        if total < per_application:
            assert plan.shortfalls[app_id] in (NO_ELIGIBLE, NO_CAPACITY)
        else:
            assert app_id not in plan.shortfalls


def test_the_planner_prefers_the_better_fit_and_explains_a_shortfall() -> None:
    tea = _reviewer(id="1", user_id=1, name="张建国", county="510822")
    pig = _reviewer(id="2", user_id=2, name="李秀英", county="510822")
    same_county = _reviewer(id="3", user_id=3, name="王志强", county="510104")
    app = _application(id="9", county="510104")
    plan = plan_assignments(
        reviewers=[tea, pig, same_county],
        applications=[app],
        loads={"1": 5, "2": 5, "3": 5},
        fits={"9": {"1": Fit(0.9, ("茶叶", "绿色防控")), "2": Fit(0.1), "3": Fit(1.0)}},
        already={},
        used={},
        per_application=1,
        batch_load=5,
        exclude_same_county=True,
    )
    assert [(p.reviewer_id, p.fit.reasons) for p in plan.assignments] == [("1", "茶叶、绿色防控")]
    assert plan.shortfalls == {}
    short = plan_assignments(
        reviewers=[tea, pig, same_county],
        applications=[app],
        loads={"1": 5, "2": 5, "3": 5},
        fits={},
        already={},
        used={"1": 5, "2": 5},
        per_application=3,
        batch_load=5,
        exclude_same_county=True,
    )
    assert short.assignments == [] and short.shortfalls == {"9": NO_ELIGIBLE}
    full = plan_assignments(
        reviewers=[tea, pig],
        applications=[app],
        loads={"1": 5, "2": 5},
        fits={},
        already={},
        used={"1": 5, "2": 5},
        per_application=2,
        batch_load=5,
        exclude_same_county=True,
    )
    assert full.assignments == [] and full.shortfalls == {"9": NO_CAPACITY}


def test_expertise_fit_reasons_are_real_shared_words_never_digits_or_single_characters() -> None:
    reviewers = {
        "1": "茶学、植物保护\n茶叶、绿色防控\n"
        "长期从事茶叶病虫害绿色防控和茶园土壤改良，2019年起指导30个茶园。",
        "2": "畜牧兽医\n生猪养殖、非洲猪瘟\n从事生猪健康养殖和疫病防控20年。",
    }
    applications = {
        "10": "雅安茶叶绿色防控科创工作室\n2024年服务茶园30个，推广茶叶病虫害绿色防控技术。",
        "11": "生猪疫病防控服务案例\n2023年帮助养殖场建立非洲猪瘟防控体系。",
    }
    fits = expertise_fits(
        reviewers, applications, vocabulary={"绿色防控", "非洲猪瘟", "生猪养殖", "茶叶"}
    )
    assert fits["10"]["1"].score > fits["10"].get("2", Fit(0.0)).score
    assert fits["11"]["2"].score > fits["11"].get("1", Fit(0.0)).score
    assert {"茶叶", "绿色防控"} <= set(fits["10"]["1"].terms)
    assert "非洲猪瘟" in fits["11"]["2"].terms
    for row in fits.values():
        for fit in row.values():
            for term in fit.terms:
                assert len(term) >= 2 and not any(ch.isdigit() for ch in term), term
    assert expertise_fits({}, applications) == {}


def test_words_in_common_that_are_no_expertise_give_no_fit_and_lose_to_real_expertise() -> None:
    """A geology case and two reviewers who share with it only boilerplate (技术服务, 企业)
    or a real term (地质灾害): the first has fit 0 and no reasons, the second is chosen."""
    reviewers = {
        "1": "农学、食品科学\n为企业提供技术服务，茶叶加工",
        "2": "地质工程\n地质灾害防治、群测群防培训",
    }
    applications = {"9": "群测群防员业务培训服务案例\n为企业提供地质灾害防治技术服务和培训。"}
    fits = expertise_fits(reviewers, applications, vocabulary={"地质灾害", "群测群防"})
    assert fits["9"]["1"] == Fit(0.0, ())
    assert fits["9"]["2"].score > 0 and "地质灾害" in fits["9"]["2"].terms
    plan = plan_assignments(
        applications=[ApplicationFacts(id="9", applicant_id=90, county="510106")],
        reviewers=[
            ReviewerFacts(id="1", user_id=1, name="王正婷", county="511802"),
            ReviewerFacts(id="2", user_id=2, name="周岩", county="510104"),
        ],
        loads={"1": 5, "2": 5},
        fits=fits,
        already={},
        used={},
        per_application=1,
        batch_load=5,
        exclude_same_county=True,
    )
    assert [(a.application_id, a.reviewer_id) for a in plan.assignments] == [("9", "2")]


# --- Scores, ranking, levels, outliers --------------------------------------------------------


def test_a_reviewers_total_is_the_weighted_sum_and_the_score_the_mean_to_two_places() -> None:
    weights = {1: 40, 2: 35, 3: 25}
    assert reviewer_total(weights, {1: 90, 2: 80, 3: 71}) == Decimal("81.75")
    assert reviewer_total(weights, {1: 85, 2: 85, 3: 85}) == Decimal("85.00")
    assert application_score([Decimal("81.75"), Decimal("85.00"), Decimal("80.00")]) == Decimal(
        "82.25"
    )
    assert application_score([Decimal("80.00"), Decimal("80.01")]) == Decimal("80.01")
    assert application_score([]) is None


T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _entry(pk: int, score: str, level: str = Level.TYPICAL, minutes: int = 0) -> Entry:
    return Entry(
        id=pk, score=Decimal(score), requested=level, submitted_at=T0 + timedelta(minutes=minutes)
    )


def test_ties_share_a_rank_and_the_earlier_submission_is_shown_first() -> None:
    marks = Marks(Decimal(85), Decimal(70), 0, 0, True)
    ranked = rank_entries(
        [_entry(1, "80", minutes=5), _entry(2, "90"), _entry(3, "80", minutes=1), _entry(4, "60")],
        marks,
    )
    assert [(r.id, r.rank) for r in ranked] == [(2, 1), (3, 2), (1, 2), (4, 4)]


def test_proposed_levels_follow_pass_marks_requests_and_quotas() -> None:
    marks = Marks(Decimal(85), Decimal(70), quota_premium=1, quota_typical=2, has_levels=True)
    ranked = rank_entries(
        [
            _entry(1, "92", Level.PREMIUM),
            _entry(2, "90", Level.PREMIUM),  # premium quota used up: falls to 典型
            _entry(3, "88", Level.TYPICAL),  # asked for 典型 only: never 精品
            _entry(4, "75", Level.TYPICAL),  # typical quota (2) used up
            _entry(5, "60", Level.PREMIUM),
        ],
        marks,
    )
    assert [(r.id, r.proposed) for r in ranked] == [
        (1, Level.PREMIUM),
        (2, Level.TYPICAL),
        (3, Level.TYPICAL),
        (4, ""),
        (5, ""),
    ]
    unlimited = rank_entries(
        [_entry(1, "92", Level.PREMIUM), _entry(2, "86", Level.PREMIUM), _entry(3, "70")],
        Marks(Decimal(85), Decimal(70), 0, 0, True),
    )
    assert [r.proposed for r in unlimited] == [Level.PREMIUM, Level.PREMIUM, Level.TYPICAL]
    listed = rank_entries(
        [_entry(1, "92", ""), _entry(2, "71", ""), _entry(3, "69.99", "")],
        Marks(Decimal(85), Decimal(70), 0, 1, False),
    )
    assert [r.proposed for r in listed] == [Level.LISTED, "", ""]


def test_outliers_are_measured_against_the_median_of_the_others() -> None:
    assert total_outliers([Decimal(80), Decimal(82), Decimal(64)]) == [False, False, True]
    assert total_outliers([Decimal(80), Decimal(94)]) == [False, False]
    assert total_outliers([Decimal(80), Decimal(95)]) == [True, True]
    assert total_outliers([Decimal(80)]) == [False]
    assert criterion_outliers([90, 88, 60, None]) == [False, False, True, False]
    assert criterion_outliers([90, 66]) == [False, False]
