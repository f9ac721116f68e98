"""A real API server in a thread and headless Chromium driven by Selenium, shared by the browser tests and
bench/dashboard.py. Chromium and chromedriver are the distribution's (apt: chromium, chromium-driver); Selenium
Manager is never asked to download anything: both paths are given explicitly."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("KAIKU_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KAIKU_CHROMEDRIVER", "/usr/bin/chromedriver")


def missing_browser() -> str | None:
    """Why the browser cannot run here (the missing binary or package), or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() or shutil.which(path)):
            return f"{path} is missing (apt-get install chromium chromium-driver; scripts/test.sh does it as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    from kaiku.local_engine import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium(download_dir: Path | None = None, width: int = 1400, height: int = 1000) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=en-GB", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if download_dir is not None:
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(download_dir), "download.prompt_for_download": False}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


def sign_in(driver: Any, base_url: str, key: str, hash_: str = "") -> None:
    """Open the dashboard, sign in through the form, then open `hash_` (a view and its period)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/dashboard/")
    field = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "api-key")))
    field.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "views")))
    if hash_:
        # A fresh load with the key already in sessionStorage: the overview's first render is timed from here.
        driver.get(f"{base_url}/dashboard/#{hash_}")
        driver.refresh()


def overview_render_ms(driver: Any, timeout: float = 60) -> float:
    """Wait until the page marks the overview complete; the mark's time since navigation start, in ms."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.documentElement.dataset.overviewRendered === 'true'")
    )
    return float(driver.execute_script("return performance.getEntriesByName('kaiku:overview-rendered')[0].startTime"))
