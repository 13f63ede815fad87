"""What each programme asks: its questions (stored in `Application.answers`) and the levels an
application may ask for. The form (`forms.py`) draws its fields from here and the services
check a submission against it, so the rule is said once."""

from __future__ import annotations

from dataclasses import dataclass

from kejiyun.common.levels import Level
from kejiyun.recognition.models import Programme

ANSWER_MAX_LENGTH = 3000


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    help_text: str = ""
    required: bool = True


QUESTIONS: dict[str, tuple[Question, ...]] = {
    Programme.STUDIO: (
        Question("members_roles", "成员及分工", "工作室成员、专业和在服务中的分工。"),
        Question("services", "服务开展情况", "近年为企业和基层提供的主要服务。"),
        Question("effect", "服务成效", "解决的问题、带来的经济和社会效益。"),
    ),
    Programme.CASE: (
        Question("problem", "企业难题", "企业遇到的技术或管理难题。"),
        Question("solution", "解决方案", "专家和服务中心采取的办法。"),
        Question("benefit", "取得效益", "增收、节本、提质等可核实的效益。"),
    ),
    Programme.WORKSTATION: (
        Question("expert", "院士(专家)情况", "进站院士或专家的研究方向和主要成就。"),
        Question("host_conditions", "依托单位条件", "场地、设备、人员和经费保障。"),
        Question("plan", "建站工作计划", "今后三年的合作项目和目标。"),
    ),
    Programme.PROJECT: (
        Question("maturity", "项目成熟度", "研发、中试或产业化阶段。"),
        Question("investment", "所需投资", "资金需求和用途（万元）。"),
        Question("benefit", "预期效益", "预期的经济和社会效益。"),
        Question("partners", "合作需求", "希望对接的专家、机构或投资方。", required=False),
    ),
}

# The levels an application may ask for (studios and cases: 典型 or 精品); the other
# programmes ask for none and are granted 入选 (LISTED).
LEVELS_ASKED: dict[str, tuple[str, ...]] = {
    Programme.STUDIO: (Level.TYPICAL, Level.PREMIUM),
    Programme.CASE: (Level.TYPICAL, Level.PREMIUM),
    Programme.WORKSTATION: (),
    Programme.PROJECT: (),
}


def missing_answers(programme: str, answers: dict[str, str]) -> list[str]:
    """The labels of the required questions left empty."""
    return [
        q.label
        for q in QUESTIONS[programme]
        if q.required and not str(answers.get(q.key, "")).strip()
    ]


def answered_questions(programme: str, answers: object) -> list[tuple[str, str]]:
    """(label, answer) for each question of the programme's form, in the form's order, for
    pages that show an application (its answers are keyed by `Question.key`)."""
    given = answers if isinstance(answers, dict) else {}
    return [(q.label, str(given.get(q.key, ""))) for q in QUESTIONS[programme]]
