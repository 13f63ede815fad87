"""kejiyun_match: the precise-matching engine (精准对接) of Kejiyun, as a pure-Python library.

It imports no Django and nothing of the platform; the platform hands it plain dataclasses
(`Profile`, `MatchQuery`) and gets dataclasses back (`Result` with its `Explanation`).
The public surface is what `__all__` lists; everything else lives in private modules.
"""

from kejiyun_match._assign import assign
from kejiyun_match._dense import E5Embedder, Embedder, HashEmbedder, VectorStore
from kejiyun_match._engine import Engine, region_tier
from kejiyun_match._feedback import FeedbackStore, Outcome
from kejiyun_match._metrics import Scores, evaluate, read_qrels, read_run, write_run
from kejiyun_match._model import (
    Assignment,
    AssignmentProblem,
    ConflictPolicy,
    Explanation,
    MatchQuery,
    Profile,
    RegionTiers,
    Result,
    TermWeight,
    Weights,
)
from kejiyun_match._segment import BOILERPLATE, STOPWORDS, Segmenter, char_bigrams, is_reason_term
from kejiyun_match._text import normalise_text

__all__ = [
    "BOILERPLATE",
    "STOPWORDS",
    "Assignment",
    "AssignmentProblem",
    "ConflictPolicy",
    "E5Embedder",
    "Embedder",
    "Engine",
    "Explanation",
    "FeedbackStore",
    "HashEmbedder",
    "MatchQuery",
    "Outcome",
    "Profile",
    "RegionTiers",
    "Result",
    "Scores",
    "Segmenter",
    "TermWeight",
    "VectorStore",
    "Weights",
    "assign",
    "char_bigrams",
    "evaluate",
    "is_reason_term",
    "normalise_text",
    "read_qrels",
    "read_run",
    "region_tier",
    "write_run",
]
__version__ = "0.1.0"
