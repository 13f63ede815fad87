"""What the detectors read: plain rows, no database.

`sources.py` loads a `Snapshot` from the database for a time window; the integrity benchmark
(`make bench-integrity`) generates one for a synthetic province. Every detector is a function
`detect(snapshot) -> list[Finding]` over these rows, so the same code runs on both.

People are never in a row by name or number: a *person key* is a keyed hash
(`kejiyun.common.crypto.lookup_hash`) of a mobile number, an ID number or an account, so two
rows that share a key share a person. Networks and devices are keyed hashes too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kejiyun.integrity.models import Kind, Subject


@dataclass(frozen=True)
class AccountRow:
    """A registered account (worker, enterprise user or citizen)."""

    id: int
    role: str  # kejiyun.accounts.models.Role value
    centre_id: int | None  # the centre whose registration figures it counts in
    created_at: datetime
    # The profile as one text (employer, title, fields, keywords, capability; an enterprise
    # user's organisation description), for template profiles. "" when there is none.
    profile_text: str
    organisation_id: int | None
    person_keys: frozenset[str]  # mobile and ID-number hashes
    # Real activity since registration: demands submitted, reads finished, docking replies,
    # plan actions done, logins on a later day than the registration.
    activity: int


@dataclass(frozen=True)
class FootprintRow:
    """Where an account acted from: registration, login, rating (kejiyun.accounts Footprint)."""

    account_id: int
    kind: str  # "register" | "login" | "rate"
    at: datetime
    network: str  # keyed hash of the client's /24 (IPv4) or /48 (IPv6) network; "" unknown
    device: str  # keyed hash of the browser's long-lived device cookie; "" unknown


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    address: str  # registered address, "" unknown
    # Keys of the people behind it: its members' person keys and "account:<id>" of each.
    person_keys: frozenset[str]


@dataclass(frozen=True)
class ExpertRow:
    """An S&T worker who can serve cases."""

    account_id: int
    employer: str
    organisation_id: int | None
    address: str  # the address of the organisation they belong to, "" unknown
    person_keys: frozenset[str]


@dataclass(frozen=True)
class DemandRow:
    id: int
    organisation_id: int
    created_by_id: int | None
    centre_id: int | None
    submitted_at: datetime
    title: str
    description: str
    problem: str
    current_state: str
    target_indicators: str


@dataclass(frozen=True)
class ReadRow:
    """A reading session of a popsci article (kejiyun.popsci ReadEvent)."""

    id: int
    account_id: int
    article_id: int
    centre_id: int | None  # the centre whose popsci figures it counts in
    device: str
    opened_at: datetime
    finished_at: datetime | None
    body_chars: int


@dataclass(frozen=True)
class CaseRow:
    id: int
    centre_id: int | None
    demand_id: int
    organisation_id: int  # the enterprise whose demand it is
    owner_id: int | None  # the staff member who owns it
    expert_ids: tuple[int, ...]  # accounts of the experts whose docking was accepted
    opened_at: datetime
    closed_at: datetime | None
    outcome: str  # kejiyun.cases.models.Outcome value, "" while open
    # What the closure rests on: the evidence file's SHA-256 ("" none), the contract number
    # ("" none) and the closing narrative (outcome reason, visit outcomes, closing note).
    evidence_sha256: str
    contract_number: str
    closing_text: str
    rating: int | None
    rated_by_id: int | None
    rated_at: datetime | None


@dataclass
class Snapshot:
    """Everything the detectors look at for one window. Rows outside the window may be
    included as context (earlier demands for templates across time)."""

    start: datetime
    end: datetime
    accounts: list[AccountRow] = field(default_factory=list)
    footprints: list[FootprintRow] = field(default_factory=list)
    organisations: list[OrganisationRow] = field(default_factory=list)
    experts: list[ExpertRow] = field(default_factory=list)
    demands: list[DemandRow] = field(default_factory=list)
    reads: list[ReadRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """One record a detector flags. `reason` is plain Chinese without personal data."""

    kind: Kind
    subject_type: Subject
    subject_id: int
    centre_id: int | None
    day: date  # the Beijing day the record counts on
    confidence: float  # 0..1
    reason: str
    evidence: dict[str, object] = field(default_factory=dict)
