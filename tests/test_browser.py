"""The query page in a real browser: headless Chromium (Debian's chromium and chromium-driver,
installed by `make test`) driven by selenium opens the page of a running `kg serve` on the seed
build, runs a saved query pasted into the YASGUI editor, and reads the rendered results table.
A screenshot of the page is kept in artifacts/ (gitignored)."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from test_queries import SAVED

from kg.query import bind_params, query_with_values
from kg.serve import free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SEEDS = Path(__file__).parent / "fixtures" / "seeds"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


@pytest.fixture(scope="module")
def endpoint(seed_out: Path) -> Iterator[str]:
    """`kg serve` on the seed build, as the user starts it; yields the page's URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "serve", "--out", str(seed_out), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "query", params={"query": "ASK {}"}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "kg serve did not start"
            time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} missing: `make test` installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, css: str, timeout: float = 20):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css), f"nothing matches {css!r}"
    )


def test_a_saved_query_pasted_in_the_query_page_shows_its_rows(endpoint, browser):
    from selenium.webdriver.common.by import By

    name = "meetings-in-range"
    params = yaml.safe_load((SEEDS / "params.yaml").read_text(encoding="utf-8"))[name]
    text = query_with_values(SAVED[name], bind_params(SAVED[name], params))
    browser.get(endpoint)
    wait_for(browser, ".CodeMirror")
    browser.execute_script(
        "document.querySelector('.CodeMirror').CodeMirror.setValue(arguments[0])", text
    )
    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    rows = wait_for(browser, ".yasr table.dataTable tbody tr")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"browser-{name}.png"))

    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, ".yasr table thead th")]
    table = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    with (SEEDS / "expected" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    assert [h for h in header if h] == list(expected[0])
    assert len(table) == len(expected)
    shown = [" | ".join(cells) for cells in table]
    for row in expected:  # every tested row is on screen, its name and place in one table row
        assert any(
            row["meetingName"] in line and row["placeName"] in line and row["date"] in line
            for line in shown
        ), (row, shown)
    summary = browser.find_element(By.CSS_SELECTOR, ".yasr").text
    assert f"{len(expected)} results" in summary


def test_the_query_page_links_to_the_ontology_documentation(endpoint, browser):
    from selenium.webdriver.common.by import By

    browser.get(endpoint)
    wait_for(browser, "#dkg-links")
    browser.find_element(By.LINK_TEXT, "Ontology documentation").click()
    wait_for(browser, "section.term#Official")
    assert browser.current_url == endpoint + "docs/ontology/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Diplomacy knowledge graph ontology"
    official = browser.find_element(By.CSS_SELECTOR, "section.term#Official").text
    assert "przedstawiciel władz" in official and "a dkg:Official" in official
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-ontology-docs.png"))
