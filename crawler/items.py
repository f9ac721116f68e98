"""The item a spider yields and the pipelines fill in: the crawler's view of the mention (core/mention.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ConfigDict, Field

from core.mention import Judged, Mention, SourceName, Statement, mention_id
from crawler.dedup import PageTexts
from crawler.extract.record import Record
from crawler.extract.schema_org import ReviewRecord


class MentionItem(Judged):
    """A judged mention whose brand is not known yet, with what only the crawl needs beside the stored fields.

    Mutable: the pipelines fill it in (BrandMatchPipeline the brand, LanguagePipeline the languages,
    NearDuplicatePipeline the duplicate link and bands, ScoreAndIndexPipeline the polarity and class).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)  # `page` is the crawl's own object, not data

    brand: str | None = None
    page_url: str | None = None  # reviews: the page the review was read on
    item_reviewed: str | None = None  # what the brand matcher may read when the text does not name it
    lang_confidence: float | None = None
    # PageTextsMiddleware: the mentions of the same response, looked up in the store together.
    page: PageTexts | None = Field(default=None, repr=False, exclude=True)

    @classmethod
    def from_record(cls, record: Record, source: SourceName, now: datetime | None = None) -> MentionItem:
        """A mention from what an extractor read (crawler/extract/); `source` is the spider's name."""
        return cls(
            id=mention_id(source, record.key),
            source=source,
            crawled_at=now or datetime.now(UTC),
            page_url=record.page_url if isinstance(record, ReviewRecord) else None,
            item_reviewed=record.item_reviewed,
            **{name: getattr(record, name) for name in Statement.model_fields},
        )

    @property
    def scoring_text(self) -> str:
        """What the brand matcher, the language detector and the sentiment model read: title and body."""
        return join_title_and_text(self.title, self.text)

    def to_mention(self) -> Mention:
        if not self.brand:
            raise ValueError(f"mention {self.id} has no brand; BrandMatchPipeline must run first")
        return Mention.model_validate({name: getattr(self, name) for name in Mention.model_fields})


def join_title_and_text(title: str | None, text: str) -> str:
    """Title and body as one text (the title alone as its own sentence); `kaiku sentiment rescore` reuses it."""
    if not title or text.startswith(title):
        return text
    separator = " " if title[-1] in ".!?…" else ". "
    return f"{title}{separator}{text}"
