"""`kaiku crawl` of a platform source: credentials and the state file come from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.platform_fakes import YouTube, serve
from cli import app
from core.settings import get_settings
from kaiku.local_engine import LocalEngine

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_kaiku_crawl_uses_the_key_and_the_state_file_of_the_environment(
    engine: LocalEngine, converted_cache: Path, alias: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, stop = serve(YouTube().handle)  # answers 403 without the key
    config = tmp_path / "configs"
    config.mkdir()
    (config / "brands.yaml").write_text((Path("configs") / "brands.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (config / "sources.yaml").write_text(
        f"sources:\n  - {{id: yt, spider: youtube, base_url: '{server.url}', video_ids: [dQw4w9WgXcQ]}}\n",
        encoding="utf-8",
    )
    for name, value in {
        "KAIKU_ELASTICSEARCH_URL": engine.url,
        "KAIKU_MODEL_CACHE_DIR": str(converted_cache),
        "KAIKU_INDEX_ALIAS": alias,
        "KAIKU_DATA_DIR": str(tmp_path / "data"),
        "KAIKU_CONFIG_DIR": str(config),
        "KAIKU_YOUTUBE_API_KEY": YouTube.key,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["crawl", "youtube"])  # by spider name: every youtube source
    finally:
        get_settings.cache_clear()
        stop()
    assert first.exit_code == 0, first.output
    assert "spider youtube (source yt): finished" in first.output
    assert "indexed 3, index failures: none" in first.output
    assert all(request.headers["x-goog-api-key"] == YouTube.key for request in server.api_requests())
    state = json.loads((tmp_path / "data" / "crawl-state.json").read_text(encoding="utf-8"))
    assert list(state) == ["yt\x1fdQw4w9WgXcQ:*"]
