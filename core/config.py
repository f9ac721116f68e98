"""YAML configuration in configs/: brands, sources and alert rules.

Every file is validated strictly: unknown keys, wrong types and dangling
references are errors that name the file, the field and what is wrong.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import KaikuError
from core.mention import SourceName
from core.query_language import QueryError, parse_query

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

# Limits on what one configuration may hold (issue 18.4), the same for a file and for the management API: every
# configured list and string is bounded, so neither a request nor a hand edit can make loading slow or large.
MAX_ID = 64  # characters of an id
MAX_TEXT = 200  # characters of a name, an alias, a term, a search word, a hashtag, ...
MAX_QUERY = 1000  # characters of a brand query (core/query_language.py)
MAX_URL = 2000  # characters of a URL
MAX_PATTERN = 500  # characters of a `follow` regular expression
MAX_EMAIL = 254  # characters of an email address (RFC 5321)
MAX_ITEMS = 100  # entries of any list or mapping inside one brand, source or alert rule
MAX_ENTRIES = 10_000  # brands, sources or alert rules in one file
MAX_FILE_BYTES = 4 * 1024 * 1024  # size of one configuration file

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=MAX_ID)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Url = Annotated[str, Field(max_length=MAX_URL)]

# libyaml's safe loader where installed (about 10x faster: configuration is read again after every change).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(KaikuError):
    """A configuration file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Brand(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=MAX_TEXT)
    aliases: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    terms: list[Text] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Extra query terms (phrases) beside name/aliases"
    )
    # A brand named in free text only where one of these phrases also stands is not counted (docs/crawler.md).
    exclude: list[Text] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Phrases that make a text hit a false one"
    )
    competitors: list[Id] = Field(default_factory=list, max_length=MAX_ITEMS, description="Ids of competing brands")
    industry: str | None = Field(default=None, max_length=MAX_TEXT)
    # Named boolean queries (core/query_language.py) matched beside name/aliases/terms; docs/crawler.md.
    queries: dict[str, str] = Field(default_factory=dict, max_length=MAX_ITEMS, description="Query name -> brand query")

    @property
    def match_terms(self) -> list[str]:
        return [self.name, *self.aliases, *self.terms]

    @field_validator("queries")
    @classmethod
    def _valid_queries(cls, queries: dict[str, str]) -> dict[str, str]:
        for name, text in queries.items():
            if not re.fullmatch(ID_PATTERN, name) or len(name) > MAX_ID:
                raise ValueError(f"query name {name[:MAX_ID]!r} must match {ID_PATTERN}, at most {MAX_ID} characters")
            if len(text) > MAX_QUERY:
                raise ValueError(f"query {name!r} has {len(text)} characters; at most {MAX_QUERY}")
            try:
                parse_query(text)
            except QueryError as exc:
                pointer = " " * exc.position + "^"
                message = f"query {name!r}: {exc.message} at position {exc.position}"
                raise ValueError(f"{message}\n    {text}\n    {pointer}") from None
        return queries


def _http_urls(urls: list[str]) -> list[str]:
    for url in urls:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"not an http(s) URL: {url!r}")
    return urls


def _http_url(url: str | None) -> str | None:
    if url is not None and not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url.rstrip("/") if url else url


def _words(values: list[str]) -> list[str]:
    for value in values:
        if not value.strip():
            raise ValueError("empty value")
    return [value.strip() for value in values]


HttpUrls = Annotated[list[Url], Field(max_length=MAX_ITEMS), AfterValidator(_http_urls)]
HttpUrl = Annotated[Url | None, AfterValidator(_http_url)]
Words = Annotated[list[Text], Field(max_length=MAX_ITEMS), AfterValidator(_words)]
MaxPages = Annotated[int, Field(ge=1)]


class _SourceBase(_Strict):
    """What every source has; each spider's source below adds the fields that spider reads (docs/crawler.md).

    A field another spider reads is an error here, so that nothing configured is silently ignored.
    """

    id: Id
    spider: SourceName  # each spider's source narrows it to the spider's name: the tag of `Source`
    schedule: str | None = Field(default=None, max_length=20, description="Interval like '30m', '6h', '1d'")
    brands: list[Id] = Field(default_factory=list, max_length=MAX_ENTRIES, description="Brand ids; empty means all")
    # Request budget; unset = the spider's default within the platform's documented limit (crawler/politeness.py).
    requests_per_minute: float | None = Field(default=None, gt=0, description="Most requests a minute")
    max_requests: int | None = Field(default=None, ge=1, description="Most requests per crawl")

    needs: ClassVar[tuple[str, ...]] = ()  # fields of which at least one must be set

    @model_validator(mode="before")
    @classmethod
    def _fields_of_its_spider(cls, data: Any) -> Any:
        if isinstance(data, dict):
            stray = sorted(str(name) for name in data if name not in cls.model_fields)
            if stray:
                reads = ", ".join(spider_fields(cls))
                raise ValueError(f"not used by the {spider_of(cls)} spider: {', '.join(stray)} (it reads: {reads})")
        return data

    @model_validator(mode="after")
    def _needs(self) -> Self:
        if self.needs and not any(getattr(self, name) for name in self.needs):
            raise ValueError(f"the {spider_of(type(self))} spider needs {' or '.join(self.needs)}")
        return self

    @field_validator("schedule")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+[mhd]", value):
            raise ValueError(f"schedule must look like '30m', '6h' or '1d', got {value!r}")
        return value

    def endpoint_urls(self) -> list[str]:
        """Every URL this source's crawl may call that the config names (the runner's loopback check)."""
        return []


class ApiSource(_SourceBase):
    """A source read through a platform's API: the API root and a bound on the pages of each query."""

    base_url: HttpUrl = Field(default=None, description="API root; unset means the platform's public one")
    max_pages: MaxPages = 100

    def endpoint_urls(self) -> list[str]:
        return [self.base_url] if self.base_url else []


class ReviewsSource(_SourceBase):
    spider: Literal["reviews"]
    start_urls: HttpUrls = Field(default_factory=list)
    allowed_domains: list[Annotated[str, Field(max_length=253)]] = Field(default_factory=list, max_length=MAX_ITEMS)
    max_pages: MaxPages = 100
    follow: list[Annotated[str, Field(max_length=MAX_PATTERN)]] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="reviews: regular expressions; links on any page whose URL matches one are followed "
        "(pagination a site does not mark with rel=next, e.g. '[?&]page=\\d+')",
    )
    needs = ("start_urls",)

    @field_validator("follow")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r}: {exc}") from exc
        return patterns

    def endpoint_urls(self) -> list[str]:
        return list(self.start_urls)


class RssSource(_SourceBase):
    spider: Literal["rss"]
    start_urls: HttpUrls = Field(default_factory=list)
    needs = ("start_urls",)

    def endpoint_urls(self) -> list[str]:
        return list(self.start_urls)


class MastodonSource(ApiSource):
    spider: Literal["mastodon"]
    hashtags: Words = Field(default_factory=list, description="Mastodon hashtags, no '#'")
    queries: Words = Field(default_factory=list, description="Search terms")
    needs = ("hashtags", "queries")


class BlueskySource(ApiSource):
    spider: Literal["bluesky"]
    queries: Words = Field(default_factory=list, description="Search terms")
    needs = ("queries",)


class RedditSource(ApiSource):
    spider: Literal["reddit"]
    token_url: HttpUrl = Field(default=None, description="Reddit OAuth token endpoint")
    queries: Words = Field(default_factory=list, description="Search terms")
    subreddits: Words = Field(default_factory=list, description="Reddit: only these")
    needs = ("queries",)

    def endpoint_urls(self) -> list[str]:
        return [*super().endpoint_urls(), *([self.token_url] if self.token_url else [])]


class HackerNewsSource(ApiSource):
    spider: Literal["hackernews"]
    queries: Words = Field(default_factory=list, description="Search terms")
    tags: list[Literal["story", "comment"]] = Field(
        default_factory=list, max_length=2, description="Hacker News item types"
    )
    needs = ("queries",)


class AppStoreSource(ApiSource):
    spider: Literal["appstore"]
    app_ids: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS, description="App Store numeric app ids")
    countries: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS, description="App Store storefronts")
    needs = ("app_ids",)

    @field_validator("app_ids")
    @classmethod
    def _app_ids(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"\d+", value):
                raise ValueError(f"an App Store app id is a number, got {value!r}")
        return values

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[a-z]{2}", value):
                raise ValueError(f"a storefront is a two-letter lowercase country code, got {value!r}")
        return values


class YouTubeSource(ApiSource):
    spider: Literal["youtube"]
    video_ids: Words = Field(default_factory=list, description="YouTube videos to search")
    channel_ids: Words = Field(default_factory=list, description="YouTube channels: comments on all their videos")
    queries: Words = Field(default_factory=list, description="Search terms")
    needs = ("video_ids", "channel_ids")


# One source configuration per spider, told apart by `spider` (docs/design.md §5). A new spider adds its
# model here, its name to core.mention.SourceName and its class to crawler/spiders/registry.py; a test
# (tests/crawler/test_spider_registry.py) fails until all three agree.
# The sources of the platform spiders (crawler/spiders/platform.py): feeds and APIs.
PlatformSource = (
    RssSource | MastodonSource | BlueskySource | RedditSource | HackerNewsSource | AppStoreSource | YouTubeSource
)
Source = Annotated[ReviewsSource | PlatformSource, Discriminator("spider")]
SOURCE_MODELS: tuple[type[_SourceBase], ...] = (ReviewsSource, *get_args(PlatformSource))
_SOURCE = TypeAdapter[Source](Source)


def spider_of(model: type[_SourceBase]) -> SourceName:
    """The name of the spider that reads sources of this model: the tag of `Source`."""
    name: SourceName = get_args(model.model_fields["spider"].annotation)[0]
    return name


def spider_fields(model: type[_SourceBase]) -> list[str]:
    """The fields a spider reads beside those every source has."""
    return [name for name in model.model_fields if name not in _SourceBase.model_fields and name != "spider"]


_TAGS = frozenset(spider_of(model) for model in SOURCE_MODELS)


def without_source_tags(loc: Sequence[int | str]) -> list[int | str]:
    """An error's path without the spider that pydantic names for a source (sources.0.reddit.queries): the
    entry's own `spider` says which, and the path then reads as the file (or a request's body) is written."""
    return [
        part
        for i, part in enumerate(loc)
        if not (i and part in _TAGS and (isinstance(loc[i - 1], int) or (i == 1 and loc[0] == "body")))
    ]


def source_of(**fields: Any) -> Source:
    """A source from its fields as sources.yaml states them, as the model of its spider."""
    return _SOURCE.validate_python(fields)


class AlertRule(_Strict):
    id: Id
    brand: str = Field(max_length=MAX_ID)
    experience: Literal["anger", "delight"] = "anger"
    window: str = Field(default="1h", description="Slot of the count series: 5m .. 90d")
    min_count: int = Field(default=5, ge=1)
    cooldown: str = Field(default="6h", description="A new spike within this of the last one's end reopens it")
    max_per_week: int | None = Field(
        default=None, ge=1, le=1000, description="Alert budget: the most incidents this rule may open in 7 days"
    )
    recipients: list[Annotated[str, Field(max_length=MAX_EMAIL)]] = Field(min_length=1, max_length=MAX_ITEMS)
    language: Literal["en", "fi"] = Field(default="en", description="Language of the alert emails")
    recipient_languages: dict[str, Literal["en", "fi"]] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="Per-recipient language, overriding `language`"
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        bounded_interval(value, ALERT_WINDOW_MIN, ALERT_WINDOW_MAX, "window")
        return value

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        bounded_interval(value, timedelta(minutes=1), ALERT_WINDOW_MAX, "cooldown")
        return value

    @field_validator("recipients")
    @classmethod
    def _emails(cls, recipients: list[str]) -> list[str]:
        for address in recipients:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise ValueError(f"not an email address: {address!r}")
        return recipients

    @model_validator(mode="after")
    def _languages_for_recipients(self) -> AlertRule:
        unknown = sorted(set(self.recipient_languages) - set(self.recipients))
        if unknown:
            raise ValueError(f"recipient_languages names addresses that are not recipients: {', '.join(unknown)}")
        return self

    def language_of(self, recipient: str) -> Literal["en", "fi"]:
        return self.recipient_languages.get(recipient, self.language)


class _BrandsFile(_Strict):
    brands: list[Brand] = Field(min_length=1, max_length=MAX_ENTRIES)


class _SourcesFile(_Strict):
    sources: list[Source] = Field(default_factory=list, max_length=MAX_ENTRIES)


class _AlertsFile(_Strict):
    alerts: list[AlertRule] = Field(default_factory=list, max_length=MAX_ENTRIES)


class KaikuConfig(_Strict):
    brands: list[Brand]
    sources: list[Source]
    alerts: list[AlertRule]

    def brand(self, brand_id: str) -> Brand:
        for brand in self.brands:
            if brand.id == brand_id:
                return brand
        raise KeyError(brand_id)

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def sources_named(self, name: str) -> list[Source]:
        """The source with this id, else every source run by the spider of this name (`kaiku crawl reviews`)."""
        by_id = [source for source in self.sources if source.id == name]
        return by_id or [source for source in self.sources if source.spider == name]


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for error in exc.errors():
        parts = without_source_tags(error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):  # no spider, or one of no such name
            parts.append("spider")
            given = error.get("ctx", {}).get("tag")
            message = f"{f'unknown spider {given!r}' if given else 'required'} (spiders: {', '.join(sorted(_TAGS))})"
        field = ".".join(str(part) for part in parts) or "(top level)"
        lines.append(f"  {field}: {message}")
    return "\n".join(lines)


def _load_file(path: Path, model: type[_Strict], required: bool) -> _Strict:
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: file not found")
        return model()
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:  # checked before parsing: a huge file would take seconds and hundreds of MB
        raise ConfigError(f"{path}: the file has {size} bytes; a configuration file may have at most {MAX_FILE_BYTES}")
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from exc


def _check_unique(path: Path, kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            raise ConfigError(f"{path}: {kind}.{index}.id: duplicate id {item_id!r}")
        seen.add(item_id)


def _check_reference(path: Path, field: str, ref: str, known: set[str]) -> None:
    if ref not in known:
        # The known ids are not listed: through the management API this message reaches teams, and brand ids
        # are other teams' business (a reader of the file has the list at hand).
        raise ConfigError(f"{path}: {field}: unknown brand {ref!r} (no brand of that id in brands.yaml)")


@contextmanager
def config_lock(config_dir: Path, exclusive: bool) -> Iterator[None]:
    """A lock on the configuration folder shared by every process: readers share it, a writer holds it alone.

    The folder itself is locked (flock on its descriptor), so no lock file is left beside people's files and a
    read-only folder can still be read. The lock is released when the descriptor closes, also on a crash.
    A process must not take it twice at once: two descriptors of one process exclude each other too.
    """
    fd = os.open(config_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def load_config(config_dir: Path) -> KaikuConfig:
    """Load brands.yaml (required), sources.yaml and alerts.yaml (optional) from one folder.

    Read under the folder's shared lock, so a change of several files (an import) is seen whole or not at all.
    """
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: configuration folder not found")
    with config_lock(config_dir, exclusive=False):
        return _load_folder(config_dir)


def _load_folder(config_dir: Path) -> KaikuConfig:
    brands_path = config_dir / "brands.yaml"
    sources_path = config_dir / "sources.yaml"
    alerts_path = config_dir / "alerts.yaml"
    brands = _load_file(brands_path, _BrandsFile, required=True).brands  # type: ignore[attr-defined]
    sources = _load_file(sources_path, _SourcesFile, required=False).sources  # type: ignore[attr-defined]
    alerts = _load_file(alerts_path, _AlertsFile, required=False).alerts  # type: ignore[attr-defined]

    _check_unique(brands_path, "brands", [b.id for b in brands])
    _check_unique(sources_path, "sources", [s.id for s in sources])
    _check_unique(alerts_path, "alerts", [a.id for a in alerts])
    known = {b.id for b in brands}
    for i, brand in enumerate(brands):
        for j, competitor in enumerate(brand.competitors):
            _check_reference(brands_path, f"brands.{i}.competitors.{j}", competitor, known)
    for i, source in enumerate(sources):
        for j, brand_id in enumerate(source.brands):
            _check_reference(sources_path, f"sources.{i}.brands.{j}", brand_id, known)
    for i, alert in enumerate(alerts):
        _check_reference(alerts_path, f"alerts.{i}.brand", alert.brand, known)
    return KaikuConfig(brands=brands, sources=sources, alerts=alerts)


_INTERVAL_UNITS = {"m": 60, "h": 3600, "d": 86400}


# An alert window below 5 minutes is noise the detector cannot score; above 90 days there is no history to
# compare with (the check reads 28 days by default). Both bounds are far from any sensible rule.
ALERT_WINDOW_MIN = timedelta(minutes=5)
ALERT_WINDOW_MAX = timedelta(days=90)


def bounded_interval(text: str, low: timedelta, high: timedelta, name: str) -> timedelta:
    """Parse an interval and check `low <= it <= high`, with an error naming the field and the bounds."""
    bounds = f"between {_format_interval(low)} and {_format_interval(high)}"
    # The digit count is bounded first: '99999999999999999999d' must be an error, not an OverflowError.
    match = re.fullmatch(r"(\d{1,9})([mhd])", text)
    if not match:
        raise ValueError(f"{name} must look like '30m', '6h' or '1d' ({bounds}), got {text!r}")
    value = timedelta(seconds=int(match.group(1)) * _INTERVAL_UNITS[match.group(2)])
    if not low <= value <= high:
        raise ValueError(f"{name} must be {bounds}, got {text!r}")
    return value


def _format_interval(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _INTERVAL_UNITS[unit] == 0:
            return f"{seconds // _INTERVAL_UNITS[unit]}{unit}"
    return f"{seconds}s"


def config_interval(text: str) -> timedelta:
    """'30m', '6h', '1d' (the interval format of sources.yaml and alerts.yaml) -> timedelta."""
    match = re.fullmatch(r"(\d+)([mhd])", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a positive interval like '30m', '6h' or '1d': {text!r}")
    return timedelta(seconds=int(match.group(1)) * _INTERVAL_UNITS[match.group(2)])
