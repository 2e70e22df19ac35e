"""The page tests' browser: one headless Chromium per module, over the module's own ``server``."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def driver(server):  # noqa: ANN001, ANN201 - tests.server.Server -> selenium WebDriver
    from selenium import webdriver

    from tests.browser.test_web_page import _browser_paths

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
