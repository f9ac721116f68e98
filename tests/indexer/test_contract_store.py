"""The `MentionStore` contract: the same mentions in, the same answers out, from every implementation.

Each test runs on the embedded store (SQLite) and on the Elasticsearch store (on the local engine), and checks
the answer against a plain-Python reference computed from the same mentions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.mention import Mention, ModelInfo, mention_id
from indexer import queries, sqlite_store
from indexer.analytics import EXPERIENCES, MISSING_KEY, Counts, engagement, intensity
from indexer.buckets import buckets, zone
from indexer.es_store import ElasticsearchMentionStore
from indexer.queries import InvalidCursor, MentionFilters
from indexer.sqlite_store import SQLiteMentionStore
from indexer.store import MentionStore, Selection

pytestmark = pytest.mark.integration

# Around Helsinki's autumn DST change (2026-10-25 04:00 local -> 03:00) and across quarter hours.
START = datetime(2026, 10, 20, tzinfo=UTC)
BRANDS = ("revontuli", "tunturi", "kide")
SOURCES = ("reviews", "rss", "mastodon")
TEXTS = {
    "fi": "Huone oli siisti ja aamiainen hyvä, kiitos {n}",
    "en": "The room was dirty and the breakfast cold, review {n}",
}


def make_mentions() -> list[Mention]:
    found = []
    for n in range(60):
        lang = ("fi", "en", None)[n % 3]
        experience = (None, "anger", "comfort", "delight", "comfort")[n % 5]
        published = START + timedelta(minutes=197 * n) if n % 13 else None  # every 13th has no date
        scored = experience is not None
        negative = round(0.05 + (n * 37 % 90) / 100, 2)
        found.append(
            Mention(
                id=mention_id("reviews", f"https://example.fi/r/{n}"),
                brand=BRANDS[n % 3 if n % 7 else 0],
                source=SOURCES[n % 3 if n % 4 else 1],
                url=f"https://example.fi/r/{n}",
                title="<b>Arvio</b>" if n % 4 == 0 else None,
                text=TEXTS[lang or "en"].format(n=n),
                lang=lang,
                published_at=published,
                crawled_at=START + timedelta(days=40),
                author_followers=(n * 113) % 1000 if n % 4 else None,
                polarity={"negative": negative, "neutral": 0.0, "positive": round(1 - negative, 2)} if scored else None,
                experience=experience,
                model={"id": "m", "version": "1" if n % 2 else "2"} if scored else None,
                engagement={"likes": n % 9, "replies": n % 4, "shares": None},
                dedup_bands=["03:00000000abcd", f"04:{n:012x}"] if n < 6 else [],
            )
        )
    return found


MENTIONS = make_mentions()
BY_ID = {m.id: m for m in MENTIONS}


@pytest.fixture(params=["embedded", "elasticsearch"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MentionStore]:
    if request.param == "embedded":
        made: MentionStore = SQLiteMentionStore(tmp_path / "mentions.sqlite3")
    else:
        client: Elasticsearch = request.getfixturevalue("es")
        made = ElasticsearchMentionStore(client, request.getfixturevalue("alias"), refresh=True)
    made.ensure_ready()
    yield made
    if request.param == "embedded":
        made.close()


@pytest.fixture
def filled(store: MentionStore) -> MentionStore:
    assert store.write(MENTIONS).indexed == len(MENTIONS)
    store.refresh()
    return store


def newest_key(m: Mention) -> tuple:
    # Newest first, mentions without a date last, ties by id.
    return (m.published_at is None, -(m.published_at.timestamp() if m.published_at else 0), m.id)


def reference(brands: tuple[str, ...], start: datetime, end: datetime) -> dict[str, Counts]:
    result = {b: Counts() for b in brands}
    for m in MENTIONS:
        if m.brand in result and m.published_at is not None and start <= m.published_at < end:
            counts = result[m.brand]
            counts.volume += 1
            counts.reach += m.author_followers or 0
            counts.reach_unknown += m.author_followers is None
            if m.experience:
                counts.by_class[m.experience] += 1
                counts.reach_by_class[m.experience] += m.author_followers or 0
    return result


def test_a_store_is_a_mention_store(store: MentionStore) -> None:
    assert isinstance(store, MentionStore)
    assert store.describe()["kind"] in {"sqlite", "elasticsearch"}


def test_get_returns_the_public_document(filled: MentionStore) -> None:
    mention = MENTIONS[1]
    expected = mention.to_document()
    del expected["dedup_bands"]
    assert filled.get(mention.id) == expected
    assert filled.get("no-such-id") is None


def test_paging_newest_first_sees_every_match_once_in_order(filled: MentionStore) -> None:
    filters = MentionFilters(brands=("revontuli", "tunturi"))
    expected = [m.id for m in sorted(MENTIONS, key=newest_key) if m.brand in filters.brands]  # type: ignore[operator]
    seen, cursor = [], None
    while True:
        page = filled.search(filters, size=7, cursor=cursor)
        assert page.count == len(expected)
        seen.extend(m["id"] for m in page.data)
        cursor = page.next
        if cursor is None:
            break
    assert seen == expected


def order_key(sort: str) -> Callable[[Mention], tuple]:
    """The sort key of a mention in the order `sort` (other than newest)."""
    classes = {"angriest": ("anger", "comfort", "delight"), "most_delighted": ("delight", "comfort", "anger")}

    def key(m: Mention) -> tuple:
        if sort == "oldest":
            value = m.published_at.timestamp() if m.published_at else None
            return (value is None, value or 0, m.id)
        # The class first (missing last), then the intensity within it (missing last).
        rank = classes[sort].index(m.experience) if m.experience else 3
        value = getattr(m.polarity, "negative" if sort == "angriest" else "positive", None)
        return (rank, value is None, -(value or 0), m.id)

    return key


@pytest.mark.parametrize("brands", [None, ("revontuli", "kide")], ids=["all", "two-brands"])
@pytest.mark.parametrize("sort", ["oldest", "angriest", "most_delighted"])
def test_other_orders_put_missing_values_last(filled: MentionStore, sort: str, brands: tuple[str, ...] | None) -> None:
    expected = [m.id for m in sorted(MENTIONS, key=order_key(sort)) if brands is None or m.brand in brands]
    seen, cursor = [], None
    for _ in range(20):
        page = filled.search(MentionFilters(brands=brands), size=11, cursor=cursor, sort=sort)  # type: ignore[arg-type]
        seen.extend(m["id"] for m in page.data)
        if (cursor := page.next) is None:
            break
    assert seen == expected


def test_filters_combine(filled: MentionStore) -> None:
    start, end = START + timedelta(days=1), START + timedelta(days=3)
    filters = MentionFilters(brand="tunturi", experience="comfort", source="reviews", start=start, end=end)
    expected = {
        m.id for m in MENTIONS
        if m.brand == "tunturi" and m.experience == "comfort" and m.source == "reviews"
        and m.published_at is not None and start <= m.published_at < end
    }  # fmt: skip
    page = filled.search(filters, size=100)
    assert {m["id"] for m in page.data} == expected and page.count == len(expected)


@pytest.mark.parametrize(
    "filters",
    [
        MentionFilters(),
        MentionFilters(brand="tunturi"),
        MentionFilters(brands=("revontuli", "kide"), experience="anger"),
        MentionFilters(brand="kide", brands=("revontuli",)),
        MentionFilters(start=START + timedelta(hours=13, minutes=7), end=START + timedelta(days=5, hours=3)),
        MentionFilters(brand="revontuli", start=START + timedelta(days=2, minutes=50)),
        MentionFilters(brands=("tunturi",), experience="comfort", end=START + timedelta(days=6, hours=20)),
    ],
    ids=["all", "brand", "brands-class", "brand-outside-brands", "between", "from", "to"],
)
def test_a_search_without_text_counts_every_match(filled: MentionStore, filters: MentionFilters) -> None:
    # The embedded store counts these from its rollups (and the undated mentions from the mentions).
    def matches(m: Mention) -> bool:
        published = m.published_at
        return (
            (filters.brand is None or m.brand == filters.brand)
            and (filters.brands is None or m.brand in filters.brands)
            and (filters.experience is None or m.experience == filters.experience)
            and (filters.start is None or (published is not None and published >= filters.start))
            and (filters.end is None or (published is not None and published < filters.end))
        )

    expected = sum(map(matches, MENTIONS))
    assert filled.search(filters, size=1).count == expected
    if filters == MentionFilters():
        assert expected == len(MENTIONS)


def test_a_cursor_of_another_order_is_refused(filled: MentionStore) -> None:
    page = filled.search(MentionFilters(), size=5)
    with pytest.raises(InvalidCursor):
        filled.search(MentionFilters(), size=5, cursor=page.next, sort="oldest")
    with pytest.raises(InvalidCursor):
        filled.search(MentionFilters(), size=5, cursor="not-a-cursor")


@pytest.mark.parametrize(
    ("q", "lang"),
    [("breakfast", None), ("aamiainen", "fi"), ('"breakfast cold"', None), ("siisti", None), ("rooms", "en")],
)
def test_text_query_finds_words_and_stems(filled: MentionStore, q: str, lang: str | None) -> None:
    word = {"rooms": "room"}.get(q, q.strip('"').split()[0])
    expected = {m.id for m in MENTIONS if word in m.text.lower() and (lang is None or m.lang == lang)}
    page = filled.search(MentionFilters(q=q, lang=lang), size=100)
    assert {m["id"] for m in page.data} == expected and page.count == len(expected)


@pytest.mark.parametrize("probe", [(64, 256), (1, 2)], ids=["walk", "list"])
def test_a_text_search_counts_up_to_the_limit_then_at_least(
    filled: MentionStore, monkeypatch: pytest.MonkeyPatch, probe: tuple[int, int]
) -> None:
    # Both stores read the limit at each search; 6 lies between the two queries' match counts below.
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 6)
    monkeypatch.setattr(sqlite_store, "SEARCH_COUNT_LIMIT", 6)
    # The embedded store finds a page of many matches by walking the rows in order, or ("list") gives up on that
    # after 2 rows and checks the rows against the list of every match.
    monkeypatch.setattr(sqlite_store, "PROBE_CHUNK", probe[0])
    monkeypatch.setattr(sqlite_store, "PROBE_LIMIT", probe[1])
    newest = sorted(MENTIONS, key=newest_key)
    many = [m.id for m in newest if "breakfast" in m.text]
    few = [m.id for m in newest if "breakfast" in m.text and m.brand == "tunturi" and m.experience == "anger"]
    two = ("revontuli", "tunturi")  # a team's brands
    of_two = [m.id for m in newest if "breakfast" in m.text and m.brand in two]
    assert 0 < len(few) <= 6 < len(of_two)
    for filters, expected, count, exact in (
        (MentionFilters(q="breakfast"), many, 6, False),  # past the limit the count says "at least"
        (MentionFilters(q="breakfast", brand="tunturi", experience="anger"), few, len(few), True),
        (MentionFilters(q="breakfast", brands=two), of_two, 6, False),
        (MentionFilters(q="breakf*", brands=two), of_two, 6, False),  # a prefix term: the list of matches
    ):
        seen, cursor = [], None
        while True:  # and the pages hold every match once, in order, either way
            page = filled.search(filters, size=4, cursor=cursor)
            assert (page.count, page.count_exact) == (count, exact)
            seen.extend(m["id"] for m in page.data)
            if (cursor := page.next) is None:
                break
        assert seen == expected


@pytest.mark.parametrize("probe", [(64, 256), (1, 2)], ids=["walk", "list"])
@pytest.mark.parametrize("sort", ["angriest", "most_delighted"])
def test_a_text_search_by_intensity_pages_through_every_class(
    filled: MentionStore, monkeypatch: pytest.MonkeyPatch, sort: str, probe: tuple[int, int]
) -> None:
    # Many matches (past the count limit): the embedded store walks the rows one class at a time (or checks them
    # against the list of matches); a page of 3 ends inside a class and the next goes on from there.
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 6)
    monkeypatch.setattr(sqlite_store, "SEARCH_COUNT_LIMIT", 6)
    monkeypatch.setattr(sqlite_store, "PROBE_CHUNK", probe[0])
    monkeypatch.setattr(sqlite_store, "PROBE_LIMIT", probe[1])
    two = ("revontuli", "tunturi")
    for filters in (MentionFilters(q="breakfast"), MentionFilters(q="breakfast", brands=two)):
        expected = [m.id for m in sorted(MENTIONS, key=order_key(sort))
                    if "breakfast" in m.text and (filters.brands is None or m.brand in two)]  # fmt: skip
        assert len({m.experience for m in MENTIONS if m.id in expected}) == 4  # three classes and unscored
        seen, cursor = [], None
        while True:
            page = filled.search(filters, size=3, cursor=cursor, sort=sort)  # type: ignore[arg-type]
            seen.extend(m["id"] for m in page.data)
            if (cursor := page.next) is None:
                break
        assert seen == expected


def test_highlights_are_escaped_html(filled: MentionStore) -> None:
    page = filled.search(MentionFilters(q="breakfast"), size=3, highlight=True)
    fragment = page.data[0]["highlight"]["text"][0]
    assert "<em>breakfast</em>" in fragment


@pytest.mark.parametrize(
    ("q", "expected"),
    [("<script>alert(1)</script>", 0), ("'; DROP TABLE mentions; --", 0), ('"unclosed breakfast', 0),
     ("((AND OR NOT", 0), ("text:* OR _exists_:id", 0), ("*", 0), ("kiitos OR 1=1", 20), ("breakfast -dirty", 0),
     ("kiitos NOT (siisti OR hyvä)", 0), ("room NEAR/4 breakfast", 40), ("room NEAR/3 breakfast", 0),
     ("bre* AND NOT kiitos", 40), ("NOT kiitos", 0), ("breakfast | kiitos", 60), ('"room dirty"~1', 40)],
)  # fmt: skip
def test_query_syntax_and_hostile_text(filled: MentionStore, q: str, expected: int) -> None:
    """Boolean syntax is the brand queries'; text that is no valid query is searched as its words, never raw."""
    assert filled.search(MentionFilters(q=q), size=5, highlight=True).count == expected
    assert filled.get(MENTIONS[0].id) is not None


@pytest.mark.parametrize(
    ("tz", "interval", "days"),
    [("Europe/Helsinki", "hour", 2), ("Europe/Helsinki", "day", 8), ("Europe/Helsinki", "week", 10),
     ("Asia/Kolkata", "hour", 2), ("Asia/Kolkata", "day", 8), ("Asia/Kathmandu", "day", 6), ("UTC", "month", 60)],
)  # fmt: skip
def test_metrics_per_calendar_bucket_in_any_zone(filled: MentionStore, tz: str, interval: str, days: int) -> None:
    first = datetime(2026, 10, 24, 20, tzinfo=UTC) if interval == "hour" else START
    calendar = buckets(first, first + timedelta(days=days), interval, zone(tz))  # type: ignore[arg-type]
    got = filled.brand_counts_per_bucket(list(BRANDS), calendar)
    assert got == [reference(BRANDS, b.start, b.end) for b in calendar]
    assert sum(c.volume for per in got for c in per.values()) > 0


def test_rewriting_moves_counts_and_never_adds_twice(filled: MentionStore) -> None:
    calendar = buckets(START, START + timedelta(days=8), "week", zone("Europe/Helsinki"))
    before = filled.brand_counts_per_bucket(list(BRANDS), calendar)
    assert filled.write(MENTIONS[:20]).indexed == 20  # a re-crawl
    filled.refresh()
    assert filled.brand_counts_per_bucket(list(BRANDS), calendar) == before
    target = next(m for m in MENTIONS if m.experience == "comfort" and m.published_at is not None)
    filled.write([target.model_copy(update={"experience": "anger", "author_followers": 5000})])  # reclassified
    filled.refresh()
    after = filled.brand_counts_per_bucket(list(BRANDS), calendar)
    i = next(k for k, b in enumerate(calendar) if b.start <= target.published_at < b.end)  # type: ignore[operator]
    old, new = before[i][target.brand], after[i][target.brand]
    assert new.volume == old.volume
    assert (new.by_class["anger"], new.by_class["comfort"]) == (old.by_class["anger"] + 1, old.by_class["comfort"] - 1)
    assert new.reach == old.reach - (target.author_followers or 0) + 5000


@pytest.mark.parametrize("by", ["source", "lang", "experience"])
def test_breakdown(filled: MentionStore, by: str) -> None:
    filters = MentionFilters(brand="revontuli", start=START, end=START + timedelta(days=5))
    result = filled.breakdown(filters, by, 2)  # type: ignore[arg-type]
    keys: dict[str, int] = {}
    for m in MENTIONS:
        if m.brand == "revontuli" and m.published_at and START <= m.published_at < START + timedelta(days=5):
            key = getattr(m, by) or MISSING_KEY
            keys[key] = keys.get(key, 0) + 1
    missing = keys.pop(MISSING_KEY, None)
    ranked = sorted(keys.items(), key=lambda kv: (-kv[1], kv[0]))
    expected = ranked[:2] + ([(MISSING_KEY, missing)] if missing else [])
    assert [(key, counts.volume) for key, counts in result.rows] == expected
    assert result.other == sum(n for _, n in ranked[2:])
    if by == "experience":
        assert all(counts.by_class[key] == counts.volume for key, counts in result.rows if key in EXPERIENCES)


def test_top_outliers_by_intensity_and_engagement(filled: MentionStore) -> None:
    filters = MentionFilters(brands=BRANDS)
    outliers = [m.to_document() for m in MENTIONS if m.experience in ("anger", "delight")]
    by_intensity = sorted(outliers, key=lambda m: (-intensity(m), m["id"]))[:5]
    assert [m["id"] for m in filled.most_intense(filters, ["anger", "delight"], 5)] == [m["id"] for m in by_intensity]
    by_engagement = sorted(outliers, key=lambda m: (-engagement(m), m["id"]))[:5]
    top, ranked = filled.most_engaged(filters, ["anger", "delight"], 5)
    assert [m["id"] for m in top] == [m["id"] for m in by_engagement] and ranked == len(outliers)


def test_export_streams_every_match_newest_first(filled: MentionStore) -> None:
    exported = [m["id"] for m in filled.export(MentionFilters(lang="fi"), page_size=4)]
    assert exported == [m.id for m in sorted(MENTIONS, key=newest_key) if m.lang == "fi"]
    two = ("tunturi", "kide")
    exported = [m["id"] for m in filled.export(MentionFilters(brands=two), page_size=4)]
    assert exported == [m.id for m in sorted(MENTIONS, key=newest_key) if m.brand in two]


def test_selection_for_rescore_and_reclassify(filled: MentionStore) -> None:
    not_current = Selection(not_model=("m", "2"))
    expected = [m.id for m in sorted(MENTIONS, key=newest_key) if not (m.model and m.model.version == "2")]
    assert filled.count(not_current) == len(expected)
    assert [d["id"] for page in filled.pages(not_current, 7) for d in page] == expected
    scored = Selection(filters=MentionFilters(brand="kide"), scored_only=True)
    assert filled.count(scored) == sum(1 for m in MENTIONS if m.brand == "kide" and m.polarity)
    page = next(filled.pages(Selection(), 100))
    assert Mention.model_validate(next(d for d in page if d["id"] == MENTIONS[2].id)) == MENTIONS[2]


def test_rewritten_mentions_leaving_the_selection_skip_nothing(filled: MentionStore) -> None:
    selection = Selection(not_model=("m", "3"))
    done = []
    for page in filled.pages(selection, 9):
        done.extend(d["id"] for d in page)
        filled.write([BY_ID[d["id"]].model_copy(update={"model": ModelInfo(id="m", version="3")}) for d in page])
        filled.refresh()
    assert sorted(done) == sorted(m.id for m in MENTIONS)
    assert filled.count(selection) == 0


def test_count_series_for_alerts(filled: MentionStore) -> None:
    start, end, step = START, START + timedelta(days=2, hours=5, minutes=7), timedelta(hours=3)
    got = filled.counts_per_slot("tunturi", "comfort", start, end, step)
    expected: dict[datetime, int] = {}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for m in MENTIONS:
        if m.brand == "tunturi" and m.experience == "comfort" and m.published_at and start <= m.published_at < end:
            slot = epoch + ((m.published_at - epoch) // step) * step
            expected[slot] = expected.get(slot, 0) + 1
    assert got == expected and expected


def test_norm_sample(filled: MentionStore) -> None:
    start, end = START, START + timedelta(days=3)
    chosen = sorted(
        (m for m in MENTIONS if m.brand in ("revontuli", "kide") and m.polarity and m.published_at
         and start <= m.published_at < end),
        key=newest_key,
    )[:6]  # fmt: skip
    expected = [m.polarity.positive - m.polarity.negative for m in chosen if m.polarity]
    assert filled.polarity_nets(["revontuli", "kide"], start, end, 6) == pytest.approx(expected)


def test_near_duplicate_candidates_share_a_band(filled: MentionStore) -> None:
    found = filled.near_duplicate_candidates(
        {MENTIONS[0].id: ["03:00000000abcd"], "new": ["04:000000000002"], "none": []}, limit=10
    )
    assert {c.id for c in found[MENTIONS[0].id]} == {m.id for m in MENTIONS[1:6]}
    assert [c.id for c in found["new"]] == [MENTIONS[2].id] and found["none"] == []
    assert found["new"][0].text == MENTIONS[2].text


def test_retention_deletes_old_mentions_and_their_counts(filled: MentionStore) -> None:
    cutoff = START + timedelta(days=2)
    old = [m for m in MENTIONS if (m.published_at or m.crawled_at) < cutoff]
    assert filled.delete_older_than(cutoff).documents_deleted == len(old)
    filled.refresh()
    assert filled.count(Selection()) == len(MENTIONS) - len(old)
    calendar = buckets(START, START + timedelta(days=7), "day", zone("UTC"))
    counts = filled.brand_counts_per_bucket(list(BRANDS), calendar)
    assert all(c.volume == 0 for per in counts[:2] for c in per.values())


def test_rewritten_or_deleted_mentions_leave_their_old_bands(filled: MentionStore) -> None:
    filled.write([MENTIONS[2].model_copy(update={"dedup_bands": ["05:000000000abc"]})])
    filled.delete_older_than(START + timedelta(minutes=197 * 3 + 1))  # MENTIONS[1..3] (MENTIONS[0] has no date)
    filled.refresh()
    assert filled.near_duplicate_candidates({"new": ["04:000000000002"]}, 5)["new"] == []
    assert filled.near_duplicate_candidates({"new": ["05:000000000abc"]}, 5)["new"] == []
    found = filled.near_duplicate_candidates({"new": ["03:00000000abcd"]}, 5)["new"]
    assert {c.id for c in found} == {MENTIONS[0].id, MENTIONS[4].id, MENTIONS[5].id}
