"""GraphiQL in a real browser (headless Chromium): signed in with the printed token, it runs the
sample query and its Docs show the schema's descriptions. Needs Chromium and Playwright; `./sg test`
installs both where it can."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser.new_page()
        browser.close()


def test_graphiql_runs_the_sample_query_and_documents_the_schema(demo_server, page):
    link = next(line for line in demo_server.output if "GraphiQL signed in as the admin:" in line).split(": ", 1)[1]
    page.goto(link.strip())
    assert "#" not in page.url and "sg_" not in page.url  # the token left the address bar once read
    page.click(".graphiql-execute-button", timeout=30_000)
    page.wait_for_function("document.querySelector('.result-window')?.innerText.includes('totalCount')", timeout=30_000)
    result = page.inner_text(".result-window")
    assert '"accounts"' in result and '"errors"' not in result
    page.click("button[aria-label='Show Documentation Explorer']")
    page.click(".graphiql-doc-explorer-type-name:text-is('Query')")
    page.click(".graphiql-doc-explorer-field-name:text-is('accounts')")
    assert "All accounts, a page at a time." in page.inner_text(".graphiql-doc-explorer")
