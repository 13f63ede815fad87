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

_PUNCT_OR_SPACE = re.compile(r"^[\W_]+$")
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
