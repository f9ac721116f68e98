"""POST/PUT /v1/alerts refuse a window or cooldown that is zero, too short or absurd, with a 422 naming the field,
and write nothing (issue 15 item 2: `0m` and `99999999999999999999d` used to answer 201 and break every check)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.config import load_config
from core.settings import Settings
from tests.api.conftest import bearer

pytestmark = pytest.mark.integration

RULE = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "recipients": ["m@r.example"]}


@pytest.mark.parametrize(
    ("field", "value"), [("window", "0m"), ("window", "99999999999999999999d"), ("window", "1m"), ("cooldown", "0m")]
)
def test_bad_window_is_a_422_naming_it(
    app: FastAPI, keys: dict, api_settings: Settings, field: str, value: str
) -> None:
    before = (api_settings.config_dir / "alerts.yaml").read_bytes()
    with TestClient(app, headers=bearer(keys["north"])) as north:
        answer = north.post("/v1/alerts", json={**RULE, field: value})
        assert answer.status_code == 422
        [error] = [e for e in answer.json()["errors"] if e["parameter"] == field]
        assert "between" in str(error) and value in str(error)
        assert north.post("/v1/alerts", json={**RULE, "window": "90d"}).status_code == 201
        assert north.put(f"/v1/alerts/{RULE['id']}", json={**RULE, field: value}).status_code == 422
    assert before != (api_settings.config_dir / "alerts.yaml").read_bytes()  # only the valid rule was written
    assert load_config(api_settings.config_dir).alerts[-1].window == "90d"
