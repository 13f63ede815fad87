"""Stored embeddings (`MatchVector`): read the ones that still fit a text, write new ones.

A vector is used only while the text it was computed from is unchanged (same digest) and
the embedder is the one configured; anything else counts as not embedded yet, and the
engine ranks that row on its words until the periodic job embeds it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from django.conf import settings

from kejiyun.matchlog.models import MatchVector
from kejiyun_match import E5Embedder, Embedder, HashEmbedder

Vector = npt.NDArray[np.float32]
DOCUMENT = MatchVector.Role.DOCUMENT
QUERY = MatchVector.Role.QUERY


def embedder_name() -> str:
    name = str(settings.MATCH_EMBEDDER).lower()
    if name not in {"none", "e5", "hash"}:  # settings check the environment; tests override
        raise ValueError(f"MATCH_EMBEDDER must be none, e5 or hash, not {name!r}")
    return name


def configured_embedder() -> Embedder | None:
    """The embedder of the setting. E5 loads its model only when something is embedded,
    which only the periodic job does."""
    name = embedder_name()
    if name == "e5":
        return E5Embedder()
    if name == "hash":
        return HashEmbedder()
    return None


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def vectors_read(
    *, kind: str, role: str, model: str, texts: Mapping[int, str]
) -> dict[int, Vector]:
    """The stored vectors of these rows (object id -> the text they have now) that were
    computed from exactly that text by `model`."""
    if not texts:
        return {}
    found: dict[int, Vector] = {}
    ids = list(texts)
    for start in range(0, len(ids), 900):  # below SQLite's variable limit
        rows = MatchVector.objects.filter(
            kind=kind, role=role, model=model, object_id__in=ids[start : start + 900]
        ).values_list("object_id", "digest", "vector")
        for object_id, digest, raw in rows:
            if digest == text_digest(texts[object_id]):
                found[object_id] = np.frombuffer(bytes(raw), dtype=np.float32).copy()
    return found


def query_vectors(*, kind: str, texts: Mapping[int, str]) -> dict[int, Vector]:
    """The stored query vectors of these rows for their current texts (one query); rows not
    embedded yet, or every row when there is no embedder, are missing: a page never
    computes a vector."""
    embedder = configured_embedder()
    if embedder is None:
        return {}
    return vectors_read(kind=kind, role=QUERY, model=embedder.name, texts=texts)


def query_vector(*, kind: str, object_id: int, text: str) -> Vector | None:
    """The stored query vector of one row for its current text, or None."""
    return query_vectors(kind=kind, texts={object_id: text}).get(object_id)
