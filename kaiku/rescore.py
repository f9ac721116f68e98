"""Re-score stored mentions after a model change: page through the index, score, write back.

Resumable without a checkpoint file: the query leaves out mentions that already carry the
current model's id and version, so an interrupted run, started again, picks up what is left.
Pages advance by search_after on (published_at, id), never by offset, so the mentions that
drop out of the query as they are rewritten do not make the next page skip any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from pydantic import ValidationError

from crawler.items import join_title_and_text
from indexer.document import Mention, ModelInfo
from indexer.errors import EngineUnavailable, IndexerError
from indexer.queries import SORTS, MentionFilters, build_query
from indexer.writer import BulkWriter
from sentiment.base import SentimentClassifier
from sentiment.experience import DEFAULT_THRESHOLDS, ExperienceThresholds
from sentiment.scoring import score_batch


@dataclass
class RescoreReport:
    matched: int = 0  # mentions the query selected that the current model had not scored, at the start
    rescored: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (mention id, why it could not be read)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (mention id, why the write failed)
    already_current: int = 0  # selected by the query but already scored by this model


def _query(filters: MentionFilters, model_id: str, model_version: str) -> dict[str, Any]:
    current = {"bool": {"filter": [{"term": {"model.id": model_id}}, {"term": {"model.version": model_version}}]}}
    return {"bool": {"must": [build_query(filters)], "must_not": [current]}}


def _count(client: Elasticsearch, alias: str, query: dict[str, Any]) -> int:
    try:
        return int(client.count(index=alias, query=query)["count"])
    except TransportError as exc:
        raise EngineUnavailable(f"count failed, engine unreachable: {exc}") from exc
    except ApiError as exc:
        raise IndexerError(f"count failed: {exc}") from exc


def rescore(
    client: Elasticsearch,
    alias: str,
    classifier: SentimentClassifier,
    filters: MentionFilters | None = None,
    batch_size: int = 256,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
    progress: Callable[[RescoreReport], None] | None = None,
) -> RescoreReport:
    """Re-score every mention matching `filters` whose stored model is not the classifier's; writes refresh."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    filters = filters or MentionFilters()
    query = _query(filters, classifier.model_id, classifier.model_version)
    report = RescoreReport(matched=_count(client, alias, query))
    report.already_current = _count(client, alias, build_query(filters)) - report.matched
    writer = BulkWriter(client, alias, refresh=True)
    search_after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"query": query, "sort": SORTS["newest"], "size": batch_size}
        if search_after is not None:
            body["search_after"] = search_after
        try:
            hits = client.search(index=alias, **body)["hits"]["hits"]
        except TransportError as exc:
            raise EngineUnavailable(f"search failed, engine unreachable: {exc}") from exc
        except ApiError as exc:
            raise IndexerError(f"search failed: {exc}") from exc
        if not hits:
            return report
        search_after = hits[-1]["sort"]
        mentions = []
        for hit in hits:
            try:
                mentions.append(Mention.model_validate(hit["_source"]))
            except ValidationError as exc:
                # Left as it is and reported: a document this version cannot read is not ours to rewrite.
                report.invalid.append((hit.get("_id", "?"), str(exc).splitlines()[0]))
        if mentions:
            _rescore_page(mentions, classifier, thresholds, writer, report)
        if progress is not None:
            progress(report)


def _rescore_page(
    mentions: list[Mention],
    classifier: SentimentClassifier,
    thresholds: ExperienceThresholds,
    writer: BulkWriter,
    report: RescoreReport,
) -> None:
    scored = score_batch(
        classifier,
        [join_title_and_text(mention.title, mention.text) for mention in mentions],
        [(mention.rating, mention.rating_max) for mention in mentions],
        thresholds,
    )
    model = ModelInfo(id=classifier.model_id, version=classifier.model_version)
    updated = [
        mention.model_copy(
            update={
                "polarity": result.polarity.as_dict(),
                "experience": result.experience,
                "experience_reason": result.reason,
                "model": model,
            }
        )
        for mention, result in zip(mentions, scored, strict=True)
    ]
    written = writer.write(updated)
    report.rescored += written.indexed
    report.failed.extend(written.failed)
