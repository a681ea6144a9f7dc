"""Fixtures for the browser tests: the application on a real loopback server over the
PostgreSQL store (with the projection worker), headless Chromium from Debian's package
driven by the PyPI ``playwright`` package, and a folder for the screenshots.

Chromium is never downloaded: ``scripts/browser-tools.sh`` (run by ``make tools``)
installs Debian's ``chromium`` and the ``playwright`` package. Without them these tests
fail, with a message saying so; they do not skip.
"""

from __future__ import annotations

import re

import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]  # the server is on loopback: never through a proxy
STEP_TIMEOUT_MS = 20_000  # every wait (navigation, selector, expectation) is bounded by it
ARTIFACTS = ROOT / "var" / "test-artifacts" / "browser"
PASSWORD = "correct horse battery"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so that the page fixture can take a
    screenshot of a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright's bundled driver, for this module only (it keeps an event loop of its
    own, which the other tests should not inherit)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing ({CHROMIUM} does not exist): run `make tools` "
                    f"(scripts/browser-tools.sh installs Debian's chromium package)",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: run `make tools` (or "
                    "`.venv/bin/pip install -e '.[test]'`)", pytrace=False)
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture
def browser_context(playwright_driver, tmp_path):
    """A fresh Chromium with a fresh user-data directory for each test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
        args=CHROMIUM_ARGS, locale="zh-CN", timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900}, timeout=STEP_TIMEOUT_MS)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def artifacts(request) -> "Screenshots":
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return Screenshots(ARTIFACTS, request.node.name.removeprefix("test_"))


class Screenshots:
    """Full-page PNGs of each step: var/test-artifacts/browser/<test>-<NN>-<step>.png
    (the test's name without test_); the test's older ones are removed first."""

    def __init__(self, folder: Path, test: str):
        self.folder, self.test, self.count = folder, test, 0
        for old in folder.glob(f"{test}-*.png"):
            old.unlink()

    def take(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.test}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True, timeout=STEP_TIMEOUT_MS)
        return path


@pytest.fixture
def page(request, browser_context, artifacts):
    """A tab; a failed test leaves a screenshot of where it stopped (…-FAILED.png)."""
    tab = browser_context.new_page()
    messages: list[str] = []
    tab.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    tab.on("console", lambda m: m.type == "error" and messages.append(f"console: {m.text}"))
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        try:
            tab.screenshot(path=str(artifacts.folder / f"{artifacts.test}-FAILED.png"),
                           full_page=True, timeout=5_000)
        except Exception:  # the browser may be what failed
            pass
        for message in messages:
            print(message)


class LiveServer:
    """The application on a threaded werkzeug server on a free loopback port, with a JSON
    client that acts with a test account's token (as another system would)."""

    def __init__(self, url: str, tokens: dict[str, str]):
        self.url, self.tokens = url, tokens

    def api(self, method: str, path: str, body: dict | None = None,
            as_: str = "staff") -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.url}/api/v1{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.tokens[as_]}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


@pytest.fixture
def live_server(pg_app, tokens, worker):
    from adapters.web import close_app, create_app

    web = create_app({"CASEFILES": pg_app})
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{httpd.server_port}", tokens)
    httpd.shutdown()
    thread.join(timeout=10)
    close_app(web)


def sign_in(page, base: str, username: str, lands: str = r"/tasks$") -> None:
    """Sign in through the form as ``username`` (password PASSWORD) and wait for the
    page it lands on (staff: their work queue)."""
    page.goto(f"{base}/signin")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(lands))


def sign_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/signin"))

