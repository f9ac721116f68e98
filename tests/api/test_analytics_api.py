"""Metric definitions (docs/design.md §2) against hand-computed values on tests/api/dataset.py, in the local engine."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from tests.api.dataset import WINDOW, seed

pytestmark = pytest.mark.integration

EMPTY = {
    "volume": 0, "anger": 0, "comfort": 0, "delight": 0, "unscored": 0, "earned": 0,
    "earned_share": None, "net_delight": None, "set_earned": 0, "earned_sov": None,
}  # fmt: skip


def weekly(api: TestClient, **params: str) -> dict:
    response = api.get(
        "/v1/brands/revontuli/metrics", params={"interval": "week", "tz": "Europe/Helsinki", **WINDOW, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


def without_reach(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in {"key", "end", "competitors", "reach"}}


def test_weekly_metrics_match_hand_computed_values(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    body = weekly(api)
    assert body["competitive_set"] == ["revontuli", "tunturi"]
    assert body["from"] == "2026-03-23T00:00:00+02:00" and body["to"] == "2026-04-13T00:00:00+03:00"
    # Local Monday midnights; the offset changes with DST on 29 March.
    assert [row["key"] for row in body["data"]] == [
        "2026-03-23T00:00:00+02:00", "2026-03-30T00:00:00+03:00", "2026-04-06T00:00:00+03:00",
    ]  # fmt: skip
    week1, week2, week3 = body["data"]
    # Week 1: R1 anger, R2 delight, R3 comfort; tunturi T1, T2 anger: the set has 4 outliers.
    assert without_reach(week1) == {
        "volume": 3, "anger": 1, "comfort": 1, "delight": 1, "unscored": 0, "earned": 2,
        "earned_share": 0.666667, "net_delight": 0.0, "set_earned": 4, "earned_sov": 0.5,
    }  # fmt: skip
    assert week1["competitors"]["tunturi"] == {
        "volume": 2, "anger": 2, "comfort": 0, "delight": 0, "unscored": 0, "earned": 2,
        "earned_share": 1.0, "net_delight": -1.0, "set_earned": 4, "earned_sov": 0.5,
    }  # fmt: skip
    # Week 2: R4 anger, R5 delight, R6 unscored; tunturi only T3 comfort.
    assert without_reach(week2) == {
        "volume": 3, "anger": 1, "comfort": 0, "delight": 1, "unscored": 1, "earned": 2,
        "earned_share": 0.666667, "net_delight": 0.0, "set_earned": 2, "earned_sov": 1.0,
    }  # fmt: skip
    assert week2["competitors"]["tunturi"]["earned_sov"] == 0.0
    assert week2["competitors"]["tunturi"]["net_delight"] is None  # no outliers: no ratio, not a fake 0
    # Week 3 is empty and still present, as zeros.
    assert without_reach(week3) == EMPTY and week3["competitors"]["tunturi"] == EMPTY
    # B1 (a minute before `from`), A1 (exactly at `to`) and X1 (outside the set) count nowhere.
    assert without_reach(body["totals"]) == {
        "volume": 6, "anger": 2, "comfort": 1, "delight": 2, "unscored": 1, "earned": 4,
        "earned_share": 0.666667, "net_delight": 0.0, "set_earned": 6, "earned_sov": 0.666667,
    }  # fmt: skip


def test_reach_weighted_metrics(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    week1 = weekly(api, reach="true")["data"][0]
    # Followers: R1 100 (anger), R2 50 (delight), R3 unknown; the set's outliers: 100 + 50 + T1 1000 + T2 unknown.
    assert week1["reach"] == {
        "volume": 150.0, "earned": 150.0, "earned_share": 1.0, "net_delight": -0.333333, "unknown": 1,
        "set_earned": 1150.0, "earned_sov": 0.130435,
    }  # fmt: skip
    assert "reach" not in weekly(api)["data"][0]


def test_daily_buckets_across_the_dst_change(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    params = {
        "interval": "day",
        "tz": "Europe/Helsinki",
        "from": "2026-03-29T00:00:00+02:00",
        "to": "2026-03-31T00:00:00+03:00",
    }
    body = api.get("/v1/brands/revontuli/metrics", params={**params, "competitors": "false"}).json()
    assert [(row["key"], row["end"]) for row in body["data"]] == [
        ("2026-03-29T00:00:00+02:00", "2026-03-30T00:00:00+03:00"),  # a 23-hour day
        ("2026-03-30T00:00:00+03:00", "2026-03-31T00:00:00+03:00"),
    ]
    assert [row["anger"] for row in body["data"]] == [0, 1]  # R4 is Monday locally
    assert "competitors" not in body["data"][0]
    # The same instants in UTC days put R4 on Sunday.
    utc = api.get("/v1/brands/revontuli/metrics", params={**params, "tz": "UTC"}).json()
    assert [(row["key"], row["anger"]) for row in utc["data"]] == [
        ("2026-03-28T00:00:00+00:00", 0), ("2026-03-29T00:00:00+00:00", 1), ("2026-03-30T00:00:00+00:00", 0),
    ]  # fmt: skip


def test_monthly_and_hourly_intervals(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    monthly = weekly(api, interval="month")["data"]
    assert [(row["key"], row["volume"]) for row in monthly] == [
        ("2026-03-01T00:00:00+02:00", 6), ("2026-04-01T00:00:00+03:00", 2),  # B1, R1..R5; R6, A1
    ]  # fmt: skip
    hours = {"interval": "hour", "from": "2026-03-22T22:00:00Z", "to": "2026-03-23T00:00:00Z"}
    hourly = weekly(api, **hours)["data"]
    assert [(row["key"], row["volume"]) for row in hourly] == [
        ("2026-03-23T00:00:00+02:00", 1), ("2026-03-23T01:00:00+02:00", 0),
    ]  # fmt: skip


def test_breakdowns(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seed(es, alias)
    by_lang = api.get("/v1/brands/revontuli/breakdown", params={"by": "lang", **WINDOW}).json()
    rows = {row["key"]: row for row in by_lang["data"]}
    assert set(rows) == {"fi", "en", "unknown"}
    assert (rows["fi"]["volume"], rows["fi"]["earned"], rows["fi"]["net_delight"]) == (3, 2, -1.0)
    assert (rows["en"]["volume"], rows["en"]["earned"], rows["en"]["net_delight"]) == (2, 2, 1.0)
    assert rows["unknown"]["unscored"] == 1
    by_source = api.get("/v1/brands/revontuli/breakdown", params={"by": "source", **WINDOW}).json()
    assert {row["key"]: row["volume"] for row in by_source["data"]} == {"reviews": 5, "rss": 1}
    by_class = api.get("/v1/brands/revontuli/breakdown", params={"by": "experience", **WINDOW}).json()
    assert {row["key"]: row["volume"] for row in by_class["data"]} == {
        "anger": 2,
        "delight": 2,
        "comfort": 1,
        "unknown": 1,
    }


def test_top_outliers_by_intensity_and_engagement(api: TestClient, es: Elasticsearch, alias: str) -> None:
    mentions = seed(es, alias)
    intense = api.get("/v1/brands/revontuli/outliers", params={"limit": 3, **WINDOW}).json()
    assert [(m["id"], m["score"]) for m in intense["data"]] == [
        (mentions["R5"].id, 0.95), (mentions["R1"].id, 0.9), (mentions["R2"].id, 0.8),
    ]  # fmt: skip
    angry_fi = api.get("/v1/brands/revontuli/outliers", params={"experience": "anger", "lang": "fi", **WINDOW})
    assert [m["id"] for m in angry_fi.json()["data"]] == [mentions["R1"].id, mentions["R4"].id]
    engaged = api.get("/v1/brands/revontuli/outliers", params={"rank": "engagement", **WINDOW}).json()
    assert [(m["id"], m["score"]) for m in engaged["data"]] == [
        (mentions["R4"].id, 20), (mentions["R2"].id, 15), (mentions["R1"].id, 3), (mentions["R5"].id, 0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("metrics", {"interval": "fortnight"}, "interval"),
        ("metrics", {"tz": "Mars/Olympus"}, "tz"),
        # Issue 18.11 and 15.1: a folder of the zone database, names too long for a file name, other files there.
        ("metrics", {"tz": "Europe"}, "tz"),
        ("metrics", {"tz": "Europe/" + "x" * 300}, "tz"),
        ("metrics", {"tz": "x" * 300}, "tz"),
        ("metrics", {"tz": "zone.tab"}, "tz"),
        ("metrics", {"tz": "../../etc/passwd"}, "tz"),
        ("metrics", {"tz": "Europe/Helsinki\x00"}, "tz"),
        ("metrics", {"tz": ""}, "tz"),
        ("metrics", {"from": "2026-04-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ("metrics", {"interval": "hour", "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "interval"),
        ("metrics", {"from": "2026-03-01T00:00:00"}, "from"),
        ("breakdown", {"by": "author"}, "by"),
        ("breakdown", {}, "by"),
        ("outliers", {"rank": "loudest"}, "rank"),
        ("outliers", {"limit": 1000}, "limit"),
    ],
)
def test_invalid_parameters_name_the_parameter(
    api: TestClient, es: Elasticsearch, alias: str, path: str, params: dict, parameter: str
) -> None:
    seed(es, alias)
    response = api.get(f"/v1/brands/revontuli/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert parameter in [e["parameter"] for e in response.json()["errors"]]


def test_brand_list_and_unknown_brand(api: TestClient) -> None:
    body = api.get("/v1/brands").json()
    assert [(b["id"], b["competitors"]) for b in body["data"]] == [
        ("revontuli", ["tunturi"]),
        ("tunturi", ["revontuli"]),
    ]
    missing = api.get("/v1/brands/nosuch/metrics")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "moment",
    ["0341-09-29T04:33:59-22:37", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1969-12-31T23:00:00Z"],
)
def test_times_the_engine_cannot_take_are_422(api: TestClient, es: Elasticsearch, alias: str, moment: str) -> None:
    seed(es, alias)
    for path, extra in (("metrics", {}), ("breakdown", {"by": "source"}), ("outliers", {})):
        response = api.get(f"/v1/brands/revontuli/{path}", params={"from": moment, **extra})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0]["parameter"] == "from"
    assert api.get("/v1/mentions", params={"to": moment}).status_code == 422


def test_an_unencoded_plus_in_a_time_is_taken_as_the_offset(api: TestClient, es: Elasticsearch, alias: str) -> None:
    """Issue 15.9: `+02:00` typed into a URL arrives as ` 02:00`; where that is unambiguous it is read as +02:00."""
    seed(es, alias)
    encoded = api.get("/v1/brands/revontuli/metrics", params={"interval": "week", "tz": "Europe/Helsinki", **WINDOW})
    typed = api.get(
        "/v1/brands/revontuli/metrics?interval=week&tz=Europe/Helsinki"
        "&from=2026-03-23T00:00:00+02:00&to=2026-04-13T00:00:00+03:00"
    )
    assert typed.status_code == 200, typed.text
    assert typed.json() == encoded.json()
    assert api.get("/v1/mentions?from=2026-03-23T00:00:00.5+0200").status_code == 200
    # What is still not a time says how to send one.
    wrong = api.get("/v1/mentions?from=2026-03-23T00:00:00+2 hours")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["parameter"] == "from"
    assert "%2B" in wrong.json()["errors"][0]["msg"]
