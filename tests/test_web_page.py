"""The students' page in real headless Chromium: ask, watch the answer arrive, open a citation.

Needs Debian's ``chromium`` and ``chromium-driver``. Without them the test is skipped with the
reason, except under ``CI=true`` where it fails: CI must run it (``make test`` installs them).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.server import Server, build_index, run_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KO_QUESTION = "YOLO는 객체 탐지를 몇 단계로 처리하는 알고리즘이야?"


def _find(*candidates: str) -> str | None:
    for c in candidates:
        path = shutil.which(c) or (c if os.path.isfile(c) and os.access(c, os.X_OK) else None)
        if path:
            return path
    return None


def _browser_paths() -> tuple[str, str]:
    chromium = _find(os.environ.get("CHROMIUM_BIN", ""), "/usr/bin/chromium", "chromium", "chromium-browser")
    driver = _find(os.environ.get("CHROMEDRIVER_BIN", ""), "/usr/bin/chromedriver", "chromedriver")
    if chromium and driver:
        return chromium, driver
    missing = ", ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
    reason = f"headless browser test needs {missing}: apt-get install chromium chromium-driver (make test does it under CI=true)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _browser_paths()  # skip (or fail under CI) before building anything
    with run_server(build_index(tmp_path_factory.mktemp("web"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def driver(server: Server):  # noqa: ANN201 - selenium WebDriver
    from selenium import webdriver

    chromium, chromedriver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=ko-KR"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=webdriver.ChromeService(executable_path=chromedriver), options=options)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def _ask(driver, server: Server, question: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver.get(server.url + "/")
    box = driver.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ask").click()


def _wait(driver, condition, timeout: float = 30):  # noqa: ANN001, ANN202
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_ask_then_open_a_citation(driver, server: Server, tmp_path: Path) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    _ask(driver, server, KO_QUESTION)
    cites = _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-text .cite"))
    answer = driver.find_element(By.ID, "answer-text").text
    assert "단일 단계" in answer and "[1]" in answer
    assert driver.find_element(By.ID, "refusal").is_displayed() is False
    assert driver.find_element(By.ID, "quote-panel").is_displayed() is False
    cites[0].click()
    panel = _wait(driver, lambda d: d.find_element(By.ID, "quote-panel") if d.find_element(By.ID, "quote-panel")
                  .is_displayed() else None)
    quote = panel.find_element(By.CSS_SELECTOR, ".quote-text").text
    doc = panel.find_element(By.CSS_SELECTOR, ".quote-doc").text
    assert len(quote) > 20 and doc.endswith(".txt")
    assert panel.find_element(By.CSS_SELECTOR, ".quote-section").text  # a section, or "—"
    assert panel.find_element(By.CSS_SELECTOR, ".quote-page").text
    assert cites[0].get_attribute("aria-expanded") == "true"
    assert driver.find_elements(By.CSS_SELECTOR, "#source-list li")
    assert driver.save_screenshot(str(tmp_path / "answer-desktop.png"))


def test_english_question_and_a_refusal(driver, server: Server, tmp_path: Path) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    _ask(driver, server, "What is BERT?")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-text .cite"))
    assert driver.find_element(By.ID, "result").get_attribute("lang") == "en"
    assert "BERT" in driver.find_element(By.ID, "answer-text").text

    _ask(driver, server, "How do I bake sourdough bread?")
    refusal = _wait(driver, lambda d: d.find_element(By.ID, "refusal") if d.find_element(By.ID, "refusal")
                    .is_displayed() else None)
    assert "notes do not cover" in refusal.text and "노트에 없는 내용" in refusal.text
    assert not driver.find_elements(By.CSS_SELECTOR, "#answer-text .cite")
    assert driver.save_screenshot(str(tmp_path / "refusal.png"))


def test_usable_on_a_phone_screen(driver, server: Server, tmp_path: Path) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver.set_window_size(375, 812)
    try:
        width = driver.execute_script("return window.innerWidth")
        _ask(driver, server, KO_QUESTION)
        cites = _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-text .cite"))
        cites[0].click()
        _wait(driver, lambda d: d.find_element(By.ID, "quote-panel").is_displayed())
        overflow = driver.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width, f"page is {overflow}px wide on a {width}px screen"
        button = driver.find_element(By.ID, "ask")
        assert button.size["height"] >= 40 and button.location["x"] + button.size["width"] <= width
        assert driver.save_screenshot(str(tmp_path / "answer-phone.png"))
    finally:
        driver.set_window_size(1280, 900)


def test_error_from_the_server_is_shown(driver, server: Server) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver.get(server.url + "/")
    driver.execute_script("document.getElementById('question').removeAttribute('maxlength')")
    driver.execute_script("document.getElementById('question').value = 'x'.repeat(2500)")
    driver.find_element(By.ID, "ask").click()
    error = _wait(driver, lambda d: d.find_element(By.ID, "error") if d.find_element(By.ID, "error")
                  .is_displayed() else None)
    assert "2000" in error.text
