"""Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures:
- ``browser``: one headless Chromium (``/usr/bin/chromium``) for all the browser tests;
- ``page``: a fresh context and page per test, whose base URL is the live server. The test fails
  when the page reports a Content-Security-Policy violation, an uncaught script error, or a
  server error (HTTP 5xx); other console errors are shown with any failure;
- ``login``: signs a user in through the real login form.

Playwright's sync API keeps an asyncio loop "running" in the main thread for as long as it is
started, which trips Django's async-safety check on every database query and makes
``async_to_sync`` refuse to run. So Playwright lives only while ``tests/browser`` runs (package
scope), and ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for exactly that time: the tests, the live
server and the database are all synchronous, the check would only get in the way.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import service_unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How Chromium words a blocked inline script or style, or any other resource the policy refuses.
CSP_MARKERS = ("Content Security Policy", "Refused to")


class BrowserReport:
    """What the page said while a test ran: problems fail the test, the rest helps explain one."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.console_errors: list[str] = []

    def on_console(self, message) -> None:
        text = message.text
        if any(marker in text for marker in CSP_MARKERS):
            self.problems.append(f"CSP: {text}")
        elif message.type == "error":
            self.console_errors.append(text)

    def on_page_error(self, error) -> None:
        self.problems.append(f"uncaught script error: {error}")

    def on_response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"HTTP {response.status} from {response.request.method} {response.url}")

    def take_problems(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems

    def describe(self, problems: list[str]) -> str:
        lines = ["The browser reported:", *(f"  - {problem}" for problem in problems)] if problems else []
        if self.console_errors:
            lines += ["Other console errors:", *(f"  - {text}" for text in self.console_errors)]
        return "\n".join(lines)


REPORT = pytest.StashKey[BrowserReport]()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.path.as_posix():
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not its teardown) when the page reported a problem."""
    report = item.stash.get(REPORT, None)
    try:
        result = yield
    except BaseException:
        if report is not None and (report.problems or report.console_errors):
            item.add_report_section("call", "browser", report.describe(report.take_problems()))
        raise
    if report is not None:
        page = item.funcargs.get("page")
        if page is not None and not page.is_closed():
            # Let Playwright deliver events still in flight (e.g. from the last htmx swap); a page
            # caught mid-navigation has nothing more to say.
            with contextlib.suppress(Exception):
                page.evaluate("0")
        problems = report.take_problems()
        if problems:
            pytest.fail(report.describe(problems), pytrace=False)
    return result


@pytest.fixture(scope="package")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        service_unavailable(f"Debian's chromium is not installed ({CHROMIUM}); apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("the playwright package is not installed (requirements-dev.txt)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(request, context) -> Iterator:
    report = BrowserReport()
    request.node.stash[REPORT] = report
    page = context.new_page()
    page.on("console", report.on_console)
    page.on("pageerror", report.on_page_error)
    page.on("response", report.on_response)
    yield page
    # Anything that arrived after the test body (the call phase reported the rest).
    late = report.take_problems()
    if late:
        pytest.fail(report.describe(late), pytrace=False)


@pytest.fixture
def login(page) -> Callable[..., object]:
    """Sign in through the login form, as a person would; returns the page it ends on.

    ``login("agent", "pw-agent")`` uses the test's ``page``; pass ``page=`` to sign in a second
    context (another person on the same ticket).
    """

    def sign_in(username: str, password: str, *, page=page):
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        # The form posts and the server redirects (or re-renders the form): wait for that page.
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        return page

    return sign_in
