"""The message catalogs: complete, compiled, installed, and what the emails and the dashboard really render from."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api.app import create_app
from api.dashboard import interface_texts
from api.dashboard.texts import TEXTS
from core.settings import REPO_CONFIGS, Settings
from kaiku import i18n
from kaiku.alerts import messages
from kaiku.alerts.messages import AlertFacts, render_alert

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
FI_PO = i18n.LOCALE_DIR / "fi" / "LC_MESSAGES" / "kaiku.po"
START = datetime(2026, 11, 20, 12, tzinfo=UTC)


def read_fi_po() -> dict[tuple[str | None, str], str]:
    with FI_PO.open("rb") as file:
        catalog = read_po(file)
    return {(m.context, m.id): m.string for m in catalog if m.id and not m.fuzzy}


def extracted() -> set[tuple[str | None, str]]:
    """Every text the code and the templates ask for, as `pybabel extract` with kaiku/locale/babel.cfg finds it."""
    with (i18n.LOCALE_DIR / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {"_": None, "gettext": None, "pgettext": ((1, "c"), 2), "text": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(REPO, method_map, options_map, keywords=keywords):
        found.add((context, message))
    return found


def test_every_text_in_the_code_has_a_finnish_translation_and_no_stale_ones_remain() -> None:
    texts = extracted()
    assert len(texts) > len(TEXTS) + 20  # the dashboard's and the emails' texts were found
    finnish = read_fi_po()
    assert sorted(texts - set(finnish), key=str) == [], "run pybabel extract + update (kaiku/i18n.py)"
    assert sorted(set(finnish) - texts, key=str) == [], "translations of texts no code uses any more"
    assert all(finnish[key] for key in texts), "untranslated texts"


def test_the_committed_mo_is_the_po_compiled() -> None:
    """A .po edited without `pybabel compile` would ship its old texts: installs read only the .mo."""
    with (FI_PO.with_suffix(".mo")).open("rb") as file:
        committed = {(m.context, m.id): m.string for m in read_mo(file) if m.id}
    assert committed == read_fi_po()


def test_the_package_data_ships_the_catalogs_and_the_templates() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"locale/*/LC_MESSAGES/*.mo"' in pyproject and '"alerts/templates/*"' in pyproject


def forget_loaded_catalogs() -> None:
    for cached in (i18n.translations, messages._environment, interface_texts):
        cached.cache_clear()


@pytest.fixture
def fresh_catalogs() -> Iterator[None]:
    """Catalogs, template environments and dashboard texts loaded anew during the test, and after it."""
    forget_loaded_catalogs()
    yield
    forget_loaded_catalogs()


def test_a_missing_catalog_is_an_error_not_english(monkeypatch: pytest.MonkeyPatch, fresh_catalogs: None) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", Path("/nonexistent"))
    with pytest.raises(i18n.CatalogMissing, match="fi"):
        i18n.translations("fi")
    assert i18n.translations("en").gettext("Peak") == "Peak"  # English is the source: needs no catalog


def facts(brand: str) -> AlertFacts:
    return AlertFacts(
        rule_id="r1", brand_name=brand, experience="anger", window=timedelta(hours=1), cooldown=timedelta(hours=6),
        start=START, peak=START, peak_value=14, baseline=2.0, score=9.5, severity="high",
        mentions=[{"text": "Kylmä huone", "url": "https://r.example/1"}], query_url="https://api.example/v1/mentions",
    )  # fmt: skip


def test_a_brand_name_with_html_is_escaped_in_the_html_part_only() -> None:
    brand = '<script>alert("x")</script> & Co'
    for language in ("en", "fi"):
        rendered = render_alert(facts(brand), language)
        assert "<script>" not in rendered.html, language
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html, language
        assert brand in rendered.text and brand in rendered.subject, language  # plain text: as written


def test_emails_and_dashboard_render_from_the_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_catalogs: None
) -> None:
    """A translator's change to the .po, once compiled, is what the Finnish email and dashboard show."""
    assert render_alert(facts("Revontuli"), "en").text.startswith("Mentions of Revontuli by angry customers")
    assert "vakavuus korkea" in render_alert(facts("Revontuli"), "fi").text
    with FI_PO.open("rb") as file:
        catalog = read_po(file)
    catalog.get("Peak").string = "HUIPPU-TESTI"
    catalog.get("Overview", context="nav.overview").string = "YLEISKUVA-TESTI"
    folder = tmp_path / "fi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    (folder / "kaiku.mo").write_bytes(buffer.getvalue())
    shutil.copy(FI_PO, folder / "kaiku.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    forget_loaded_catalogs()
    rendered = render_alert(facts("Revontuli"), "fi")
    assert "HUIPPU-TESTI: 14 mainintaa" in rendered.text and '<th align="left">HUIPPU-TESTI</th>' in rendered.html
    assert "Peak:" in render_alert(facts("Revontuli"), "en").text
    settings = Settings(data_dir=tmp_path / "data", config_dir=REPO_CONFIGS, api_db=tmp_path / "api.sqlite3")
    with TestClient(create_app(settings)) as client:
        served = client.get("/dashboard/messages.json").json()
    assert served["fi"]["nav.overview"] == "YLEISKUVA-TESTI" and served["en"]["nav.overview"] == "Overview"
    assert set(served["fi"]) == set(served["en"]) == set(TEXTS)


def test_every_key_the_dashboard_page_uses_has_a_text() -> None:
    static = REPO / "api" / "dashboard" / "static"
    page = (static / "index.html").read_text()
    script = (static / "dashboard.js").read_text()
    used = set(re.findall(r'data-i18n="([\w.-]+)"', page))
    used |= {key for pairs in re.findall(r'data-i18n-attr="([^"]+)"', page) for key in re.findall(r":([\w.-]+)", pairs)}
    used |= set(re.findall(r'\bt\("([\w.-]+)"', script))
    prefixes = {key for key in used if key.endswith(".")}  # t("severity." + level): keys built at run time
    assert len(used) > 50
    assert sorted(used - prefixes - set(TEXTS)) == []
    assert all(any(key.startswith(prefix) for key in TEXTS) for prefix in prefixes)
