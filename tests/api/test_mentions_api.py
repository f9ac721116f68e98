"""The HTTP API against the real local engine (the model is a stand-in: its own tests live in tests/sentiment)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.mentions import CSV_COLUMNS, _flat
from core.mention import Mention, mention_id
from core.settings import Settings
from indexer.admin import ensure_index
from indexer.queries import MentionFilters, export_mentions
from indexer.writer import BulkWriter
from tests.api import dataset
from tests.api.conftest import ADMIN_KEY, bearer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def seed(es: Elasticsearch, alias: str) -> list[Mention]:
    ensure_index(es, alias, now=NOW)
    rows = [
        ("revontuli", "fi", "anger", "Kamala kokemus, huone oli likainen"),
        ("revontuli", "en", "delight", "Wonderful stay, the staff went above and beyond"),
        ("tunturi", "fi", "comfort", "Ihan tavallinen hotelliyö"),
        ("tunturi", "en", "anger", "Rude staff and a cold room"),
    ]
    mentions = [
        Mention(
            id=mention_id("reviews", f"https://demo/{n}"),
            brand=brand,
            source="reviews",
            url=f"https://demo/{n}",
            text=text,
            lang=lang,
            experience=experience,
            published_at=NOW - timedelta(days=n),
            crawled_at=NOW,
        )  # fmt: skip
        for n, (brand, lang, experience, text) in enumerate(rows)
    ]
    BulkWriter(es, alias, refresh=True).write(mentions)
    return mentions


def test_filters(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = seed(es, alias)
    body = api.get("/v1/mentions", params={"brand": "revontuli"}).json()
    assert body["count"] == 2
    assert [m["id"] for m in body["data"]] == [mentions[0].id, mentions[1].id]
    assert api.get("/v1/mentions", params={"experience": "anger", "lang": "en"}).json()["count"] == 1
    assert api.get("/v1/mentions", params={"q": "staff"}).json()["count"] == 2
    window = {"from": (NOW - timedelta(days=2, hours=1)).isoformat(), "to": (NOW - timedelta(hours=12)).isoformat()}
    assert {m["id"] for m in api.get("/v1/mentions", params=window).json()["data"]} == {
        mentions[1].id, mentions[2].id,
    }  # fmt: skip


def test_pagination_and_single_mention(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = seed(es, alias)
    first = api.get("/v1/mentions", params={"limit": 3}).json()
    assert len(first["data"]) == 3 and first["next"]
    second = api.get("/v1/mentions", params={"limit": 3, "cursor": first["next"]}).json()
    assert [m["id"] for m in first["data"] + second["data"]] == [m.id for m in mentions]
    assert second["next"] is None
    one = api.get(f"/v1/mentions/{mentions[2].id}")
    assert one.status_code == 200 and one.json()["text"] == mentions[2].text
    missing = api.get("/v1/mentions/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"experience": "furious"}, "experience"),
        ({"limit": 0}, "limit"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-01T00:00:00"}, "from"),  # no offset
        ({"lang": "Finnish!"}, "lang"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_invalid_parameters_are_4xx_naming_the_parameter(
    api: TestClient, es: Elasticsearch, alias: str, params: dict, parameter: str
) -> None:
    seed(es, alias)
    response = api.get("/v1/mentions", params=params)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert parameter in [e["parameter"] for e in response.json()["errors"]]


def test_hostile_query_text_never_breaks_search(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    # Syntax is never an error: text that is no valid brand query is searched as its words ("staff~~~^^^" is the
    # word staff, in the two staff mentions).
    for q, count in (('"unclosed', 0), ("((AND OR NOT", 0), ("staff~~~^^^", 2), ("\\", 0), ('"Staff went', 1)):
        response = api.get("/v1/mentions", params={"q": q, "limit": 50})
        assert response.status_code == 200, (q, response.text)
        assert response.json()["count"] == count, (q, response.json())
    # Except where the text would expand every indexed word: refused by the query-cost bound, naming it.
    for q in ("*", "text:* OR _exists_:id"):
        response = api.get("/v1/mentions", params={"q": q})
        assert (response.status_code, response.json()["limit"]) == (422, "MIN_PREFIX_LENGTH"), q


def test_health_routes_say_ok_and_nothing_more(anonymous: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/livez"):
        response = anonymous.get(path)
        assert (response.status_code, response.json()) == (200, {"status": "ok"}), path


def test_health_and_search_when_engine_is_down_reveal_no_details(
    alias: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine_url = "http://127.0.0.1:9"
    settings = Settings(elasticsearch_url=engine_url, index_alias=alias, data_dir=tmp_path,
                        admin_key=ADMIN_KEY)  # fmt: skip
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        for path in ("/healthz", "/readyz"):
            health = client.get(path)
            assert (health.status_code, health.json()) == (503, {"status": "unavailable"}), path
        assert client.get("/livez").status_code == 200  # the process itself is fine: no restart
        search = client.get("/v1/mentions")
        assert search.status_code == 503
        assert search.headers["content-type"].startswith("application/problem+json")
        assert search.json()["detail"] == "search store unavailable"
        assert "127.0.0.1:9" not in search.text and "Connection" not in search.text
    # The details are in the log, for the operator.
    assert "127.0.0.1:9" in caplog.text


def test_openapi_documents_the_routes(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/v1/mentions", "/v1/mentions/{mention_id}", "/healthz"} <= set(paths)
    names = {p["name"] for p in paths["/v1/mentions"]["get"]["parameters"]}
    assert {"brand", "q", "experience", "source", "lang", "from", "to", "cursor", "limit"} <= names


def test_sorting_and_cursor_bound_to_its_sort(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = dataset.seed(es, alias)
    angriest = api.get(
        "/v1/mentions", params={"brand": "revontuli", "experience": "anger", "lang": "fi", "sort": "angriest"}
    )
    assert [m["id"] for m in angriest.json()["data"]] == [mentions["R1"].id, mentions["B1"].id, mentions["R4"].id]
    delighted = api.get("/v1/mentions", params={"sort": "most_delighted", "limit": 2}).json()
    assert [m["id"] for m in delighted["data"]] == [mentions["R5"].id, mentions["A1"].id]
    oldest = api.get("/v1/mentions", params={"sort": "oldest", "limit": 1}).json()
    assert oldest["data"][0]["id"] == mentions["B1"].id
    # Pages of a sort chain through every match exactly once.
    seen, cursor = [], None
    while True:
        params = {"sort": "most_delighted", "limit": 5, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/mentions", params=params).json()
        seen += [m["id"] for m in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(m.id for m in mentions.values() if m.brand != "merituuli")
    # A cursor of one order is refused for another, naming the parameter.
    wrong = api.get("/v1/mentions", params={"sort": "newest", "cursor": delighted["next"]})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["parameter"] == "cursor"


def test_most_delighted_ranks_delight_before_comfort_and_angriest_anger_first(
    api: TestClient, es: Elasticsearch, alias: str
) -> None:
    """Issue 15.11: a confident comfort text (a 5-star review where that is the norm) is not delight; the class
    decides first, the intensity within it."""
    mentions = dataset.seed(es, alias)
    calm = {
        name: Mention(
            id=mention_id("reviews", f"https://demo/{name}"), brand="revontuli", source="reviews",
            url=f"https://demo/{name}", text=name, experience="comfort",
            polarity={"negative": negative, "neutral": 0.02, "positive": round(0.98 - negative, 2)},
            published_at=datetime(2026, 3, 25, tzinfo=UTC), crawled_at=dataset.CRAWLED,
        )
        for name, negative in (("glad", 0.01), ("sour", 0.96))
    }  # fmt: skip
    BulkWriter(es, alias, refresh=True).write(list(calm.values()))
    delighted = api.get("/v1/mentions", params={"brand": "revontuli", "sort": "most_delighted", "limit": 4}).json()
    assert [m["id"] for m in delighted["data"]] == [
        mentions["R5"].id, mentions["A1"].id, mentions["R2"].id, calm["glad"].id,
    ]  # fmt: skip
    angriest = api.get("/v1/mentions", params={"brand": "revontuli", "sort": "angriest", "limit": 4}).json()
    assert [m["id"] for m in angriest["data"]] == [
        mentions["R1"].id, mentions["B1"].id, mentions["R4"].id, calm["sour"].id,
    ]  # fmt: skip


def test_relevance_and_highlights(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = dataset.seed(es, alias)
    body = api.get("/v1/mentions", params={"q": "kylmä", "sort": "relevance", "highlight": "true"}).json()
    assert {m["id"] for m in body["data"]} == {mentions["R4"].id, mentions["T2"].id}
    for mention in body["data"]:
        assert "<em>kylmä</em>" in mention["highlight"]["text"][0]
    # Finnish stemming through the `text.fi` sub-field: "aamiaisen" finds "Aamiaisella".
    stemmed = api.get("/v1/mentions", params={"q": "aamiaisen", "highlight": "true"}).json()["data"]
    assert [m["id"] for m in stemmed] == [mentions["R4"].id] and "<em>" in stemmed[0]["highlight"]["text"][0]
    assert "highlight" not in api.get("/v1/mentions", params={"q": "kylmä"}).json()["data"][0]


HOSTILE = ['"unclosed', "((AND OR NOT", "staff~~~^^^", "\\", "a" * 500, "<script>",
           "kylmä\x00", "|||", "-", "🙂", "{\"query\": 1}", "/.*/", "[1 TO 2]"]  # fmt: skip
# A bare `*` would expand every indexed word: refused by the query-cost bound (indexer/search_text.py).
TOO_COSTLY = ["*", "text:* OR _exists_:id", '+-~*()"']


@pytest.mark.parametrize("sort", ["newest", "relevance"])
def test_hostile_text_with_sorting_highlight_and_export(
    api: TestClient, es: Elasticsearch, alias: str, sort: str
) -> None:
    dataset.seed(es, alias)
    for q in HOSTILE:
        response = api.get("/v1/mentions", params={"q": q, "sort": sort, "highlight": "true"})
        assert response.status_code == 200, (q, response.text)
        assert api.get("/v1/mentions/export", params={"q": q, "format": "ndjson"}).status_code == 200
    for q in TOO_COSTLY:
        response = api.get("/v1/mentions", params={"q": q, "sort": sort, "highlight": "true"})
        assert (response.status_code, response.json()["limit"]) == (422, "MIN_PREFIX_LENGTH"), q
        assert api.get("/v1/mentions/export", params={"q": q, "format": "ndjson"}).status_code == 422


def test_export_streams_every_match_as_csv_and_ndjson(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = dataset.seed(es, alias)
    ndjson = api.get("/v1/mentions/export", params={"format": "ndjson", "brand": "revontuli"})
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in ndjson.text.splitlines()]
    expected = [m for m in mentions.values() if m.brand == "revontuli"]
    assert sorted(r["id"] for r in rows) == sorted(m.id for m in expected)
    assert rows[0]["id"] == mentions["A1"].id  # newest first
    response = api.get("/v1/mentions/export", params={"format": "csv", "experience": "anger", "lang": "fi"})
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["id"] for r in table} == {mentions[n].id for n in ("R1", "R4", "B1", "T2")}  # X1's brand: no team
    r1 = next(r for r in table if r["id"] == mentions["R1"].id)
    assert (r1["polarity.negative"], r1["engagement.likes"], r1["author_followers"]) == ("0.9", "3", "100")
    empty = api.get("/v1/mentions/export", params={"format": "csv", "q": "nothingmatchesthis"})
    assert empty.status_code == 200 and empty.text.strip() == ",".join(CSV_COLUMNS)
    assert not response.content.startswith(b"\xef\xbb\xbf")
    # For spreadsheet programs that take CSV without a byte-order mark for their local code page (issue 15.11).
    excel = api.get("/v1/mentions/export", params={"format": "csv", "bom": "true", "experience": "anger", "lang": "fi"})
    assert excel.content.startswith(b"\xef\xbb\xbf" + ",".join(CSV_COLUMNS).encode())
    assert excel.content.removeprefix(b"\xef\xbb\xbf") == response.content
    ignored = api.get("/v1/mentions/export", params={"format": "ndjson", "bom": "true"})
    assert ignored.status_code == 422 and ignored.json()["errors"][0]["parameter"] == "bom"


@pytest.mark.unit
def test_csv_cells_cannot_be_formulas() -> None:
    row = _flat(
        {"id": "x", "text": '=HYPERLINK("http://evil")', "title": "-1+1", "author": "@me", "brands_matched": ["a", "b"]}
    )
    assert (row["text"], row["title"], row["author"]) == ('\'=HYPERLINK("http://evil")', "'-1+1", "'@me")
    assert row["brands_matched"] == "a|b" and row["polarity.negative"] is None


def test_export_pages_through_everything(es: Elasticsearch, alias: str) -> None:
    mentions = dataset.seed(es, alias)
    exported = list(export_mentions(es, alias, MentionFilters(), page_size=2))
    assert len(exported) == len(mentions) and len({m["id"] for m in exported}) == len(mentions)
