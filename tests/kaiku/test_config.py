from pathlib import Path

import pytest

from core.config import MAX_FILE_BYTES, MAX_ITEMS, ConfigError, load_config

pytestmark = pytest.mark.unit


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


BRANDS = """
brands:
  - id: alpha
    name: Alpha
    competitors: [beta]
  - id: beta
    name: Beta Oy
"""


def test_shipped_configs_load(config_dir: Path) -> None:
    config = load_config(config_dir)
    assert {b.id for b in config.brands} == {"revontuli", "tunturi"}
    assert config.brand("revontuli").competitors == ["tunturi"]
    assert config.source("demo-reviews").spider == "reviews"
    assert all(rule.recipients for rule in config.alerts)


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS.replace("name: Beta Oy", "name: Beta Oy\n    colour: red"))
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert "brands.yaml" in message
    assert "brands.1.colour: unknown key" in message


def test_dangling_competitor_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS.replace("[beta]", "[gamma]"))
    with pytest.raises(ConfigError, match=r"brands.0.competitors.0: unknown brand 'gamma'"):
        load_config(tmp_path)


def test_bad_source_url_and_schedule(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS)
    write(
        tmp_path,
        "sources.yaml",
        "sources:\n  - id: s\n    spider: reviews\n    start_urls: [ftp://x]\n    schedule: often\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "sources.0.start_urls" in str(info.value)
    assert "sources.0.schedule" in str(info.value)


def test_unknown_spider_and_alert_brand(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS)
    write(tmp_path, "alerts.yaml", "alerts:\n  - id: a\n    brand: nope\n    recipients: [x@y.fi]\n")
    with pytest.raises(ConfigError, match=r"alerts.0.brand: unknown brand 'nope'"):
        load_config(tmp_path)
    write(tmp_path, "alerts.yaml", "alerts: []\n")
    write(tmp_path, "sources.yaml", "sources:\n  - id: s\n    spider: twitter\n    start_urls: [http://x]\n")
    with pytest.raises(ConfigError, match=r"sources.0.spider"):
        load_config(tmp_path)


def test_missing_brands_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="brands.yaml: file not found"):
        load_config(tmp_path)
    write(tmp_path, "brands.yaml", "brands: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path)


def test_duplicate_ids(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS.replace("id: beta", "id: alpha").replace("[beta]", "[]"))
    with pytest.raises(ConfigError, match="duplicate id 'alpha'"):
        load_config(tmp_path)


def test_sources_named_by_id_or_spider(config_dir: Path) -> None:
    config = load_config(config_dir)
    assert [s.id for s in config.sources_named("demo-reviews")] == ["demo-reviews"]
    assert [s.id for s in config.sources_named("reviews")] == ["demo-reviews"]
    assert config.sources_named("nope") == []


def test_recipient_languages_must_name_recipients(tmp_path: Path) -> None:
    write(tmp_path, "brands.yaml", BRANDS)
    rule = "alerts:\n  - id: a\n    brand: alpha\n    recipients: [x@y.fi]\n    recipient_languages: {{{who}: fi}}\n"
    write(tmp_path, "alerts.yaml", rule.format(who="z@y.fi"))
    with pytest.raises(ConfigError, match=r"alerts.0: Value error, recipient_languages names .*z@y.fi"):
        load_config(tmp_path)
    write(tmp_path, "alerts.yaml", rule.format(who="x@y.fi"))
    assert load_config(tmp_path).alerts[0].language_of("x@y.fi") == "fi"


def test_limits_hold_for_hand_edited_files_too(tmp_path: Path) -> None:
    """Issue 18.4: the API's limits are the configuration's, so a file cannot grow past them either."""
    aliases = ", ".join(f"a{i}" for i in range(MAX_ITEMS + 1))
    write(tmp_path, "brands.yaml", f"brands:\n  - id: alpha\n    name: Alpha\n    aliases: [{aliases}]\n")
    with pytest.raises(ConfigError, match=rf"brands.0.aliases: List should have at most {MAX_ITEMS} items"):
        load_config(tmp_path)
    write(tmp_path, "brands.yaml", "brands:\n  - id: alpha\n    name: Alpha\n" + "# padding\n" * MAX_FILE_BYTES)
    with pytest.raises(
        ConfigError, match=r"brands.yaml: the file has \d+ bytes; a configuration file may have at most"
    ):
        load_config(tmp_path)
