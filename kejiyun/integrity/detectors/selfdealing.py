"""Self-dealing (关联交易): a case whose enterprise and one of its accepted experts are linked,
so the "service" and its outcome may be one party paying itself.

Links, strongest first (one finding per case, the strongest link decides the base confidence,
each further link kind adds to it):

- the expert belongs to the enterprise (their account is a member of it) — 0.9;
- the expert shares a person key (a mobile number or ID number) with someone of the
  enterprise — 0.85;
- the expert's organisation shares people with the enterprise — 0.75;
- the expert's employer is the enterprise by name (legal-form words and brackets dropped) — 0.75;
- the expert's organisation has the enterprise's registered address (normalised) — 0.65.

Left alone on purpose: an expert of a university or institute in the same district (another
name, another address); an expert who served the same enterprise before (repeat business).
"""

from __future__ import annotations

import re
import unicodedata

from kejiyun.integrity.detectors._common import case_day, combine
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import ExpertRow, Finding, OrganisationRow, Snapshot

FLAG_AT = 0.5
MIN_ADDRESS_CHARS = 8  # "成都市锦江区" alone is a district, not an address
MIN_NAME_CHARS = 2

# Words of a company name that say what legal form it has, not who it is.
_LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "分公司",
    "合作社",
    "公司",
    "集团",
    "股份",
    "有限",
    "责任",
)
_BRACKETS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")

LINKS: dict[str, tuple[float, str]] = {
    "member": (0.9, "专家是需求企业的成员"),
    "person": (0.85, "专家与需求企业人员共用手机号或证件"),
    "shared_people": (0.75, "专家所在单位与需求企业有共同人员"),
    "employer_name": (0.75, "专家工作单位与需求企业同名"),
    "address": (0.65, "专家所在单位与需求企业登记地址相同"),
}
W_FURTHER_LINK = 0.3


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def name_key(name: str) -> str:
    """A company name as compared: bracketed parts (a region, 普通合伙) and legal-form words
    dropped, NFKC, letters and digits only."""
    text = _BRACKETS.sub("", unicodedata.normalize("NFKC", name or ""))
    text = _fold(text)
    for form in _LEGAL_FORMS:
        text = text.replace(form, "")
    return text


def address_key(address: str) -> str:
    """A registered address as compared: NFKC, letters and digits only, without a leading
    province (the same address is written with and without it)."""
    text = _fold(address)
    return re.sub(r"^.{2,8}?(省|自治区)", "", text)


def links(expert: ExpertRow, org: OrganisationRow, orgs: dict[int, OrganisationRow]) -> list[str]:
    """The link kinds between `expert` and the enterprise `org`, strongest first."""
    found: list[str] = []
    own = orgs.get(expert.organisation_id) if expert.organisation_id is not None else None
    account = f"account:{expert.account_id}"
    if expert.organisation_id == org.id or account in org.person_keys:
        found.append("member")
    elif (expert.person_keys - {account}) & org.person_keys:
        found.append("person")
    if own is not None and own.id != org.id and own.person_keys & org.person_keys:
        found.append("shared_people")
    expert_name, org_name = name_key(expert.employer), name_key(org.name)
    own_name = name_key(own.name) if own is not None and own.id != org.id else ""
    if len(org_name) >= MIN_NAME_CHARS and org_name in (expert_name, own_name):
        found.append("employer_name")
    expert_address = address_key(expert.address or (own.address if own else ""))
    if (
        len(expert_address) >= MIN_ADDRESS_CHARS
        and expert_address == address_key(org.address)
        and "member" not in found
    ):
        found.append("address")
    return found


def detect(snapshot: Snapshot) -> list[Finding]:
    orgs = {o.id: o for o in snapshot.organisations}
    experts = {e.account_id: e for e in snapshot.experts}
    findings: list[Finding] = []
    for case in snapshot.cases:
        moment = case.closed_at or case.rated_at
        if moment is None or not snapshot.start <= moment < snapshot.end:
            continue
        org = orgs.get(case.organisation_id)
        if org is None:
            continue
        kinds: set[str] = set()
        linked: list[int] = []
        for expert_id in case.expert_ids:
            expert = experts.get(expert_id)
            if expert is None:
                continue
            found = links(expert, org, orgs)
            if found:
                kinds.update(found)
                linked.append(expert_id)
        if not kinds:
            continue
        ordered = [k for k in LINKS if k in kinds]
        confidence = combine([LINKS[ordered[0]][0]] + [W_FURTHER_LINK] * (len(ordered) - 1))
        if confidence < FLAG_AT:
            continue
        findings.append(
            Finding(
                kind=Kind.SELF_DEALING,
                subject_type=Subject.CASE,
                subject_id=case.id,
                centre_id=case.centre_id,
                day=case_day(case),
                confidence=confidence,
                reason="；".join(LINKS[k][1] for k in ordered) + "。",
                evidence={"links": ordered, "linked_experts": len(linked)},
            )
        )
    return findings
