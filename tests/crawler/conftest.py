"""Fakes for the crawler tests: a keyword classifier, a collecting writer, stats, and the demo site."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from core.mention import Mention
from indexer.writer import BulkReport
from kaiku.config import KaikuConfig, load_config
from kaiku.demo.server import DemoSite, serve_site
from sentiment import Polarity

PAGES = Path(__file__).resolve().parent / "pages"
CONFIGS = Path(__file__).resolve().parents[2] / "configs"

NEGATIVE_WORDS = ("kamala", "disgrace", "never again", "pilalle", "ei enää koskaan", "häpeällistä")
POSITIVE_WORDS = ("magical", "far beyond", "paras hotelli", "yllätti", "unohtumaton")


class KeywordClassifier:
    """Implements the SentimentClassifier protocol with keyword lists; records every batch it gets."""

    model_id = "test-keywords"
    model_version = "1"

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        if self.fail:
            raise RuntimeError("model exploded")
        self.batches.append(list(texts))
        return [self._one(text.lower()) for text in texts]

    @staticmethod
    def _one(text: str) -> Polarity:
        if any(word in text for word in NEGATIVE_WORDS):
            return Polarity(0.92, 0.05, 0.03)
        if any(word in text for word in POSITIVE_WORDS):
            return Polarity(0.02, 0.06, 0.92)
        return Polarity(0.2, 0.6, 0.2)


class CollectingWriter:
    """Stands in for indexer.writer.BulkWriter: keeps what it is asked to write."""

    def __init__(self, reject: dict[str, str] | None = None, error: Exception | None = None) -> None:
        self.batches: list[list[Mention]] = []
        self.reject = reject or {}  # mention id -> "type: reason"
        self.error = error

    @property
    def mentions(self) -> list[Mention]:
        return [mention for batch in self.batches for mention in batch]

    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        if self.error is not None:
            raise self.error
        self.batches.append(list(mentions))
        report = BulkReport()
        for mention in mentions:
            if mention.id in self.reject:
                report.failed.append((mention.id, self.reject[mention.id]))
            else:
                report.indexed += 1
        return report


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: int | None = None) -> int | None:
        return self.values.get(key, default)


@pytest.fixture(scope="session")
def kaiku_config() -> KaikuConfig:
    return load_config(CONFIGS)


@pytest.fixture(scope="module")
def demo_site() -> Iterator[DemoSite]:
    site = serve_site(port=0)
    yield site
    site.stop()
