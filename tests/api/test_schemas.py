"""The OpenAPI document describes every answer: a Mention schema with the stored document's fields, a schema for
every JSON success, and answers that match them."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.mention import Mention as StoredMention
from indexer.queries import INTERNAL_FIELDS
from tests.api.dataset import WINDOW, seed

pytestmark = pytest.mark.integration


def _schema_of(spec: dict, ref: dict) -> dict:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_openapi_document_has_a_mention_schema_with_every_stored_field(app: FastAPI) -> None:
    spec = app.openapi()
    mention = spec["components"]["schemas"]["Mention"]
    public = set(StoredMention.model_fields) - INTERNAL_FIELDS
    assert set(mention["properties"]) == public  # a field added to the document must be added to the API's too
    assert set(mention["required"]) == {"id", "brand", "source", "url", "text", "crawled_at"}
    experience = [option.get("enum") for option in mention["properties"]["experience"]["anyOf"]]
    assert experience == [["anger", "comfort", "delight"], None]
    assert set(_schema_of(spec, mention["properties"]["polarity"]["anyOf"][0])["properties"]) == {
        "negative", "neutral", "positive"
    }  # fmt: skip
    one = spec["paths"]["/v1/mentions/{mention_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert one["schema"] == {"$ref": "#/components/schemas/Mention"}
    listed = _schema_of(
        spec, spec["paths"]["/v1/mentions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    searched = _schema_of(spec, listed["properties"]["data"]["items"])
    assert set(searched["properties"]) == public | {"highlight"}


def test_every_json_success_has_a_schema(app: FastAPI) -> None:
    spec = app.openapi()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204" or path in ("/metrics", "/v1/mentions/export"):
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                # a named schema, or a choice of named schemas (a source: one model per spider)
                named = "$ref" in schema or all("$ref" in choice for choice in schema.get("oneOf", [{}]))
                if not named:
                    missing.append((method, path, status, schema))
    assert not missing


def test_answers_keep_the_stored_fields_and_add_no_nulls(api: TestClient, es: Elasticsearch, alias: str) -> None:
    seeded = seed(es, alias)
    stored = next(iter(seeded.values())).to_document()
    stored = {k: v for k, v in stored.items() if k not in INTERNAL_FIELDS}
    one = api.get(f"/v1/mentions/{stored['id']}").json()
    assert set(one) == set(stored)  # nothing dropped, no `highlight` or `score` added
    page = api.get("/v1/mentions", params={"q": "staff", "highlight": "true", **WINDOW}).json()
    assert page["data"] and all("highlight" in m for m in page["data"]) and "next" in page
    assert all("highlight" not in m for m in api.get("/v1/mentions", params=WINDOW).json()["data"])
    outliers = api.get("/v1/brands/revontuli/outliers", params=WINDOW).json()
    assert outliers["data"] and all(isinstance(m["score"], float) for m in outliers["data"])
    metrics = api.get("/v1/brands/revontuli/metrics", params={"interval": "week", **WINDOW}).json()
    assert "reach" not in metrics["data"][0] and metrics["next"] is None
    with_reach = api.get("/v1/brands/revontuli/metrics", params={"interval": "week", "reach": "true", **WINDOW})
    assert set(with_reach.json()["data"][0]["reach"]) >= {"volume", "earned", "earned_sov", "unknown"}


def test_the_mention_filters_are_one_model_whose_errors_name_the_parameter(app: FastAPI, api: TestClient) -> None:
    spec = app.openapi()["paths"]
    filters = {"brand", "q", "experience", "source", "lang", "from", "to"}
    searched = {p["name"] for p in spec["/v1/mentions"]["get"]["parameters"]}
    exported = {p["name"] for p in spec["/v1/mentions/export"]["get"]["parameters"]}
    assert searched == filters | {"sort", "highlight", "limit", "cursor"}
    assert exported == filters | {"format", "bom"}
    for path, params, named in [
        ("/v1/mentions", {"limit": "0"}, "limit"),
        ("/v1/mentions", {"lang": "Finnish"}, "lang"),
        ("/v1/mentions/export", {"format": "csv", "experience": "rage"}, "experience"),
        ("/v1/mentions/export", {}, "format"),
        ("/v1/brands/revontuli/outliers", {"rank": "loudest"}, "rank"),
    ]:
        response = api.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert [(e["parameter"], e["in"]) for e in response.json()["errors"]] == [(named, "query")], response.text
