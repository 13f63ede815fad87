"""Conflicts of interest between reviewers and applications (回避规则), as a pure function.

The facts are plain dataclasses (the loader in `selectors.py` reads them from the
database), so the rule can be tested by property without a database. A reviewer conflicts
with an application when:

- the reviewer is the applicant, or the studio's lead or one of its members;
- they share an employer (by normalised name) or an organisation with the applicant, the
  applicant's organisation, the studio's host organisation, the studio members' employers
  or the case's enterprise;
- the reviewer is named in the application (`named_people`, or the reviewer's name in its
  title, summary or answers);
- they are in the same county, when the batch excludes same-county reviewers;
- they worked a case together: the reviewer was the accepted expert on a case whose
  enterprise is one of the application's organisations, or on a case on which the
  applicant, the studio lead or a member was also an accepted expert.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Brackets, punctuation and spaces carry no meaning in a unit's name: "四川农业大学 (雅安)"
# and "四川农业大学（雅安）" are one employer.
_NOISE = re.compile(r"[\s\W_]+")
# A name shorter than this is too likely to occur inside other words to count as "named".
MIN_NAME_LENGTH = 2


def normalise_employer(name: str) -> str:
    """A unit's name for comparison: NFKC, lower case, without spaces or punctuation."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", name).lower())


@dataclass(frozen=True)
class ReviewerFacts:
    """What the conflict rule knows of one reviewer (`id`: the reviewer user's id)."""

    id: str
    user_id: int
    name: str = ""
    employer: str = ""
    organisation_id: int | None = None
    county: str = ""
    # Enterprises (organisation ids) of the cases the reviewer was an accepted expert on.
    case_enterprises: frozenset[int] = frozenset()
    # Users who were accepted experts on one of those cases too.
    case_partners: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ApplicationFacts:
    """What the conflict rule knows of one application (`id`: the application's id)."""

    id: str
    applicant_id: int
    # The applicant, the studio's lead and members (user ids).
    people: frozenset[int] = frozenset()
    # The applicant's organisation, the application's, the studio host's, the case's
    # enterprise (organisation ids).
    organisations: frozenset[int] = frozenset()
    # Names of those organisations and the employers of the applicant and the studio's
    # people (any spelling: they are normalised here).
    employers: frozenset[str] = frozenset()
    named_people: str = ""
    text: str = ""
    county: str = ""


def conflict_reason(
    reviewer: ReviewerFacts, application: ApplicationFacts, *, exclude_same_county: bool
) -> str:
    """Why `reviewer` may not review `application` ("" when they may)."""
    if reviewer.user_id == application.applicant_id or reviewer.user_id in application.people:
        return "本人申报或为申报团队成员"
    if reviewer.organisation_id is not None and reviewer.organisation_id in (
        application.organisations
    ):
        return "与申报方为同一单位"
    employer = normalise_employer(reviewer.employer)
    if employer and employer in {normalise_employer(e) for e in application.employers}:
        return "与申报方工作单位相同"
    name = reviewer.name.strip()
    if len(name) >= MIN_NAME_LENGTH and (
        name in application.named_people or name in application.text
    ):
        return "申报材料中列有该专家"
    if exclude_same_county and reviewer.county and reviewer.county == application.county:
        return "与申报方同属一个区县"
    if reviewer.case_enterprises & application.organisations:
        return "曾为申报单位提供对接服务"
    if reviewer.case_partners & application.people:
        return "曾与申报人共同服务案例"
    return ""


def conflicting_pairs(
    reviewers: Iterable[ReviewerFacts],
    applications: Iterable[ApplicationFacts],
    *,
    exclude_same_county: bool,
) -> dict[tuple[str, str], str]:
    """Every (application id, reviewer id) pair in conflict, with its reason."""
    reviewers = list(reviewers)
    out: dict[tuple[str, str], str] = {}
    for application in applications:
        for reviewer in reviewers:
            reason = conflict_reason(reviewer, application, exclude_same_county=exclude_same_county)
            if reason:
                out[(application.id, reviewer.id)] = reason
    return out
