"""The item a spider yields and the pipelines fill in, and its conversion to the indexed `Mention`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from crawler.dedup import PageTexts
from crawler.extract import ReviewRecord
from crawler.extract.posts import PostRecord
from indexer.document import Engagement, ItemRating, Mention, ModelInfo, mention_id

REVIEWS_SOURCE = "reviews"  # the `source` field of the mention document (docs/design.md §4), not the config's source id


@dataclass
class MentionItem:
    # From the page (spider).
    id: str
    source: str
    url: str
    text: str
    crawled_at: datetime
    canonical_url: str | None = None
    page_url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    title: str | None = None
    rating: float | None = None
    rating_max: float | None = None
    lang: str | None = None
    item_reviewed: str | None = None
    item_rating: dict[str, float | int | None] | None = None  # the reviewed item's AggregateRating
    engagement: dict[str, int | None] | None = None  # likes, replies, shares (platform sources)
    author_followers: int | None = None
    # BrandMatchPipeline.
    brand: str | None = None
    brands_matched: list[str] = field(default_factory=list)
    query_id: str | None = None
    # LanguagePipeline.
    lang_declared: str | None = None
    lang_detected: str | None = None
    lang_confidence: float | None = None
    # NearDuplicatePipeline.
    near_duplicate_of: str | None = None
    dedup_bands: list[str] = field(default_factory=list)
    # PageTextsMiddleware: the mentions of the same response, looked up in the store together.
    page: PageTexts | None = field(default=None, repr=False, compare=False)
    # ScoreAndIndexPipeline, filled when its batch is flushed.
    polarity: dict[str, float] | None = None
    experience: str | None = None
    experience_reason: str | None = None
    model_id: str | None = None
    model_version: str | None = None

    @classmethod
    def from_review(
        cls, review: ReviewRecord, source: str = REVIEWS_SOURCE, now: datetime | None = None
    ) -> MentionItem:
        return cls(
            id=mention_id(source, review.key),
            source=source,
            url=review.url,
            text=review.text,
            crawled_at=now or datetime.now(UTC),
            canonical_url=review.canonical_url,
            page_url=review.page_url,
            author=review.author,
            published_at=review.published_at,
            title=review.title,
            rating=review.rating,
            rating_max=review.rating_max,
            lang=review.lang,
            item_reviewed=review.item_reviewed,
            item_rating=review.item_rating,
        )

    @classmethod
    def from_post(cls, post: PostRecord, source: str, now: datetime | None = None) -> MentionItem:
        """A mention from a platform parser's record (crawler/extract/posts.py); `source` is the spider's name."""
        return cls(
            id=mention_id(source, post.key),
            source=source,
            url=post.url,
            text=post.text,
            crawled_at=now or datetime.now(UTC),
            canonical_url=post.url,
            author=post.author,
            published_at=post.published_at,
            title=post.title,
            rating=post.rating,
            rating_max=post.rating_max,
            lang=post.lang,
            item_reviewed=post.item_reviewed,
            engagement={"likes": post.likes, "replies": post.replies, "shares": post.shares},
            author_followers=post.author_followers,
        )

    @property
    def scoring_text(self) -> str:
        """What the brand matcher, the language detector and the sentiment model read: title and body."""
        return join_title_and_text(self.title, self.text)

    def to_mention(self) -> Mention:
        if not self.brand:
            raise ValueError(f"mention {self.id} has no brand; BrandMatchPipeline must run first")
        model = ModelInfo(id=self.model_id, version=self.model_version or "") if self.model_id else None
        return Mention(
            id=self.id,
            brand=self.brand,
            brands_matched=list(self.brands_matched),
            query_id=self.query_id,
            source=self.source,
            url=self.url,
            canonical_url=self.canonical_url,
            author=self.author,
            title=self.title,
            text=self.text,
            lang=self.lang,
            lang_declared=self.lang_declared,
            lang_detected=self.lang_detected,
            published_at=self.published_at,
            crawled_at=self.crawled_at,
            rating=self.rating,
            rating_max=self.rating_max,
            item_rating=ItemRating.model_validate(self.item_rating) if self.item_rating else None,
            polarity=self.polarity,
            experience=self.experience,
            experience_reason=self.experience_reason,
            model=model,
            engagement=Engagement(**self.engagement) if self.engagement else Engagement(),
            author_followers=self.author_followers,
            near_duplicate_of=self.near_duplicate_of,
            dedup_bands=list(self.dedup_bands),
        )


def join_title_and_text(title: str | None, text: str) -> str:
    """Title and body as one text (the title alone as its own sentence); `kaiku sentiment rescore` reuses it."""
    if not title or text.startswith(title):
        return text
    separator = " " if title[-1] in ".!?…" else ". "
    return f"{title}{separator}{text}"
