"""Text normalisation applied to every query and document before segmentation."""

from __future__ import annotations

import unicodedata

_FULLWIDTH_OFFSET = 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"


def _to_halfwidth(ch: str) -> str:
    code = ord(ch)
    if ch == _IDEOGRAPHIC_SPACE:
        return " "
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - _FULLWIDTH_OFFSET)
    return ch


def normalise_text(text: str) -> str:
    """Full-width ASCII to half-width, NFKC, lower case, runs of whitespace to one space.

    Chinese punctuation that has no ASCII twin (、。《》) is kept: segmentation treats it
    as a boundary.
    """
    halfwidth = "".join(_to_halfwidth(ch) for ch in text)
    folded = unicodedata.normalize("NFKC", halfwidth).lower()
    return " ".join(folded.split())
