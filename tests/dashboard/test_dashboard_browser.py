"""The dashboard in headless Chromium against a real API server over a populated local engine."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.security import API_CSP, DASHBOARD_CSP
from bench.browser import chromium, missing_browser, overview_render_ms, serve, sign_in
from core.settings import REPO_CONFIGS, Settings
from kaiku.local_engine import LocalEngine
from kaiku.wiring import database, team_store
from tests.dashboard import data

MISSING = missing_browser()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

# The README's screenshots are refreshed on request only (KAIKU_SCREENSHOTS=docs): a test run must not change
# tracked files; otherwise they go to a temporary folder so that taking them is still exercised.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" if os.environ.get("KAIKU_SCREENSHOTS") == "docs" else None


def screenshot_path(tmp_path_factory: pytest.TempPathFactory, name: str) -> str:
    folder = SCREENSHOTS or tmp_path_factory.mktemp("screenshots")
    return str(folder / name)


HASH = "overview?brand=revontuli&from={from}&to={to}&interval={interval}&tz={tz}".format(**data.PERIOD)


@pytest.fixture(scope="module")
def site(engine: LocalEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo-like server: the real API over a quarter of mentions, keys of two teams (`north` owns revontuli
    and its competitor tunturi, `fell` owns tunturi), an open incident and cases."""
    folder = tmp_path_factory.mktemp("dashboard")
    shutil.copytree(REPO_CONFIGS, folder / "configs")
    settings = Settings(
        elasticsearch_url=engine.url, index_alias="t-dashboard",
        config_dir=folder / "configs", data_dir=folder, rate_limit_burst=10_000,
    )  # fmt: skip
    from indexer.client import make_client

    es = make_client(engine.url)
    rows = data.seed(es, settings.index_alias)
    es.close()
    db = database(settings)
    data.seed_alerts(db, rows)
    db.dispose()
    store = team_store(settings)
    # north follows its competitor too: a competitor's figures are shown only for brands the team may see.
    keys = {team: store.create_key(store.create_team(team, brands=brands).id).secret
            for team, brands in (("north", ["revontuli", "tunturi"]), ("fell", ["tunturi"]))}  # fmt: skip
    with serve(create_app(settings)) as url:
        yield {"url": url, "keys": keys, "rows": rows}


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(site: dict[str, Any], downloads: Path) -> Iterator[Any]:
    driver = chromium(download_dir=downloads, height=1500)
    sign_in(driver, site["url"], site["keys"]["north"], HASH)
    yield driver
    driver.quit()


def api_get(site: dict[str, Any], path: str, **params: str) -> Any:
    response = httpx.get(
        site["url"] + path, params=params, headers={"Authorization": f"Bearer {site['keys']['north']}"}, timeout=60
    )
    response.raise_for_status()
    return response.json()


def severe_console_messages(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def test_overview_draws_every_chart_and_shows_the_apis_numbers(
    browser: Any, site: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    rendered_ms = overview_render_ms(browser)
    print(f"\nfirst complete render of the overview: {rendered_ms:.0f} ms after navigation start "
          f"({len(site['rows'])} mentions)")  # fmt: skip
    # Every chart drew a canvas with a non-empty series and has its text alternative and table.
    for name in ("volume", "share", "net", "sov"):
        assert js(browser, f"return !!document.querySelector('#plot-{name} canvas')"), name
        assert browser.find_element("id", f"plot-{name}").get_attribute("aria-label"), name
        rows = js(browser, f"return document.querySelectorAll('#table-{name} tbody tr').length")
        assert rows == 13, (name, rows)
    volumes = js(browser, "return [...document.querySelectorAll('#table-volume td[data-field=volume]')]"
                          ".map(td => Number(td.dataset.value))")  # fmt: skip
    assert all(v > 0 for v in volumes)
    # One week on screen equals the API's answer for that week alone.
    week = js(browser, "return document.querySelectorAll('#table-volume tbody tr')[11].dataset.key")
    answer = api_get(site, "/v1/brands/revontuli/metrics", interval="week", tz="Europe/Helsinki", **{"from": week})
    expected = next(row for row in answer["data"] if row["key"] == week)
    shown = js(
        browser,
        "const out = {}; for (const td of document.querySelectorAll(`tr[data-key='${arguments[0]}'] td`))"
        " out[td.dataset.field] = td.dataset.value; return out;",
        week,
    )
    for field in ("volume", "anger", "comfort", "delight", "unscored", "earned", "set_earned"):
        assert int(shown[field]) == expected[field], field
    for field in ("earned_share", "net_delight", "earned_sov", "tunturi.earned_sov"):
        want = expected["competitors"]["tunturi"]["earned_sov"] if field.startswith("tunturi") else expected[field]
        assert float(shown[field]) == pytest.approx(want), field
    # The visible text is the formatted figure, beside its counts.
    share_text = js(
        browser, f"return document.querySelector(`tr[data-key='{week}'] td[data-field=earned_share]`).textContent"
    )
    assert share_text == f"{expected['earned_share'] * 100:.1f}%"
    browser.save_screenshot(screenshot_path(tmp_path_factory, "dashboard-overview.png"))
    assert js(browser, UNLABELLED_CONTROLS) == []
    assert severe_console_messages(browser) == []


# Every form control and button has an accessible name (a <label>, aria-label or its text).
UNLABELLED_CONTROLS = """
return [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map(el => el.outerHTML);
"""


def test_search_highlights_a_known_mention_and_exports_the_rows_on_screen(
    browser: Any, site: dict[str, Any], downloads: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    # By keyboard: Enter on the view's link, the query typed and submitted with Enter.
    browser.find_element(By.CSS_SELECTOR, "#views a[data-view=explorer]").send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr"))
    box = browser.find_element(By.ID, "s-q")
    box.send_keys(data.KNOWN["query"] + Keys.ENTER)
    row = f"#results tbody tr[data-id='{data.KNOWN['id']}']"
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    assert [m.text for m in browser.find_elements(By.CSS_SELECTOR, row + " mark")] == ["lauteet"]
    # A broader search, then the page's export holds exactly the rows on screen.
    box.clear()
    box.send_keys("huone")
    browser.find_element(By.CSS_SELECTOR, "#search button[type=submit]").click()
    WebDriverWait(browser, 30).until(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, "#results tbody tr mark") and not d.find_elements(By.CSS_SELECTOR, row)
        )
    )
    on_screen = js(browser, "return [...document.querySelectorAll('#results tbody tr')].map(tr => tr.dataset.id)")
    assert len(on_screen) == 20
    browser.save_screenshot(screenshot_path(tmp_path_factory, "dashboard-explorer.png"))
    for button, suffix in (("export-csv", ".csv"), ("export-ndjson", ".ndjson")):
        browser.find_element(By.ID, button).click()
        deadline = time.monotonic() + 20
        while not (files := list(downloads.glob(f"*{suffix}"))) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert files, f"no {suffix} download"
        text = files[0].read_text(encoding="utf-8")
        if suffix == ".csv":
            exported = [r["id"] for r in csv.DictReader(io.StringIO(text))]
        else:
            exported = [json.loads(line)["id"] for line in text.splitlines()]
        assert exported == on_screen, suffix
    # The same page from the API: same ids in the same order.
    page = api_get(site, "/v1/mentions", brand="revontuli", q="huone", limit="20",
                   **{"from": "2026-08-24T00:00:00+03:00", "to": "2026-11-23T00:00:00+02:00"})  # fmt: skip
    assert [m["id"] for m in page["data"]] == on_screen
    # The next page follows the API's cursor.
    browser.find_element(By.ID, "page-next").click()
    WebDriverWait(browser, 30).until(lambda d: "2" in d.find_element(By.ID, "page-no").text)
    second = js(browser, "return [...document.querySelectorAll('#results tbody tr')].map(tr => tr.dataset.id)")
    assert second and not set(second) & set(on_screen)
    assert severe_console_messages(browser) == []


def test_an_outlier_becomes_a_case_then_alerts_cases_and_finnish_text(browser: Any, site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.find_element(By.CSS_SELECTOR, "#views a[data-view=outliers]").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#list-anger li.outlier button"))
    assert browser.find_elements(By.CSS_SELECTOR, "#list-delight li.outlier")
    with_case = {c["mention_id"] for c in api_get(site, "/v1/cases", limit="200")["data"]}
    outlier = next(li for li in browser.find_elements(By.CSS_SELECTOR, "#list-anger li.outlier")
                   if li.get_attribute("data-id") not in with_case)  # fmt: skip
    outlier.find_element(By.TAG_NAME, "button").click()
    browser.find_element(By.ID, "case-owner").send_keys("mikko@example.com")
    browser.find_element(By.ID, "case-submit").click()
    WebDriverWait(browser, 20).until(lambda d: "opened" in d.find_element(By.ID, "status").text)
    cases = api_get(site, "/v1/cases", limit="200")["data"]
    assert [c["owner"] for c in cases if c["mention_id"] == outlier.get_attribute("data-id")] == ["mikko@example.com"]

    browser.find_element(By.CSS_SELECTOR, "#views a[data-view=alerts]").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".incident .plot canvas"))
    spike = js(
        browser,
        "return [...document.querySelectorAll('.incident td[data-field=anger]')].map(td => Number(td.dataset.value))",
    )
    assert max(spike) >= 3
    assert len(browser.find_elements(By.CSS_SELECTOR, "#board .case")) == 5
    assert len(browser.find_elements(By.CSS_SELECTOR, "#board .case.due")) == 1
    Select(browser.find_element(By.ID, "ui-lang")).select_by_value("fi")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#views a[data-view=alerts]").text == "Hälytykset ja tapaukset"
    )
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fi"
    Select(browser.find_element(By.ID, "ui-lang")).select_by_value("en")
    assert severe_console_messages(browser) == []


def test_another_teams_key_never_sees_the_first_teams_brand(site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver = chromium()
    try:
        # Even asked for by name in the address, revontuli is not offered to the team owning only tunturi.
        sign_in(driver, site["url"], site["keys"]["fell"], HASH)
        overview_render_ms(driver)
        options = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#p-brand option")]
        assert options == ["tunturi"]
        assert js(driver, "return document.querySelector('#table-volume tbody tr').dataset.key")
        driver.find_element(By.CSS_SELECTOR, "#views a[data-view=explorer]").click()
        driver.implicitly_wait(10)
        brands = {td.text for td in driver.find_elements(By.CSS_SELECTOR, "#results tbody tr td:nth-child(2)")}
        assert brands == {"Tunturi Inn"}
        assert severe_console_messages(driver) == []
    finally:
        driver.quit()


def test_the_page_and_its_files_are_served_under_the_dashboards_own_policy(site: dict[str, Any]) -> None:
    """The browser tests fail on any console error, so they run under the policy the API really sends: a
    policy that blocked the page's own files (as the API-wide one did) fails them."""
    for path in ("/dashboard/", "/dashboard/dashboard.js", "/dashboard/dashboard.css"):
        policy = httpx.get(site["url"] + path).headers["content-security-policy"]
        assert policy == DASHBOARD_CSP, path
    assert "unsafe-inline" not in DASHBOARD_CSP and "unsafe-eval" not in DASHBOARD_CSP
    assert httpx.get(site["url"] + "/v1/brands").headers["content-security-policy"] == API_CSP
