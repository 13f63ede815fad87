"""The automatic review of a demand before staff see it (发布前自动检查). Pure functions.

Nothing here touches the database: the service hands in plain dataclasses and stores what
comes back. Three checks:

- **Completeness** (`completeness_problems`): the guided parts (要解决的问题, 目前现状, 目标指标)
  must each say something specific, and the description must have some length. An answer that
  only repeats the guidance prompt, or only strings generic phrases together, does not count.
- **Near-duplicates** (`closest_duplicate`): character 3-gram shingles of title and description,
  compared by containment (the share of the smaller text's shingles found in the other). A
  template with a few words changed keeps almost all of its shingles; two different demands of
  one company share only their company's vocabulary.
- **Boilerplate** (`boilerplate_share`): the share of characters covered by generic phrases,
  echoed prompts or text repeated from elsewhere in the same demand.

Text is compared after normalisation (`normalise`): NFKC, lower case, letters and digits only,
so punctuation, spaces and full-width/half-width variants do not matter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# --- Guidance shown under each field (and used to recognise an echoed prompt) ------------------


@dataclass(frozen=True)
class Guidance:
    label: str
    question: str
    example: str


GUIDANCE: dict[str, Guidance] = {
    "title": Guidance(
        label="需求名称",
        question="用一句话说清需要什么。",
        example="茶叶揉捻机能耗偏高，需要节能改造方案",
    ),
    "description": Guidance(
        label="需求描述",
        question="说明产品或工艺是什么、在哪个环节遇到问题、为什么现在要解决，至少 30 个字。",
        example="我公司年产竹笋罐头3000吨，杀菌工序沿用十年前的设备，旺季产能跟不上，"
        "产品在货架期后段易变色，客户投诉增多",
    ),
    "problem": Guidance(
        label="要解决的问题",
        question="要解决的具体问题是什么？出现在哪道工序、哪种产品上？",
        example="高温杀菌后竹笋变软发黄，出厂合格率只有85%",
    ),
    "current_state": Guidance(
        label="目前现状",
        question="现在做到什么程度？已经试过哪些办法，效果如何？",
        example="现用121℃高压杀菌20分钟，试过降温延时，保质期仍达不到12个月",
    ),
    "target_indicators": Guidance(
        label="目标指标",
        question="希望达到哪些可以衡量的指标（数值、期限、标准）？",
        example="合格率提高到95%以上，保质期不少于12个月，单位能耗不增加",
    ),
}

GUIDED_FIELDS: tuple[str, ...] = ("problem", "current_state", "target_indicators")
MIN_SPECIFIC_CHARS = 10
MIN_DESCRIPTION_CHARS = 30

# --- Generic phrases (套话) -----------------------------------------------------------------

GENERIC_PHRASES: tuple[str, ...] = (
    "提升企业核心竞争力",
    "提高企业核心竞争力",
    "增强企业核心竞争力",
    "提升企业竞争力",
    "推动产业转型升级",
    "促进产业转型升级",
    "助力产业转型升级",
    "实现高质量发展",
    "推动高质量发展",
    "推进高质量发展",
    "加强产学研合作",
    "深化产学研合作",
    "产学研深度融合",
    "急需相关专家支持",
    "急需相关专家指导",
    "需要专家提供技术支持",
    "寻求技术合作",
    "提升自主创新能力",
    "增强自主创新能力",
    "提高科技创新能力",
    "加快科技成果转化",
    "促进科技成果转化",
    "推动科技成果转化",
    "提高生产效率",
    "降低生产成本",
    "降本增效",
    "提质增效",
    "提升产品质量",
    "提高产品附加值",
    "增强市场竞争力",
    "提升市场竞争力",
    "实现经济效益和社会效益双丰收",
    "取得良好的经济效益和社会效益",
    "助力乡村振兴",
    "服务地方经济发展",
    "推动企业可持续发展",
    "实现可持续发展",
    "解决企业发展中的技术难题",
    "解决企业技术难题",
    "破解技术瓶颈",
    "突破关键核心技术",
    "填补国内空白",
    "达到国内领先水平",
    "达到国际先进水平",
    "打造行业标杆",
    "具有广阔的市场前景",
    "市场前景广阔",
    "欢迎有意向的专家团队联系",
    "欢迎相关单位洽谈合作",
    "详情面议",
)

# A run of this many characters seen earlier in the same demand counts as repeated text.
_REPEAT_RUN = 8
# Prompt echoes are recognised by runs of this many characters taken from the prompts.
_ECHO_RUN = 5
SHINGLE = 3
DUPLICATE_THRESHOLD = 0.75
DUPLICATE_MIN_SHINGLES = 20
BOILERPLATE_THRESHOLD = 0.5


def normalise(text: str) -> str:
    """Letters and digits only, NFKC-folded and lower-cased."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


_GENERIC_NORMALISED: tuple[str, ...] = tuple(
    sorted({normalise(p) for p in GENERIC_PHRASES}, key=len, reverse=True)
)


def _runs(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


_PROMPT_RUNS: frozenset[str] = frozenset(
    run
    for g in GUIDANCE.values()
    for part in (g.question, g.example)
    for run in _runs(normalise(part), _ECHO_RUN)
)


@dataclass(frozen=True)
class Coverage:
    """How much of a normalised text is generic, echoed from a prompt or repeated."""

    length: int
    generic: int
    echoed: int
    repeated: int
    covered: int

    @property
    def specific(self) -> int:
        """Characters of real content: not generic, not echoed, not repeated."""
        return self.length - self.covered


def coverage(text: str) -> Coverage:
    """Mark each character of `normalise(text)` that belongs to a generic phrase, a run copied
    from the guidance prompts, or a run that already appeared earlier in the text."""
    norm = normalise(text)
    n = len(norm)
    generic = [False] * n
    echoed = [False] * n
    repeated = [False] * n
    for phrase in _GENERIC_NORMALISED:
        start = norm.find(phrase)
        while start != -1:
            for i in range(start, start + len(phrase)):
                generic[i] = True
            start = norm.find(phrase, start + 1)
    for i in range(n - _ECHO_RUN + 1):
        if norm[i : i + _ECHO_RUN] in _PROMPT_RUNS:
            for j in range(i, i + _ECHO_RUN):
                echoed[j] = True
    seen: set[str] = set()
    for i in range(n - _REPEAT_RUN + 1):
        # Only runs that end before this one starts count as "earlier": "哈哈哈…" is caught, an
        # ordinary text is never matched against itself.
        if i >= _REPEAT_RUN:
            seen.add(norm[i - _REPEAT_RUN : i])
        if norm[i : i + _REPEAT_RUN] in seen:
            for j in range(i, i + _REPEAT_RUN):
                repeated[j] = True
    covered = sum(1 for i in range(n) if generic[i] or echoed[i] or repeated[i])
    return Coverage(
        length=n,
        generic=sum(generic),
        echoed=sum(echoed),
        repeated=sum(repeated),
        covered=covered,
    )


# --- Completeness ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandText:
    """The parts of a demand the checks read."""

    title: str
    description: str
    problem: str
    current_state: str
    target_indicators: str

    def guided(self, field: str) -> str:
        return str(getattr(self, field))


@dataclass(frozen=True)
class ReviewProblem:
    """One missing or weak part, with the reason in Chinese (shown to the enterprise)."""

    field: str
    message: str


def completeness_problems(text: DemandText) -> list[ReviewProblem]:
    """Each part that is missing or too vague to act on, in form order. Empty when complete."""
    problems: list[ReviewProblem] = []
    described = len(normalise(text.description))
    if described < MIN_DESCRIPTION_CHARS:
        problems.append(
            ReviewProblem(
                "description",
                f"「需求描述」太短：请至少写 {MIN_DESCRIPTION_CHARS} 个字（不计标点和空格），"
                f"说明产品或工艺、遇到问题的环节和原因；现在只有 {described} 个字。",
            )
        )
    for field in GUIDED_FIELDS:
        guide = GUIDANCE[field]
        value = text.guided(field)
        cov = coverage(value)
        if cov.length == 0:
            problems.append(ReviewProblem(field, f"未填写「{guide.label}」：{guide.question}"))
        elif cov.specific < MIN_SPECIFIC_CHARS and cov.echoed * 2 >= cov.length:
            problems.append(
                ReviewProblem(
                    field,
                    f"「{guide.label}」照抄了填写提示或示例，请写出贵单位自己的实际情况。",
                )
            )
        elif cov.specific < MIN_SPECIFIC_CHARS:
            problems.append(
                ReviewProblem(
                    field,
                    f"「{guide.label}」不够具体：去掉套话后只有 {cov.specific} 个字，"
                    f"请至少写 {MIN_SPECIFIC_CHARS} 个字的实际内容，例如：{guide.example}。",
                )
            )
    return problems


# --- Near-duplicates ---------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Another demand to compare with: only what the comparison needs."""

    id: int
    title: str
    description: str
    # Whether the flag may name this demand: staff who read the flag may not be allowed to
    # see a demand of another county, or a private one.
    disclose: bool = True


@dataclass(frozen=True)
class Duplicate:
    id: int
    title: str
    similarity: float
    disclose: bool = True


def shingles(text: str, n: int = SHINGLE) -> frozenset[str]:
    norm = normalise(text)
    if len(norm) < n:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(_runs(norm, n))


def comparable_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


def containment(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the larger (the overlap coefficient); 0 if either is
    too small to say anything."""
    smaller = min(len(a), len(b))
    if smaller < DUPLICATE_MIN_SHINGLES:
        return 0.0
    return len(a & b) / smaller


def closest_duplicate(
    text: DemandText, candidates: Iterable[Candidate], threshold: float = DUPLICATE_THRESHOLD
) -> Duplicate | None:
    """The most similar candidate at or above `threshold`, or None. Ties go to the lower id
    (the earlier demand, which is the likelier original)."""
    own = shingles(comparable_text(text.title, text.description))
    best: Duplicate | None = None
    for c in candidates:
        score = containment(own, shingles(comparable_text(c.title, c.description)))
        if score < threshold:
            continue
        if best is None or score > best.similarity or (score == best.similarity and c.id < best.id):
            best = Duplicate(id=c.id, title=c.title, similarity=score, disclose=c.disclose)
    return best


# --- Boilerplate -------------------------------------------------------------------------


def boilerplate_share(text: DemandText) -> float:
    """Share of the demand's characters (title, description and the guided parts) that are
    generic phrases, echoed prompts or repeated text. 0 for an empty demand."""
    joined = "\n".join(
        (text.title, text.description, text.problem, text.current_state, text.target_indicators)
    )
    cov = coverage(joined)
    return cov.covered / cov.length if cov.length else 0.0


# --- Flags for staff -----------------------------------------------------------------------


def duplicate_flag(duplicate: Duplicate) -> str:
    if not duplicate.disclose:
        return f"疑似重复：与其他区县的一条需求相似度 {duplicate.similarity:.2f}"
    return f"疑似重复：与需求 #{duplicate.id}《{duplicate.title}》相似度 {duplicate.similarity:.2f}"


def boilerplate_flag(share: float) -> str:
    return f"套话比例 {round(share * 100)}%"


def review_flags(
    text: DemandText, candidates: Iterable[Candidate]
) -> tuple[list[str], Duplicate | None]:
    """The flags staff should see for a complete demand, and the closest duplicate if any."""
    flags: list[str] = []
    duplicate = closest_duplicate(text, candidates)
    if duplicate is not None:
        flags.append(duplicate_flag(duplicate))
    share = boilerplate_share(text)
    if share >= BOILERPLATE_THRESHOLD:
        flags.append(boilerplate_flag(share))
    return flags, duplicate
