"""Re-score stored mentions after a model change (`rescore`), or re-apply the experience rule to their stored
polarity after a change of thresholds (`reclassify`): page through the index, judge, write back.

Resumable without a checkpoint file: the query leaves out mentions that already carry the
current model's id and version, so an interrupted run, started again, picks up what is left.
Pages advance by search_after on (published_at, id), never by offset, so the mentions that
drop out of the query as they are rewritten do not make the next page skip any.

Given the brands, an unrated mention is judged against its brand's (or industry's) norm as the
crawl would have judged it when it was published: the norm of the KAIKU_BASELINE_DAYS (90) days ending at
the start of the mention's week (crawler/baselines.py), read once per brand and week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from pydantic import ValidationError

from core.config import Brand
from core.defaults import BASELINE_DAYS, BASELINE_MIN_HISTORY
from core.experience import DEFAULT_THRESHOLDS, Baseline, ExperienceThresholds, classify_experience
from core.mention import Mention, ModelInfo
from core.polarity import SentimentClassifier
from core.scoring import score_batch
from crawler.baselines import BrandBaselines
from crawler.items import join_title_and_text
from indexer.queries import MentionFilters
from indexer.store import MentionStore, Selection


@dataclass
class RescoreReport:
    matched: int = 0  # mentions the query selected that the current model had not scored, at the start
    rescored: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (mention id, why it could not be read)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (mention id, why the write failed)
    already_current: int = 0  # selected by the query but already scored by this model


@dataclass
class ReclassifyReport:
    matched: int = 0  # scored mentions the query selected
    changed: int = 0  # written with a new class or reason
    unchanged: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class NormsByWeek:
    """Each brand's norm as of the week a mention was published, read from the index once per brand and week."""

    def __init__(
        self,
        store: MentionStore,
        brands: list[Brand],
        min_history: int = BASELINE_MIN_HISTORY,
        days: int = BASELINE_DAYS,
    ) -> None:
        self._store, self._brands = store, brands
        self._min_history, self._days = min_history, days
        self._weeks: dict[datetime, BrandBaselines] = {}

    def for_mention(self, mention: Mention) -> Baseline | None:
        if mention.rating is not None:  # the stars decide; no norm is read for them
            return None
        published = (mention.published_at or mention.crawled_at).astimezone(UTC)
        week = datetime.combine(published.date() - timedelta(days=published.weekday()), time(), UTC)
        if week not in self._weeks:
            # BrandBaselines leaves the week before `now` out: `now` one week on, the norm ends where the week starts.
            self._weeks[week] = BrandBaselines(
                self._store,
                self._brands,
                min_history=self._min_history,
                days=self._days,
                now=week + timedelta(days=7),
            )
        return self._weeks[week].for_brand(mention.brand)


def rescore(
    store: MentionStore,
    classifier: SentimentClassifier,
    filters: MentionFilters | None = None,
    batch_size: int = 256,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
    progress: Callable[[RescoreReport], None] | None = None,
    norms: NormsByWeek | None = None,
) -> RescoreReport:
    """Re-score every mention matching `filters` whose stored model is not the classifier's.

    With `norms`, unrated mentions are judged against their brand's norm (the relative experience class)."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    filters = filters or MentionFilters()
    selection = Selection(filters, not_model=(classifier.model_id, classifier.model_version))
    report = RescoreReport(matched=store.count(selection))
    report.already_current = store.count(Selection(filters)) - report.matched
    for mentions in _pages(store, selection, batch_size, report.invalid):
        if mentions:
            _rescore_page(mentions, classifier, thresholds, norms, store, report)
        if progress is not None:
            progress(report)
    return report


def reclassify(
    store: MentionStore,
    filters: MentionFilters | None = None,
    batch_size: int = 256,
    thresholds: ExperienceThresholds = DEFAULT_THRESHOLDS,
    progress: Callable[[ReclassifyReport], None] | None = None,
    norms: NormsByWeek | None = None,
) -> ReclassifyReport:
    """Judge every scored mention matching `filters` again from its stored polarity and rating, with these
    thresholds (and norms); no model runs, and only mentions whose class or reason changes are written."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    selection = Selection(filters or MentionFilters(), scored_only=True)
    report = ReclassifyReport(matched=store.count(selection))
    # Rewritten mentions stay in the selection; the store's keyset pages keep them from being seen twice.
    for mentions in _pages(store, selection, batch_size, report.invalid):
        changed = []
        for mention in mentions:
            if mention.polarity is None:  # a malformed polarity is already reported by _pages
                report.invalid.append((mention.id, "no polarity to judge"))
                continue
            norm = norms.for_mention(mention) if norms is not None else None
            verdict = classify_experience(mention.polarity, mention.rating, mention.rating_max, thresholds, norm)
            if verdict == (mention.experience, mention.experience_reason):
                report.unchanged += 1
            else:
                changed.append(mention.model_copy(update={"experience": verdict[0], "experience_reason": verdict[1]}))
        if changed:
            written = store.write(changed)
            report.changed += written.indexed
            report.failed.extend(written.failed)
        if progress is not None:
            progress(report)
    return report


def _pages(
    store: MentionStore, selection: Selection, batch_size: int, invalid: list[tuple[str, str]]
) -> Iterator[list[Mention]]:
    """The selected mentions, newest first, a page at a time; unreadable documents go to `invalid`."""
    for documents in store.pages(selection, batch_size):
        mentions = []
        for document in documents:
            try:
                mentions.append(Mention.model_validate(document))
            except ValidationError as exc:
                # Left as it is and reported: a document this version cannot read is not ours to rewrite.
                invalid.append((str(document.get("id", "?")), str(exc).splitlines()[0]))
        yield mentions


def _rescore_page(
    mentions: list[Mention],
    classifier: SentimentClassifier,
    thresholds: ExperienceThresholds,
    norms: NormsByWeek | None,
    store: MentionStore,
    report: RescoreReport,
) -> None:
    scored = score_batch(
        classifier,
        [join_title_and_text(mention.title, mention.text) for mention in mentions],
        [(mention.rating, mention.rating_max) for mention in mentions],
        thresholds,
        [norms.for_mention(mention) for mention in mentions] if norms is not None else None,
    )
    model = ModelInfo(id=classifier.model_id, version=classifier.model_version)
    updated = [
        mention.model_copy(
            update={
                "polarity": result.polarity,
                "experience": result.experience,
                "experience_reason": result.reason,
                "model": model,
            }
        )
        for mention, result in zip(mentions, scored, strict=True)
    ]
    written = store.write(updated)
    report.rescored += written.indexed
    report.failed.extend(written.failed)
