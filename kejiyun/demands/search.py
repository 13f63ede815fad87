"""How the demand hall reads a search: the engine's Chinese segmentation cuts the query into
terms. Pure: no Django, testable on its own.

"泡菜包装后胀袋" becomes 泡菜 / 包装 / 后胀袋; a run of single characters the dictionary does not
know ("胀", "袋") is joined back into one term ("胀袋"), since one character alone matches
almost anything. Stop words are dropped by the segmenter; a query made only of them is
searched as typed.
"""

from __future__ import annotations

from functools import lru_cache

from kejiyun_match import Segmenter, normalise_text

QUERY_MAX_CHARS = 50
TERMS_MAX = 8


@lru_cache(maxsize=1)
def _segmenter() -> Segmenter:
    return Segmenter()


def query_terms(query: str) -> list[str]:
    """The distinct terms a hall search looks for, in the order typed (at most 8)."""
    query = normalise_text(query[:QUERY_MAX_CHARS]).strip()
    if not query:
        return []
    terms: list[str] = []
    run = ""
    for token in _segmenter().terms(query):
        if len(token) == 1 and "\u4e00" <= token <= "\u9fff":
            run += token
            continue
        if run:
            terms.append(run)
            run = ""
        terms.append(token)
    if run:
        terms.append(run)
    if not terms:
        terms = [query.replace(" ", "")]
    return list(dict.fromkeys(terms))[:TERMS_MAX]


def terms_required(count: int) -> int:
    """How many of `count` terms a demand must contain: all of one or two, otherwise all
    but a third of them (one odd word in a long query does not empty the hall)."""
    return count if count <= 2 else count - count // 3
