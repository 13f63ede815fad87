"""The periodic job that embeds off the request path (semantic matching).

`match_embeddings_compute` finds every row whose current text has no vector yet from the
configured embedder (new rows, edited rows, or all of them after the embedder changed),
embeds them in batches, stores the vectors (`MatchVector`) and logs the rows in the index's
change log, so each process's engine replays them and picks their vectors up. Documents
(what is found: experts, demands, teams, results) and queries (what looks: a demand looking
for experts, a worker looking for demands) are embedded separately, as e5 wants.

A page never waits for a model: engines rank rows without a vector on their words alone,
and a query without a stored vector is answered lexically.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from django.db import transaction

from kejiyun.demands.models import Demand
from kejiyun.matching.adapters import (
    demand_text,
    result_text,
    talent_profile_query_text,
    talent_profile_text,
    team_text,
)
from kejiyun.matching.index import DEMANDS, EXPERTS, KINDS, RESULTS, TEAMS
from kejiyun.matching.vectors import DOCUMENT, QUERY, configured_embedder, text_digest
from kejiyun.matchlog.models import MatchVector
from kejiyun.matchlog.services import index_change_record
from kejiyun.talent.models import TalentProfile, Team, TechResult

_BATCH = 32
# How many texts one periodic run embeds at most (about 30 s of e5 on two cores), so the
# other periodic jobs are not held up; the next run goes on where this one stopped.
PERIODIC_LIMIT = 384


def _texts() -> Iterator[tuple[str, str, int, str]]:
    """(kind, role, object id, text) of everything that can carry a vector: documents
    first (what every ranking needs), then the queries of demands, then those of workers
    (the worker dashboard)."""
    profiles = TalentProfile.objects.only("title", "employer", "fields", "keywords", "capability")
    demands = Demand.objects.only(
        "title", "industry", "description", "problem", "current_state", "target_indicators"
    )
    for tp in profiles.order_by("id").iterator():
        yield EXPERTS, DOCUMENT, tp.pk, talent_profile_text(tp)
    for demand in demands.order_by("id").iterator():
        yield DEMANDS, DOCUMENT, demand.pk, demand_text(demand)
    for team in Team.objects.order_by("id").iterator():
        yield TEAMS, DOCUMENT, team.pk, team_text(team)
    for result in TechResult.objects.order_by("id").iterator():
        yield RESULTS, DOCUMENT, result.pk, result_text(result)
    for demand in demands.order_by("id").iterator():
        yield DEMANDS, QUERY, demand.pk, demand_text(demand)
    for tp in profiles.order_by("id").iterator():
        yield EXPERTS, QUERY, tp.pk, talent_profile_query_text(tp)


def match_embeddings_compute(*, limit: int | None = None) -> dict[str, int]:
    """Embed what is not embedded yet (at most `limit` texts; all when None). Returns how
    many vectors were written, by "kind/role"."""
    embedder = configured_embedder()
    if embedder is None:
        return {}
    stored = {
        (kind, role, object_id): digest
        for kind, role, object_id, digest in MatchVector.objects.filter(
            model=embedder.name
        ).values_list("kind", "role", "object_id", "digest")
    }
    todo = [
        (kind, role, object_id, text)
        for kind, role, object_id, text in _texts()
        if text.strip() and stored.get((kind, role, object_id)) != text_digest(text)
    ]
    if limit is not None:
        todo = todo[:limit]
    written: dict[str, int] = {}
    for start in range(0, len(todo), _BATCH):
        batch = todo[start : start + _BATCH]
        docs = [i for i, row in enumerate(batch) if row[1] == DOCUMENT]
        queries = [i for i, row in enumerate(batch) if row[1] == QUERY]
        vectors: dict[int, np.ndarray] = {}
        if docs:
            embedded = embedder.embed_documents([batch[i][3] for i in docs])
            vectors.update(zip(docs, embedded, strict=True))
        if queries:
            embedded = embedder.embed_queries([batch[i][3] for i in queries])
            vectors.update(zip(queries, embedded, strict=True))
        with transaction.atomic():
            for i, (kind, role, object_id, text) in enumerate(batch):
                MatchVector.objects.update_or_create(
                    kind=kind,
                    object_id=object_id,
                    role=role,
                    model=embedder.name,
                    defaults={
                        "digest": text_digest(text),
                        "vector": np.asarray(vectors[i], dtype=np.float32).tobytes(),
                    },
                )
                key = f"{kind}/{role}"
                written[key] = written.get(key, 0) + 1
            for kind in KINDS:
                changed = [row[2] for row in batch if row[0] == kind and row[1] == DOCUMENT]
                if changed:
                    index_change_record(kind=kind, object_ids=changed)
    return written
