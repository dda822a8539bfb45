"""The live dashboard (/dashboard) in a real browser (headless Chromium): opened with a token, it shows
the scoreboard as the `scoreboard` query answers it, follows a sale and a new status monitor without
reloading, and after a dropped connection resumes the indicator stream after the last event it got.
Needs Chromium and Playwright (`./sg test` installs both where it can); under CI=true it must run."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio

from tests.conftest import GraphQLClient
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_scoreboard import BOARD
from tests.support.live import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() == "true"
WAIT_MS = 30_000  # a bound on how long the page may take to show something, not a delay

CREATE_MONITOR = """mutation($input: CreateStatusMonitorInput!) {
  createStatusMonitor(input: $input) { __typename ... on StatusMonitorPayload { statusMonitor { id } }
                                       ... on UserError { code message } }
}"""
MARKED = """query($monitor: ID!) {
  accounts(first: 20, filter: {hasIndicator: $monitor}, orderBy: {field: NAME}) { totalCount nodes { name } }
}"""
ALL_TIME = {"period": {"preset": "ALL_TIME"}}

# What the page shows, read from the DOM.
SHOWN = """() => ({
  figures: Object.fromEntries([...document.querySelectorAll('#scoreboard [data-figure]')]
                                .map(node => [node.dataset.figure, node.textContent])),
  reps: [...document.querySelectorAll('#reps tbody tr')].map(row => [...row.cells].map(cell => cell.textContent)),
})"""
MONITOR_SHOWN = """(id) => {
  const block = [...document.querySelectorAll('#monitors .monitor')].find(node => node.dataset.monitorId === id);
  return block ? {
    title: block.querySelector('h3 .chip .name').textContent,
    count: block.querySelector('h3 .count').textContent,
    accounts: [...block.querySelectorAll('.account-name')].map(node => node.textContent),
    more: block.querySelector('.more')?.textContent ?? null,
  } : null;
}"""


# ---- the figures as a user reads them (the page's formatting, done again from the query's answer) ----


def money(value: dict | None) -> str:
    return "–" if value is None else f"{Decimal(value['amount']):,} {value['currency']}"


def count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def percent(value: str | None) -> str:
    return "–" if value is None else f"{Decimal(value):,} %"


def yes_no(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "no")


def as_shown(board: dict) -> dict:
    figures = {
        "wonRevenue": money,
        "dealsWon": count,
        "dealsLost": count,
        "winRate": percent,
        "averageDealSize": money,
        "openPipeline": money,
        "openDeals": count,
        "goal": money,
        "progress": percent,
        "projected": money,
        "onTrack": yes_no,
    }
    return {
        "figures": {name: show(board[name]) for name, show in figures.items()},
        "reps": [
            [
                str(rep["rank"]),
                rep["user"]["name"],
                money(rep["wonRevenue"]),
                money(rep["goal"]),
                percent(rep["progress"]),
                money(rep["projected"]),
                yes_no(rep["onTrack"]),
                count(rep["dealsWon"]),
                money(rep["openPipeline"]),
                count(rep["openDeals"]),
            ]
            for rep in board["reps"]
        ],
    }


def monitor_as_shown(name: str, marked: dict) -> dict:
    total, names = marked["totalCount"], [node["name"] for node in marked["nodes"]]
    more = total - len(names)
    return {
        "title": name,
        "count": f"{total:,} {'account' if total == 1 else 'accounts'}",
        "accounts": names,
        "more": f"… and {more:,} more" if more > 0 else None,
    }


# ---- fixtures --------------------------------------------------------------------------------------


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true requires the browser tests to run")
    pytest.skip(reason)


@pytest_asyncio.fixture(loop_scope="session")
async def browser():
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright is not installed")
    if CHROMIUM is None:
        unavailable("Chromium is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def live(writable):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser):
    """A new page; at the end, no script error happened on it and nothing it asked for failed."""
    context = await browser.new_context()
    page = await context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("requestfailed", lambda request: page.problems.append(f"failed: {request.url}"))
    yield page
    await context.close()
    assert page.problems == []


# ---- steps -----------------------------------------------------------------------------------------


async def open_dashboard(page, live, token: str) -> None:
    from playwright.async_api import expect

    await page.goto(f"{live.url}/dashboard#token={token}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    await expect(page.locator("#indicators")).to_have_attribute(
        "data-loaded-after", re.compile(r"\d+"), timeout=WAIT_MS
    )
    await page.evaluate("window.stillTheSamePage = true")


async def choose_all_time(page) -> None:
    from playwright.async_api import expect

    await page.select_option("#period", "ALL_TIME")
    await expect(page.locator("#scoreboard")).to_have_attribute("data-preset", "ALL_TIME", timeout=WAIT_MS)


async def scoreboard(api) -> dict:
    return (await api.data(BOARD, ALL_TIME))["scoreboard"]


async def page_shows(page, expected: dict, script: str = SHOWN, arg=None) -> None:
    """Wait until the page shows `expected` (as read by `script`); if it never does, compare what it shows."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    check = f"([arg, expected]) => JSON.stringify(({script})(arg)) === JSON.stringify(expected)"
    try:
        await page.wait_for_function(check, arg=[arg, expected], timeout=WAIT_MS)
    except PlaywrightTimeout:
        assert await page.evaluate(script, arg) == expected


async def new_monitor(api, name: str, rule: dict, colour: str) -> str:
    made = (
        await api.data(
            CREATE_MONITOR,
            {"input": {"name": name, "entityType": "ACCOUNT", "rule": rule, "colour": colour, "priority": 3}},
        )
    )["createStatusMonitor"]
    assert made["__typename"] == "StatusMonitorPayload", made
    return made["statusMonitor"]["id"]


async def marked_accounts(api, monitor_id: str) -> dict:
    return (await api.data(MARKED, {"monitor": monitor_id}))["accounts"]


# ---- tests -----------------------------------------------------------------------------------------


async def test_the_dashboard_shows_every_figure_of_the_scoreboard_and_follows_a_sale_without_reloading(
    live, writable, page
):
    opportunity, _quote, _ = await quote_with_items(live.api, writable)
    await open_dashboard(page, live, writable.admin_token)
    await choose_all_time(page)
    before = await scoreboard(live.api)
    await page_shows(page, as_shown(before))

    selling = datetime.now(UTC)
    sold = (await live.api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    after = await scoreboard(live.api)
    assert after["dealsWon"] == before["dealsWon"] + 1 and after["wonRevenue"] != before["wonRevenue"]

    await page_shows(page, as_shown(after))
    shown_as_of = datetime.fromisoformat(await page.get_attribute("#as-of", "datetime"))
    assert shown_as_of >= selling
    assert await page.evaluate("window.stillTheSamePage === true")


async def test_accounts_appear_with_their_indicator_when_a_new_monitor_holds_for_them(live, writable, page):
    await open_dashboard(page, live, writable.admin_token)
    name = '<b>No purchase</b> in 3 months & "quiet"'
    monitor = await new_monitor(live.api, name, {"kind": "NO_WON_OPPORTUNITY", "months": 3}, "#d9534f")
    marked = await marked_accounts(live.api, monitor)
    assert marked["totalCount"] > 0

    await page_shows(page, monitor_as_shown(name, marked), MONITOR_SHOWN, monitor)
    chip = page.locator(f'#monitors .monitor[data-monitor-id="{monitor}"] h3 .chip')
    assert await chip.evaluate("node => getComputedStyle(node).backgroundColor") == "rgb(217, 83, 79)"
    assert await page.locator("#monitors b").count() == 0  # the name is shown as text, not as markup
    assert await page.evaluate("window.stillTheSamePage === true")


def subscriptions(frames: list[str], field: str) -> list[dict]:
    """The variables of the subscribe messages for `field` among a connection's frames from the page."""
    messages = [json.loads(frame) for frame in frames]
    return [
        m["payload"].get("variables") or {}
        for m in messages
        if m.get("type") == "subscribe" and field in m["payload"]["query"]
    ]


def indicator_event_ids(frames: list[str]) -> list[int]:
    messages = [json.loads(frame) for frame in frames]
    return [
        int(m["payload"]["data"]["statusIndicatorsChanged"]["eventId"])
        for m in messages
        if m.get("type") == "next" and "statusIndicatorsChanged" in (m["payload"].get("data") or {})
    ]


async def test_after_a_dropped_connection_the_page_reconnects_and_resumes_after_the_last_indicator_event(
    live, writable, page
):
    from playwright.async_api import expect

    connections = []  # per WebSocket the page opens: what it sent, what it received, both ends

    def relay(page_side) -> None:
        server_side = page_side.connect_to_server()
        seen = {"sent": [], "received": [], "page": page_side, "server": server_side}
        connections.append(seen)
        page_side.on_message(lambda message: (seen["sent"].append(message), server_side.send(message)))
        server_side.on_message(lambda message: (seen["received"].append(message), page_side.send(message)))

    await page.route_web_socket(re.compile(r"/graphql$"), relay)
    await open_dashboard(page, live, writable.admin_token)
    await page.evaluate("""() => {
      window.connectionStates = [];
      const badge = document.getElementById('connection');
      new MutationObserver(() => window.connectionStates.push(badge.dataset.state))
        .observe(badge, {attributes: true, attributeFilter: ['data-state']});
    }""")
    first_name = "Not called for 30 days"
    first = await new_monitor(live.api, first_name, {"kind": "NO_ACTIVITY", "days": 30}, "#f0ad4e")
    await page_shows(page, monitor_as_shown(first_name, await marked_accounts(live.api, first)), MONITOR_SHOWN, first)
    received = indicator_event_ids(connections[0]["received"])
    assert received, "the page was told of the indicators the new monitor set"

    await connections[0]["page"].close(code=1012, reason="the test drops the connection")
    await connections[0]["server"].close()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    assert len(connections) == 2
    states = await page.evaluate("window.connectionStates")
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == ["reconnecting", "live"]
    assert subscriptions(connections[1]["sent"], "statusIndicatorsChanged") == [{"since": str(max(received))}]
    assert [v["period"] for v in subscriptions(connections[1]["sent"], "scoreboardUpdated")] == [
        {"preset": "THIS_MONTH"}
    ]

    second_name = "No purchase in 6 months"
    second = await new_monitor(live.api, second_name, {"kind": "NO_WON_OPPORTUNITY", "months": 6}, "#5bc0de")
    await page_shows(
        page, monitor_as_shown(second_name, await marked_accounts(live.api, second)), MONITOR_SHOWN, second
    )
    assert await page.evaluate("window.stillTheSamePage === true")


async def test_a_refused_token_is_said_and_a_good_one_is_remembered_for_the_tab(live, writable, page):
    from playwright.async_api import expect

    await page.goto(f"{live.url}/dashboard#token=sg_not-a-token")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "refused", timeout=WAIT_MS)
    await expect(page.locator("#message")).to_contain_text("refused the token")
    assert page.url == f"{live.url}/dashboard"  # the token is taken out of the address bar
    page.problems[:] = [p for p in page.problems if "status of 401" not in p]  # the browser logs the refusal

    await page.fill("#token", writable.admin_token)
    await page.click("#token-form button[type=submit]")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    await expect(page.locator("#message")).to_be_hidden()


# ---- conversation insights -------------------------------------------------------------------------

INSIGHTS = """query($period: PeriodInput!) { conversationInsights(period: $period) {
  customers { callsAnalysed { value change } competitors { name mentions } }
  recording { callsRecorded { value change } hoursRecorded { value change } } } }"""
INSIGHTS_SHOWN = """() => ({
  figures: Object.fromEntries(['callsAnalysed', 'callsRecorded', 'hoursRecorded']
    .map(name => [name, document.querySelector(`#insights [data-insight="${name}"]`).textContent])),
  competitors: document.querySelector('#insight-competitors').textContent,
})"""


def insights_as_shown(page: dict) -> dict:
    def figure(f: dict) -> str:
        if f["value"] is None:
            return "–"
        value = f"{Decimal(f['value']):,}"
        if f["change"] is None:
            return value
        return f"{value} ({'' if f['change'].startswith('-') else '+'}{f['change']} %)"

    competitors = page["customers"]["competitors"][:5]
    return {
        "figures": {
            "callsAnalysed": figure(page["customers"]["callsAnalysed"]),
            "callsRecorded": figure(page["recording"]["callsRecorded"]),
            "hoursRecorded": figure(page["recording"]["hoursRecorded"]),
        },
        "competitors": ", ".join(f"{c['name']} ({c['mentions']})" for c in competitors) if competitors else "none",
    }


async def test_a_conversation_posted_over_http_shows_up_in_the_insights_without_reloading(live, writable, page):
    month = {"period": {"preset": "THIS_MONTH"}}
    await open_dashboard(page, live, writable.admin_token)
    before = (await live.api.data(INSIGHTS, month))["conversationInsights"]
    await page_shows(page, insights_as_shown(before), INSIGHTS_SHOWN)
    call = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:20.000\n<v Kari Nordmann>Hej Ole, hvordan går det med produktionen?\n\n"
        "00:00:21.000 --> 00:01:30.000\n<v Ole Hansen>Vi har set på Contoso 360 og Relecloud, men de er for dyre.\n"
    )
    response = await live.api.http.post(
        "/ingest/conversations",
        content=call.encode(),
        params=[
            ("kind", "PHONE_CALL"),
            ("startedAt", datetime.now(UTC).isoformat()),
            ("seller", "Kari Nordmann"),
            ("customer", "Ole Hansen"),
        ],
        headers={"Authorization": f"Bearer {writable.admin_token}", "Content-Type": "text/vtt"},
    )
    assert response.status_code == 201, response.text
    after = (await live.api.data(INSIGHTS, month))["conversationInsights"]
    assert int(after["customers"]["callsAnalysed"]["value"]) == int(before["customers"]["callsAnalysed"]["value"]) + 1
    await page_shows(page, insights_as_shown(after), INSIGHTS_SHOWN)
    assert await page.evaluate("window.stillTheSamePage === true")
