"""Chinese word segmentation with a domain dictionary, and character bigrams."""

from __future__ import annotations

import re
from collections.abc import Iterable

import rjieba

from kejiyun_match._text import normalise_text

# Function words and research boilerplate that carry no meaning for matching. Written for
# this engine; kept short on purpose, since a technical term must never be dropped.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 了 和 与 及 或 在 是 对 为 中 以 等 从 其 将 并 由 于 上 下 这 那 该 本 此 各 每 也 都 而
    但 就 又 则 即 把 被 给 向 至 到 之 所 者 着 过 很 更 最 再 已 还 不 无 非 可 能 会 要 应 需
    有 个 种 一 两 些 多 少 大 小 如 若 因 故 所以 因此 以及 以下 以上 其中 一种 一个 我们 本文
    研究 方法 结果 进行 通过 采用 分析 提出 基于 利用 具有 可以 表明 得到 对于 关于 相关 主要
    问题 情况 方面 作用 影响 过程 目的 探讨 讨论 介绍 论述 阐述 认为 发现 达到 实现 提高 使用
    a an the of and or in on for to with by from is are was were be as at this that these
    """.split()
)

# Words every demand and profile is full of ("希望专家提供解决方案", "企业目前需要提高技术"):
# they may score (weakly) through character bigrams but never count as a query term nor
# as a reason shown to a person. Written for this engine from real demand forms.
BOILERPLATE: frozenset[str] = frozenset(
    """
    方案 解决方案 问题 难题 企业 公司 我司 本司 单位 技术 技术支持 技术服务 需要 需求 解决 提高
    提升 目前 现状 希望 专家 提供 帮助 协助 指导 支持 服务 项目 工作 产品 生产 开发 研发
    能力 经验 水平 质量 效率 成本 效果 方向 领域 行业 产业 发展 开展 推进 合作 对接 建设
    现在 现有 已经 没有 存在 出现 导致 造成 原因 一直 不能 无法 不够 较大 较高 较低 比较
    目标 指标 要求 达到 实现 做好 做到 完成 改善 优化 加强 增加 降低 减少 保证 确保 主要
    具体 一般 相关 有关 方面 情况 进行 通过 采用 利用 使用 应用 计划 预计 每年 每天 左右
    年产 产值 规模 万元 亿元 元 吨 亩 个 家 人 名 年 月 日 天 多年 近年 今年 去年
    建立 制定 引进 改进 探索 寻求 寻找 攻关 联合攻关 推动 促进 落实 形成 打造 请 帮 帮忙 看看
    """.split()
)

_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$")
_WORD_CHAR = re.compile(r"[^\W\d_]")  # a letter or an ideograph: not a digit, not punctuation


def is_reason_term(term: str, place_names: frozenset[str] = frozenset()) -> bool:
    """Whether a matched term may be shown to a person as a reason: at least two letters or
    ideographs (so never a number, "2024年" or a single character), not a stop word, not
    boilerplate, not a place name (places count toward region fit instead)."""
    letters = len(_WORD_CHAR.findall(term))
    return (
        letters >= 2
        and term not in STOPWORDS
        and term not in BOILERPLATE
        and term not in place_names
    )


_NON_WORD = re.compile(r"[\W_]+")


class Segmenter:
    """Cuts normalised text into terms with jieba (rjieba) plus a domain dictionary.

    Each segmenter owns its own dictionary, so two engines with different vocabularies
    do not disturb each other.
    """

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self._vocabulary: set[str] = set()
        self.add_vocabulary(vocabulary)

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._vocabulary)

    def add_vocabulary(self, terms: Iterable[str]) -> None:
        """Teach the segmenter multi-character domain terms (disciplines, industries…)."""
        for raw in terms:
            term = normalise_text(raw).replace(" ", "")
            if len(term) >= 2 and term not in self._vocabulary:
                self._vocabulary.add(term)
                self._jieba.add_word(term, None, None)

    def terms(self, text: str) -> list[str]:
        """Meaningful terms of `text`, in order, repeats kept (for term frequency)."""
        normalised = normalise_text(text)
        return [
            token
            for token in (t.strip() for t in self._jieba.cut(normalised))
            if token and token not in STOPWORDS and not _PUNCT_OR_SPACE.match(token)
        ]


def char_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of each run of word characters; a lone character stays.

    Bigrams match a need to a capability when the two are segmented differently, e.g.
    "平方和优化" against "平方和" and "优化".
    """
    out: list[str] = []
    for run in _NON_WORD.split(normalise_text(text)):
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out
