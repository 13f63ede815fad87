"""Lexical index over pre-segmented terms and character bigrams, kept in tantivy.

Documents are addressed by an integer slot that the engine owns. The text itself is stored
(compressed) in the index so that explanations can re-read a result without the engine
keeping every text in memory.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import tantivy

_HEAP_BYTES = 256_000_000


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("slot", stored=True, indexed=True, fast=True)
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("bigrams", tokenizer_name="whitespace", index_option="freq")
    builder.add_bytes_field("text", stored=True)
    return builder.build()


class LexicalIndex:
    """Term and bigram BM25 over a tantivy index living in `directory`."""

    def __init__(self, directory: Path | None = None) -> None:
        self._owned_tmp: str | None = None
        if directory is None:
            self._owned_tmp = tempfile.mkdtemp(prefix="kejiyun-match-")
            directory = Path(self._owned_tmp)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._schema = _schema()
        if tantivy.Index.exists(str(directory)):
            self._index = tantivy.Index.open(str(directory))
        else:
            self._index = tantivy.Index(self._schema, path=str(directory))
        self._writer: tantivy.IndexWriter | None = None
        self._dirty = False
        self._searcher = self._index.searcher()

    def __del__(self) -> None:
        if self._owned_tmp is not None:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)

    def _get_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._index.writer(_HEAP_BYTES, 1)
        return self._writer

    def upsert(
        self, slot: int, terms: list[str], bigrams: list[str], text: str, *, new: bool = False
    ) -> None:
        """Add or replace the document of `slot` (`new` skips the delete for a fresh slot)."""
        writer = self._get_writer()
        if not new:
            writer.delete_documents_by_term("slot", slot)
        writer.add_document(
            tantivy.Document(
                slot=slot,
                terms=" ".join(terms),
                bigrams=" ".join(bigrams),
                text=text.encode("utf-8"),
            )
        )
        self._dirty = True

    def delete(self, slot: int) -> None:
        self._get_writer().delete_documents_by_term("slot", slot)
        self._dirty = True

    def commit(self) -> None:
        """Make every change visible to the next search."""
        if self._dirty and self._writer is not None:
            self._writer.commit()
            self._writer.wait_merging_threads()
            self._writer = None
            self._index.reload()
            self._searcher = self._index.searcher()
            self._dirty = False

    @property
    def num_docs(self) -> int:
        self.commit()
        return int(self._searcher.num_docs)

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency of a term in the terms field."""
        return self.idfs([term])[term]

    def idfs(self, terms: list[str]) -> dict[str, float]:
        """`idf` of each distinct term, in first-seen order, from one searcher snapshot."""
        self.commit()
        n = max(1, int(self._searcher.num_docs))
        out: dict[str, float] = {}
        for term in dict.fromkeys(terms):
            df = int(self._searcher.doc_freq("terms", term))
            out[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return out

    def search(
        self, terms: list[str], bigrams: list[str], *, bigram_weight: float, limit: int
    ) -> list[tuple[int, float]]:
        """(slot, score) of the best documents, best first."""
        self.commit()
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for term in dict.fromkeys(terms):
            clauses.append(
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "terms", term))
            )
        if bigram_weight > 0:
            for gram in dict.fromkeys(bigrams):
                clauses.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.boost_query(
                            tantivy.Query.term_query(self._schema, "bigrams", gram),
                            bigram_weight,
                        ),
                    )
                )
        if not clauses:
            return []
        result = self._searcher.search(tantivy.Query.boolean_query(clauses), limit, count=False)
        hits = result.hits
        slots = self._searcher.fast_field_values("slot", [addr for _, addr in hits])
        return [
            (int(slot), float(score))  # type: ignore[arg-type]  # an integer fast field
            for (score, _), slot in zip(hits, slots, strict=True)
        ]

    def stored_text(self, slot: int) -> str:
        self.commit()
        query = tantivy.Query.term_query(self._schema, "slot", slot)
        hits = self._searcher.search(query, 1, count=False).hits
        if not hits:
            return ""
        raw = self._searcher.doc(hits[0][1])["text"][0]
        return bytes(raw).decode("utf-8")

    def save_to(self, directory: Path) -> None:
        """Copy the committed index files into `directory`."""
        self.commit()
        if directory.resolve() == self.directory.resolve():
            return
        if directory.exists():
            shutil.rmtree(directory)
        shutil.copytree(self.directory, directory, ignore=shutil.ignore_patterns("*.lock"))
