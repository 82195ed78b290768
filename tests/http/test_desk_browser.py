"""The analyst's desk in real headless Chromium, against a real ``geokb serve`` over the
shipped KB with the second report (Tartus's status contested).

The walk: home → the contested entity → its timeline chart → a claim's evidence marked in
the source text → the speaker's page → back. Then the search ("Damascus" names no entity
but is in the article), the lists, and the results table; and at 1400 px and at 390 px no
page scrolls sideways (only a wide table, inside its own scroller).

``GEOKB_SCREENSHOTS=1`` refreshes the PNGs in docs/screenshots/ (cropped and shrunk);
otherwise they are taken to a temporary directory and checked, so the tree stays clean.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http.test_browser import (  # noqa: F401 (fixtures)
    ROOT,
    _page_errors,
    _wait,
    browser,
    contested_server,
)
from tests.http.test_browser import pytestmark as _needs_chromium

pytestmark = _needs_chromium  # skipped, with the reason, where chromium is absent

SHOTS = ROOT / "docs" / "screenshots"
DENIAL = "russian-ministry-denies-tartus-withdrawal"
DENIAL_QUOTE = "A spokesperson for the Russian defence ministry denied any withdrawal"
WIDE, NARROW = (1400, 900), (390, 844)


@pytest.fixture
def desk(browser: Any, contested_server: str) -> Iterator[Any]:  # noqa: F811
    """The browser at 1400 px on the desk's server, its log of page errors emptied."""
    browser.set_window_size(*WIDE)
    _page_errors(browser)
    yield browser
    browser.set_window_size(*WIDE)


def shot(driver: Any, name: str, tmp_path: Path) -> None:
    """A screenshot: checked always, written to docs/screenshots/ only when asked."""
    from PIL import Image

    raw = tmp_path / f"{name}-raw.png"
    driver.save_screenshot(str(raw))
    with Image.open(raw) as full:
        assert full.getextrema() != ((255, 255), (255, 255), (255, 255), (255, 255))
        box = full.crop((0, 0, full.width, min(full.height, 820)))
        small = box.resize((box.width * 2 // 3, box.height * 2 // 3), Image.Resampling.LANCZOS)
        small = small.convert("P", palette=Image.Palette.ADAPTIVE, colors=128)
        target = SHOTS if os.environ.get("GEOKB_SCREENSHOTS") else tmp_path
        target.mkdir(parents=True, exist_ok=True)
        small.save(target / f"{name}.png", optimize=True)
    assert (target / f"{name}.png").stat().st_size < 150_000


def no_sideways_scroll(driver: Any) -> None:
    width = driver.execute_script("return document.documentElement.clientWidth")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width, \
        driver.execute_script("return location.hash")


def at_both_widths(driver: Any) -> None:
    """The page at 390 px and back at 1400 px: nothing wider than the window."""
    for size in (NARROW, WIDE):
        driver.set_window_size(*size)
        _wait(driver).until(lambda d, w=size[0]: d.execute_script(
            "return window.innerWidth") <= w)
        no_sideways_scroll(driver)


def test_walk_home_contested_chart_evidence_speaker_back(desk: Any, contested_server: str,  # noqa: F811
                                                         tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = _wait(desk)
    desk.get(contested_server + "/")
    link = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".contested-link")))
    assert desk.find_element(By.CSS_SELECTOR, "#view-detail h1").text == "The desk"
    item = desk.find_element(By.CSS_SELECTOR, ".contested-item").text
    assert item.endswith("withdrawn (two Syrian officials, unnamed) vs not withdrawn "
                         "(spokesperson, Russian defence ministry)")
    assert item.startswith("Tartus naval base — status, contested since 2025-09-15")
    latest = desk.find_elements(By.CSS_SELECTOR, ".claim-card")
    assert latest and latest[0].get_attribute("data-claim")
    at_both_widths(desk)
    shot(desk, "desk-home", tmp_path)

    link.click()  # → the contested entity, opening on its assessment
    assert wait.until(ec.presence_of_element_located((By.ID, "assessment"))).text == "contested"
    order = desk.execute_script(
        "const p = document.querySelector('.status-panel'), t = document.querySelector('.tabs');"
        "return !!(p.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING);")
    assert order, "the assessment comes before the claims"
    assert len(desk.find_elements(By.CSS_SELECTOR, ".conflict-side")) == 2
    at_both_widths(desk)
    shot(desk, "entity-contested", tmp_path)

    desk.find_element(By.CSS_SELECTOR, 'a[href="#/entity/tartus-naval-base/timeline"]').click()
    row = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f'svg.tl-chart a.tl-row[data-claim="{DENIAL}"]')))
    chart = desk.find_element(By.CSS_SELECTOR, "svg.tl-chart")
    assert chart.find_element(By.TAG_NAME, "title").get_attribute("textContent") == \
        "Timeline of Tartus naval base"
    contested = chart.find_element(By.CSS_SELECTOR, "rect.tl-contested title")
    assert contested.get_attribute("textContent").startswith("contested since 2025-09-15")
    withdrawn = chart.find_element(
        By.CSS_SELECTOR, 'a.tl-row[data-claim="tartus-withdrawn-per-syrian-officials"]')
    assert withdrawn.find_elements(By.CSS_SELECTOR, "rect.tl-bar.open")  # no end stated
    assert withdrawn.find_elements(By.CSS_SELECTOR, "path.tl-reported")
    assert "reported 2025-09-16" in row.find_element(By.TAG_NAME, "title") \
        .get_attribute("textContent")
    assert desk.find_element(By.ID, "chart-as-of").get_attribute("max") == \
        desk.find_element(By.ID, "log-head").text.split()[-1]
    at_both_widths(desk)
    shot(desk, "timeline-chart", tmp_path)

    row = desk.find_element(By.CSS_SELECTOR, f'svg.tl-chart a.tl-row[data-claim="{DENIAL}"]')
    desk.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()  # → the claim, its quote marked in the source text
    mark = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert mark.get_attribute("textContent") == DENIAL_QUOTE
    wait.until(lambda d: d.execute_script(
        "const r = document.getElementById('evidence').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;"))
    shot(desk, "claim-evidence-contested", tmp_path)
    at_both_widths(desk)

    desk.find_element(By.CSS_SELECTOR, "a.speaker-link").click()  # → the speaker's page
    # looked up afresh each time: the claim's page may still be replaced by the speaker's
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#view-detail h1").text
               == "Russian defence ministry")
    said = desk.find_element(By.CSS_SELECTOR, ".voices")
    assert said.find_element(By.TAG_NAME, "h2").get_attribute("textContent") == "Said by it 1"
    assert said.find_element(By.CSS_SELECTOR, ".claim-card").get_attribute("data-claim") == DENIAL
    at_both_widths(desk)
    shot(desk, "speaker", tmp_path)

    desk.back()  # → the claim again, still marked
    mark = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert mark.get_attribute("textContent") == DENIAL_QUOTE
    desk.back()  # → the chart
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.tl-chart")))
    assert _page_errors(desk) == []


def test_search_finds_damascus_in_the_text(desk: Any, contested_server: str,  # noqa: F811
                                           tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = _wait(desk)
    desk.get(contested_server + "/")
    box = wait.until(ec.element_to_be_clickable((By.ID, "search-input")))
    box.send_keys("damascus")
    found = wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "#search-results a.match-text")))
    # the article says it three times, the second report once
    assert "4 passages in 2 sources" in found.get_attribute("textContent")
    labels = [e.text for e in desk.find_elements(By.CSS_SELECTOR, "#search-results .match-label")]
    assert labels[0] == "new Syrian government"
    found.click()
    passages = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.passage"))
    assert len(passages) == 4
    marks = [p.find_element(By.TAG_NAME, "mark").text for p in passages]
    assert marks == ["Damascus"] * 3 + ["DAMASCUS"]  # the wire's dateline, case folded
    at_both_widths(desk)
    shot(desk, "search", tmp_path)
    passages[1].click()
    mark = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "mark#evidence")))
    assert mark.get_attribute("textContent") == "Damascus"
    assert _page_errors(desk) == []


def test_lists_of_entities_sources_and_events(desk: Any, contested_server: str,  # noqa: F811
                                              tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    wait = _wait(desk)
    desk.get(contested_server + "/#/entities")
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.list tbody tr"))
    tartus = next(r for r in rows if r.find_element(By.TAG_NAME, "th").text == "Tartus naval base")
    assert tartus.find_elements(By.TAG_NAME, "td")[-1].text == "8"
    desk.find_element(By.CSS_SELECTOR, '.type-chips a[href="#/entities/gk%3APerson"]').click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#view-detail h1").text
               == "Entities: Person")
    people = desk.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    assert people and all("Person" in r.find_elements(By.TAG_NAME, "td")[0].text for r in people)
    at_both_widths(desk)
    shot(desk, "entities", tmp_path)

    desk.get(contested_server + "/#/sources")
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.list tbody tr"))
    graded = [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows]
    assert "B2" in graded and "not graded" in graded
    at_both_widths(desk)

    desk.get(contested_server + "/#/events")
    items = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".event-item"))
    first = items[0].text
    assert first.startswith(f"#{desk.find_element(By.ID, 'log-head').text.split()[-1]} ")
    at_both_widths(desk)
    assert _page_errors(desk) == []


def test_results_wrap_text_not_iris_and_keep_every_column(desk: Any, contested_server: str,  # noqa: F811
                                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = _wait(desk)
    desk.get(contested_server + "/#/query")
    wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, '[data-example="via-digi24"]'))).click()
    desk.find_element(By.ID, "run-query").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results-table tbody tr")))
    table = desk.find_element(By.ID, "results-table")
    # labels shown, the IRI on hover
    subject = table.find_element(By.CSS_SELECTOR, 'tbody a[href="#/entity/syria"]')
    assert subject.text == "Syria"
    assert subject.get_attribute("title") == "https://w3id.org/geokb/id/syria"
    style = desk.execute_script(
        "const td = document.querySelector('#results-table td.wide'),"
        " th = document.querySelector('#results-table tbody th'),"
        " a = document.querySelector('#results-table a'), s = getComputedStyle(td);"
        "return [s.overflowWrap, s.wordBreak, getComputedStyle(th).position,"
        " getComputedStyle(a).whiteSpace];")
    assert style == ["normal", "normal", "sticky", "nowrap"]
    # No word is broken: every word of a wrapped quote sits on one line.
    broken = desk.execute_script("""
        const out = [];
        for (const cell of document.querySelectorAll('#results-table td.wide .lit')) {
          const text = cell.firstChild; let at = 0;
          for (const word of text.data.split(' ')) {
            const r = document.createRange();
            r.setStart(text, at); r.setEnd(text, at + word.length); at += word.length + 1;
            if (word && r.getClientRects().length > 1) out.push(word);
          }
        }
        return out;""")
    assert broken == []
    for size in (NARROW, WIDE):
        desk.set_window_size(*size)
        no_sideways_scroll(desk)
        # every column can be reached: in its own scroller, not by scrolling the page
        reach = desk.execute_script(
            "const w = document.querySelector('#query-output .table-wrap');"
            "w.scrollLeft = w.scrollWidth;"
            "const last = document.querySelector('#results-table thead th:last-child')"
            ".getBoundingClientRect(), box = w.getBoundingClientRect();"
            "return [getComputedStyle(w).overflowX, last.right <= box.right + 1];")
        assert reach == ["auto", True]
    desk.execute_script("const w = document.querySelector('#query-output .table-wrap');"
                        "w.scrollLeft = 0; w.scrollIntoView({block: 'center'});")
    shot(desk, "results-table", tmp_path)
    assert _page_errors(desk) == []
