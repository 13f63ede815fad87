"""Text normalisation applied to every query and document before segmentation."""

from __future__ import annotations

import unicodedata


def normalise_text(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width, the ideographic
    space to a space), lower case, runs of whitespace to one space.

    Chinese punctuation that has no ASCII twin (、。《》) is kept: segmentation treats it
    as a boundary.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return " ".join(folded.split())
