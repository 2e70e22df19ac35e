"""The students' page with the packaged LLM, in real headless Chromium: the quick (quoted) answer
is shown at once and marked as such, the model's words arrive below it, and the model's verified
answer replaces it.

Needs Debian's ``chromium`` and ``chromium-driver`` (skipped without them, failed under CI=true,
as tests/test_web_page.py) and the packaged LLM (the `llm` extra; `make test` builds it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.server import Server, build_index, run_server
from tests.browser.test_web_page import _ask, _browser_paths, _wait

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.slow, pytest.mark.timeout(2400)]

QUESTION = "GAN은 어떤 두 네트워크로 구성되고 각각 무슨 일을 해?"
MODEL_S = 1500  # the model's answer: tens of seconds on two free cores, up to 15 minutes on a crowded machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, packaged_llm: Path) -> Iterator[Server]:
    _browser_paths()
    env = {"RAG_GENERATOR": "llamacpp", "RAG_LLM_MAX_TOKENS": "96", "RAG_LLM_THREADS": "2", "RAG_LLM_CTX": "2048",
           "RAG_LLM_TIMEOUT_S": str(MODEL_S)}
    with run_server(build_index(tmp_path_factory.mktemp("web-llm")), env=env) as srv:
        yield srv


def test_quick_answer_is_shown_then_replaced_by_the_models(driver, server: Server, tmp_path: Path) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    _ask(driver, server, QUESTION)
    badge = _wait(driver, lambda d: d.find_element(By.ID, "quick-badge")
                  if d.find_element(By.ID, "quick-badge").is_displayed() else None, timeout=120)
    assert "빠른 답" in badge.text and "Quick answer" in badge.text
    assert driver.find_elements(By.CSS_SELECTOR, "#answer-text .cite")  # quoted, with its sources
    assert driver.find_elements(By.CSS_SELECTOR, "#source-list li")
    assert driver.find_element(By.ID, "meta").text == ""  # the final answer has not come yet
    quick = driver.find_element(By.ID, "answer-text").text
    assert driver.save_screenshot(str(tmp_path / "quick-answer.png"))

    _wait(driver, lambda d: d.find_element(By.ID, "meta").text, timeout=MODEL_S)
    assert not driver.find_element(By.ID, "quick-badge").is_displayed()
    assert not driver.find_element(By.ID, "draft").is_displayed()
    meta = driver.find_element(By.ID, "meta").text
    assert "AI 모델" in meta, meta  # the model's answer was served (its citations verified)
    final = driver.find_element(By.ID, "answer-text").text
    assert final != quick and driver.find_elements(By.CSS_SELECTOR, "#answer-text .cite")
    sources = driver.find_elements(By.CSS_SELECTOR, "#source-list li")
    assert sources and len(sources) == len({e.text for e in sources})  # the model's sources, not added to the quick ones
    assert driver.save_screenshot(str(tmp_path / "model-answer.png"))
