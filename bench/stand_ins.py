"""Stand-ins for the model and the store, shared by benchmarks and tests: a keyword classifier and a writer that
keeps what it is given. Both satisfy the Protocols of core/ (`SentimentClassifier`, `MentionWriter`)."""

from __future__ import annotations

from collections.abc import Sequence

from core.mention import Mention
from core.polarity import Polarity
from indexer.writer import BulkReport

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
