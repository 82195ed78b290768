"""The web page in a real headless browser, against a real ``geokb serve``.

A small KB is built in a temporary directory, ``geokb serve`` is started on a free port,
and Debian's chromium (driven by chromedriver through Selenium) runs the page: an example
query, its results table, a claim link, and the claim view with the quote highlighted at
its exact offsets in the source text. The source text starts with four characters outside
the Basic Multilingual Plane (mathematical bold letters: one code point but two UTF-16 units
each), so a page counting offsets in UTF-16 units would mark the wrong stretch.

Needs ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian: ``apt-get install -y
chromium chromium-driver``) and the ``selenium`` package; skipped with the reason otherwise.
Selenium Manager is never asked for anything: both binaries are given explicitly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 10.0
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "claim-evidence.png"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver "
           "(apt-get install -y chromium chromium-driver)",
)

TEXT = (
    "𝐍𝐞𝐰𝐬 — Test article\n\n"
    "Notably absent from the talks was the naval base at Tartus. "
    "The base has played a key role, but their future under the new leadership "
    "remains unclear.\n"
)
QUOTE = "remains unclear"
DOCUMENT: dict[str, Any] = {
    "recorded_by": "test:browser",
    # dated: its claims are reported on that day, so the status shows as last reported
    "sources": [{"id": "art", "text": TEXT, "title": "Test article", "language": "en",
                 "published": "2025-09-10"}],
    "entities": [{"id": "tartus-naval-base", "types": ["gk:NavalBase"],
                  "label": "Tartus naval base", "aliases": ["Tartus"]}],
    "claims": [
        {"id": "tartus-unclear", "subject": "tartus-naval-base", "predicate": "gk:status",
         "object": "status:uncertain", "modality": "asserted", "source": "art",
         "quote": QUOTE},
        # A longer span around the evidence: the page must nest it, not break the mark.
        {"id": "tartus-future-assessed", "subject": "tartus-naval-base",
         "predicate": "gk:assessment", "object": {"text": "future unclear", "lang": "en"},
         "modality": "analysis", "source": "art",
         "quote": "their future under the new leadership remains unclear"},
    ],
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    """GET ``url`` directly (never through a proxy from the environment)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=2) as response:
        return bytes(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``geokb serve`` over a small KB; yields its base URL, kills it by pid."""
    from geokb.kb import KnowledgeBase

    kb_dir = tmp_path_factory.mktemp("kb")
    KnowledgeBase(kb_dir).ingest(DOCUMENT, base_dir=kb_dir)
    port = _free_port()
    log_path = kb_dir.parent / "serve.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("GEOKB_KB", "GEOKB_PROJECTION", "GEOKB_TOKEN")}
    script = Path(sys.executable).with_name("geokb")
    command = [str(script)] if script.is_file() else [
        sys.executable, "-c", "from geokb.cli.main import main; main()"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--kb", str(kb_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"geokb serve exited with {proc.returncode}:\n"
                            f"{log_path.read_text(errors='replace')}")
            try:
                _get(base + "/api/health")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"geokb serve did not answer /api/health within {WAIT:.0f} s:\n"
                                f"{log_path.read_text(errors='replace')}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian chromium through chromedriver; nothing is downloaded."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="needs selenium (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a page re-rendered between the lookup and the read is not yet the page awaited
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))


def _page_errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"]


def test_example_query_leads_to_highlighted_evidence(server: str, browser: Any,
                                                     tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(server + "/#/query")
    browser.execute_script("window.localStorage.clear()")
    wait = _wait(browser)
    wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, '[data-example="tartus-status"]'))).click()
    assert "tartus" in browser.find_element(By.ID, "sparql").get_attribute("value")
    browser.find_element(By.ID, "run-query").click()

    link = wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, '#results-table a[href^="#/claim/"]')))
    assert link.get_attribute("href").endswith("#/claim/tartus-unclear")
    rows = browser.find_elements(By.CSS_SELECTOR, "#results-table tbody tr")
    assert len(rows) == 1
    link.click()

    mark = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert mark.get_attribute("textContent") == QUOTE
    # The text before the mark is exactly the source up to the quote's code point offset.
    before = browser.execute_script(
        "const m = document.getElementById('evidence');"
        "const r = document.createRange();"
        "r.setStart(m.closest('.source-text'), 0); r.setEndBefore(m);"
        "return r.toString();")
    assert before == TEXT[: TEXT.index(QUOTE)]
    # The longer span of the other claim stays a link, and the evidence is on screen.
    assert browser.find_elements(By.CSS_SELECTOR, 'a.span[href="#/claim/tartus-future-assessed"]')
    wait.until(lambda d: d.execute_script(
        "const r = document.getElementById('evidence').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;"))
    assert "Tartus naval base" in browser.find_element(By.CSS_SELECTOR, "#view-detail h1").text

    shot = tmp_path / "claim-evidence.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000  # a real rendering, not a blank page
    if os.environ.get("GEOKB_SCREENSHOTS"):  # refresh the one in docs/ on purpose
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))
    assert _page_errors(browser) == []


def test_entity_view_shows_status_and_timeline(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(server + "/#/entity/tartus-naval-base")
    wait = _wait(browser)
    badge = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, ".status-values .status-uncertain")))
    assert badge.text.lower() == "uncertain"
    holding = browser.find_element(By.CSS_SELECTOR, ".status-values .holding").text
    assert holding == "last reported 2025-09-10"
    assert browser.find_element(By.ID, "assessment").text == "settled"
    cards = browser.find_elements(By.CSS_SELECTOR, ".claim-card")
    assert {c.get_attribute("data-claim") for c in cards} == {
        "tartus-unclear", "tartus-future-assessed"}
    browser.find_element(By.CSS_SELECTOR, 'a[href="#/entity/tartus-naval-base/timeline"]').click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.timeline .claim-card")))
    assert _page_errors(browser) == []


def test_sparql_error_is_shown(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(server + "/#/query")
    editor = _wait(browser).until(ec.element_to_be_clickable((By.ID, "sparql")))
    editor.clear()
    editor.send_keys("SELECT * WHERE { ?s ?p }")
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    error = _wait(browser).until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, "#query-output .error")))
    assert "400" in error.text
    assert error.find_element(By.CSS_SELECTOR, ".error-message").text.strip()


@pytest.fixture(scope="module")
def contested_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``geokb serve`` over a copy of the seed KB with the second report ingested."""
    from tests.harness.belief import build

    root = tmp_path_factory.mktemp("contested")
    kb = build(root / "kb", projection=root / "projection")
    kb.projection.flush()
    del kb
    yield from _serve(root / "kb", "--projection", str(root / "projection"))


def _serve(kb_dir: Path, *options: str) -> Iterator[str]:
    port = _free_port()
    log_path = kb_dir.parent / "serve-contested.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("GEOKB_KB", "GEOKB_PROJECTION", "GEOKB_TOKEN")}
    script = Path(sys.executable).with_name("geokb")
    command = [str(script)] if script.is_file() else [
        sys.executable, "-c", "from geokb.cli.main import main; main()"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--kb", str(kb_dir), *options, "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"geokb serve exited with {proc.returncode}:\n"
                            f"{log_path.read_text(errors='replace')}")
            try:
                _get(base + "/api/health")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"geokb serve did not answer within {WAIT:.0f} s:\n"
                                f"{log_path.read_text(errors='replace')}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)


def test_a_contested_status_shows_both_sides_with_their_evidence(contested_server: str,
                                                                browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    _page_errors(browser)  # reading the log empties it: only this page's errors count
    browser.get(contested_server + "/#/entity/tartus-naval-base")
    wait = _wait(browser)
    badge = wait.until(ec.presence_of_element_located((By.ID, "assessment")))
    assert badge.text == "contested"
    line = browser.find_element(By.ID, "status-line").text
    assert line == ("contested since 2025-09-15: withdrawn (two Syrian officials, unnamed, via "
                    "Example Wire) vs not withdrawn (spokesperson, Russian defence ministry, "
                    "via Example Wire)")
    sides = browser.find_elements(By.CSS_SELECTOR, ".conflict-side")
    assert len(sides) == 2
    assert "negated" in (sides[1].get_attribute("class") or "")
    # side by side: the two sides share a row
    tops = [s.location["y"] for s in sides]
    assert tops[0] == tops[1]
    claims = [c.get_attribute("data-claim")
              for c in browser.find_elements(By.CSS_SELECTOR, ".side-claim")]
    assert claims == ["tartus-withdrawn-per-syrian-officials",
                      "russian-ministry-denies-tartus-withdrawal"]
    first, second = (s.text for s in sides)
    assert "two Syrian officials, unnamed" in first and "last reported 2025-09-16" in first
    assert "spokesperson, Russian defence ministry" in second and "denies" in second
    undated = browser.find_element(By.CSS_SELECTOR, ".undated").text
    assert "tartus-future-unclear" in undated
    evidence = sides[1].find_element(By.CSS_SELECTOR, 'a[href="#/claim/russian-ministry-'
                                                     'denies-tartus-withdrawal"]')
    evidence.click()
    mark = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert mark.get_attribute("textContent") == ("A spokesperson for the Russian defence "
                                                 "ministry denied any withdrawal")
    assert not _page_errors(browser)
