"""`kaiku demo --no-serve` against the session's engine: the README's first command, minus the install; then
the walk-through of docs/api.md, request by request as written there, against the demo's data."""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from cli import app
from core.settings import REPO_CONFIGS, get_settings
from kaiku.local_engine import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Demo:
    result: Result
    data_dir: Path
    configs_before: dict[str, bytes]


@pytest.fixture(scope="module")
def demo(converted_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo run for the module, on the default embedded store; its environment stays set while the module's
    tests run."""
    data_dir = tmp_path_factory.mktemp("demo")
    alias = f"t-{uuid.uuid4().hex[:12]}"
    configs_before = snapshot(REPO_CONFIGS)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAIKU_DATA_DIR", str(data_dir))
        env.delenv("KAIKU_CONFIG_DIR", raising=False)  # the demo's default: the user's config, not the checkout's
        env.delenv("KAIKU_ADMIN_KEY", raising=False)
        env.delenv("KAIKU_ELASTICSEARCH_URL", raising=False)
        env.setenv("KAIKU_MODEL_CACHE_DIR", str(converted_cache))
        env.setenv("KAIKU_INDEX_ALIAS", alias)
        env.setenv("KAIKU_DEMO_SITE_PORT", str(free_port()))
        get_settings.cache_clear()
        try:
            yield Demo(CliRunner().invoke(app, ["demo", "--no-serve"]), data_dir, configs_before)
        finally:
            get_settings.cache_clear()


def test_demo_crawls_scores_indexes_and_prints_requests(demo: Demo) -> None:
    result = demo.result
    assert result.exit_code == 0, result.output
    assert "indexed 29, index failures: none" in result.output
    assert "store: embedded (SQLite" in result.output and "store: 29 scored mentions" in result.output
    assert (demo.data_dir / "mentions.sqlite3").exists()
    assert "/v1/mentions?brand=revontuli&experience=anger" in result.output
    assert "Authorization: Bearer kaiku_" in result.output
    assert f"config: {demo.data_dir / 'config'}" in result.output
    assert "Admin key: none (set KAIKU_ADMIN_KEY" in result.output  # --no-serve: no API to make one for


def test_management_api_writes_the_users_config_never_the_checkout(demo: Demo) -> None:
    from api.app import create_app

    settings = get_settings()
    assert settings.config_dir == demo.data_dir / "config"
    rule = {"id": "revontuli-delight", "brand": "revontuli", "experience": "delight", "window": "1d",
            "min_count": 3, "recipients": ["marketing@revontuli.example"]}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        key = client.app.state.kaiku.teams.create_key("demo").secret
        created = client.post("/v1/alerts", json=rule, headers={"Authorization": f"Bearer {key}"})
        assert created.status_code == 201, created.text
    assert "revontuli-delight" in (settings.config_dir / "alerts.yaml").read_text(encoding="utf-8")
    assert snapshot(REPO_CONFIGS) == demo.configs_before, "the demo or the API changed the checkout's configs/"


def walkthrough() -> list[str]:
    """The lines of docs/api.md's first shell block (the marketing question), comments dropped."""
    block = re.search(r"```sh\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.S)
    assert block, "docs/api.md has no ```sh block"
    lines = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def curl_argv(shell: list[str], line: str) -> list[str]:
    """The arguments bash gives curl for `line` after the walk-through's assignments (GNU date and all)."""
    script = "\n".join(["set -euo pipefail", *shell, "curl() { printf '%s\\0' \"$@\"; }", line])
    output = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True, timeout=30).stdout
    return output.split("\0")[:-1]


def send(client: TestClient, argv: list[str], folder: Path) -> tuple[httpx.Response, str | None]:
    """Do what curl would with the few options the walk-through uses: -G, -H, -o, --data-urlencode."""
    headers, data, url, out = {}, [], None, None
    args = iter(argv)
    for arg in args:
        if arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "--data-urlencode":
            name, _, value = next(args).partition("=")
            data.append(f"{name}={quote(value, safe='')}")
        elif arg == "-o":
            out = next(args)
        elif arg == "-G":
            pass  # data goes into the query string: the only use here
        else:
            assert not arg.startswith("-"), f"curl option {arg} not understood by this test"
            url = arg
    assert url, argv
    if data:
        url += ("&" if "?" in url else "?") + "&".join(data)
    response = client.get(url, headers=headers)
    if out:
        (folder / out).write_bytes(response.content)
    return response, out


def test_every_request_of_the_api_walkthrough_answers_on_demo_data(demo: Demo, tmp_path: Path) -> None:
    from api.app import create_app

    assert demo.result.exit_code == 0, demo.result.output
    shell: list[str] = []
    answers: dict[str, httpx.Response] = {}
    with TestClient(create_app(get_settings())) as client:
        for line in walkthrough():
            if line.startswith("kaiku "):
                created = CliRunner().invoke(app, shlex.split(line)[1:])
                assert created.exit_code == 0, created.output
                shell.append(f"KEY={shlex.quote(created.output.split()[-1])}")
            elif line.startswith("export KEY="):
                continue  # the placeholder for the key printed above
            elif line.startswith("curl "):
                response, out = send(client, curl_argv(shell, line), tmp_path)
                assert response.status_code == 200, (line, response.text)
                path = response.request.url.path
                answers[path] = response
                if out:
                    answers["file"] = httpx.Response(200, content=(tmp_path / out).read_bytes())
            else:
                shell.append(line)
    window = curl_argv(shell, 'curl "$FROM" "$TO"')
    start, end = (datetime.fromisoformat(value) for value in window)
    assert (end - start).days == 7 and start.weekday() == 0

    metrics = answers["/v1/brands/revontuli/metrics"].json()
    weeks = {datetime.fromisoformat(bucket["key"]): bucket for bucket in metrics["data"]}
    last_week = weeks[start]
    assert sum(bucket["volume"] for bucket in metrics["data"]) >= 10
    assert last_week["anger"] >= 1 and "tunturi" in last_week["competitors"]

    angriest = answers["/v1/mentions"].json()["data"]
    assert angriest, "no angry Finnish mention of revontuli last week"
    for mention in angriest:
        assert (mention["brand"], mention["experience"], mention["lang"]) == ("revontuli", "anger", "fi")
        assert start <= datetime.fromisoformat(mention["published_at"]) < end
    assert "Kamala kokemus" in angriest[0]["text"]

    outliers = answers["/v1/brands/revontuli/outliers"].json()["data"]
    assert outliers and {m["id"] for m in outliers} <= {m["id"] for m in angriest} and outliers[0]["score"] > 0.5

    sources = answers["/v1/brands/revontuli/breakdown"].json()["data"]
    assert sources and sum(row["volume"] for row in sources) == last_week["volume"], sources

    rows = list(csv.DictReader(io.StringIO(answers["file"].content.decode("utf-8-sig"))))
    assert rows and all(row["experience"] == "anger" and row["brand"] == "revontuli" for row in rows)
