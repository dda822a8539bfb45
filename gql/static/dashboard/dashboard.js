// Salesgraph live dashboard: the scoreboard and the accounts carrying status indicators, kept live over
// graphql-transport-ws with the graphql-ws client (graphql-ws.min.js, loaded first, defines `graphqlWs`).
// Everything from the API is put into the page as text (textContent / Text nodes), never as HTML.
(function () {
  "use strict";

  const TOKEN_KEY = "salesgraph.dashboard.token";
  const HTTP_URL = "/graphql";
  const WS_URL = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
  const ACCOUNTS_PER_MONITOR = 20;
  const MONITORS_SHOWN = 50;
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const REQUERY_DEBOUNCE_MS = 250;  // a burst of indicator changes is one re-query…
  const REQUERY_MAX_WAIT_MS = 2000; // …but a steady stream still re-queries this often
  const KEEPALIVE_MS = 15000;
  const REFUSED = new Set([4401, 4403]); // the server refused the token: reconnecting cannot help

  const MONEY = "{ amount currency }";
  const BOARD_FIELDS = `preset periodStart periodEnd asOf timeLeft changesAt currency eventId missingRates
    wonRevenue ${MONEY} dealsWon dealsLost winRate averageDealSize ${MONEY} openPipeline ${MONEY} openDeals
    goal ${MONEY} progress projected ${MONEY} onTrack
    reps { rank user { id name } wonRevenue ${MONEY} dealsWon openPipeline ${MONEY} openDeals
           goal ${MONEY} progress projected ${MONEY} onTrack }`;
  const BOARD_SUBSCRIPTION = `subscription Scoreboard($period: PeriodInput!, $teamId: ID, $currency: String) {
    scoreboardUpdated(period: $period, teamId: $teamId, currency: $currency) { ${BOARD_FIELDS} }
  }`;
  const FIGURE = "{ value change }";
  const INSIGHT_FIELDS = `preset
    customers { callsAnalysed ${FIGURE} averageSentiment ${FIGURE} belowAveragePercent ${FIGURE}
      positivePercent ${FIGURE} neutralPercent ${FIGURE} negativePercent ${FIGURE} newNameCount ${FIGURE}
      keywords { name mentions } competitors { name mentions } }
    bestSellers { topSellers { name } top { talkPercent } team { talkPercent } }
    recording { callsRecorded ${FIGURE} hoursRecorded ${FIGURE} callsMentioningKeywords ${FIGURE}
      callsMentioningCompetitors ${FIGURE} }`;
  const INSIGHT_SUBSCRIPTION = `subscription Insights($period: PeriodInput!, $teamId: ID) {
    conversationInsightsUpdated(period: $period, teamId: $teamId) { ${INSIGHT_FIELDS} }
  }`;
  const INSIGHT_SECTION = { callsAnalysed: "customers", averageSentiment: "customers", belowAveragePercent: "customers",
    positivePercent: "customers", neutralPercent: "customers", negativePercent: "customers",
    newNameCount: "customers", callsRecorded: "recording", hoursRecorded: "recording",
    callsMentioningKeywords: "recording", callsMentioningCompetitors: "recording" };
  const INSIGHT_PERCENT = new Set(["belowAveragePercent", "positivePercent", "neutralPercent", "negativePercent"]);
  const INDICATOR_SUBSCRIPTION = `subscription AccountIndicators($since: ID) {
    statusIndicatorsChanged(entityTypes: [ACCOUNT], since: $since) { eventId change entityId monitorId }
  }`;
  const TEAMS = "query Teams { teams { id name } }";
  const MONITORS = `query AccountMonitors {
    latestEventId
    statusMonitors(first: ${MONITORS_SHOWN}, filter: {entityType: ACCOUNT, active: true},
                   orderBy: {field: PRIORITY, direction: DESC}) {
      totalCount nodes { id name description icon colour priority }
    }
  }`;
  const ACCOUNT_FIELDS = `totalCount nodes { id name country
    statusIndicators { name description icon colour priority monitor { id } } }`;
  const ICONS = { flag: "⚑", warning: "⚠", alert: "⚠", clock: "◷", time: "◷", star: "★", fire: "▲", heart: "♥",
                  bell: "♪", info: "ℹ", check: "✓", phone: "☎", mail: "✉", money: "¤" };

  const state = {
    token: null,
    client: null,
    generation: 0,       // bumped whenever the current connection is given up: its late events are ignored
    retries: 0,
    reconnectTimer: null,
    boardKey: 0,          // identifies the current scoreboard subscription (period/team/currency)
    boardDispose: null,
    insightKey: 0,        // the same for the conversation insights (period/team)
    insightDispose: null,
    indicatorKey: 0,
    indicatorDispose: null,
    lastIndicatorEventId: null,
    requeryTimer: null,
    requeryFirstAsked: null,
    requerying: false,
    requeryAgain: false,
    live: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---- building the page: elements and text only -------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, String(value));
    }
    node.append(...children.filter((c) => c !== null && c !== undefined).map((c) => (c instanceof Node ? c : String(c))));
    return node;
  }

  function groupDigits(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Amounts arrive as decimal strings ("1250.00"); they are grouped as text, never turned into floats.
  function formatDecimal(text) {
    const match = /^(-?)(\d+)(\.\d+)?$/.exec(String(text));
    if (!match) return String(text);
    return match[1] + groupDigits(match[2]) + (match[3] || "");
  }

  function formatMoney(money) {
    return money ? `${formatDecimal(money.amount)} ${money.currency}` : "–";
  }

  function formatCount(value) {
    return value === null || value === undefined ? "–" : groupDigits(String(value));
  }

  function formatPercent(value) {
    return value === null || value === undefined ? "–" : `${formatDecimal(value)} %`;
  }

  function formatYesNo(value) {
    return value === null || value === undefined ? "–" : value ? "yes" : "no";
  }

  function formatMoment(iso) {
    if (!iso) return "–";
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) return String(iso);
    return moment.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return "never ends";
    if (seconds <= 0) return "ended";
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    if (days) return `${days} d ${hours} h`;
    if (hours) return `${hours} h ${minutes} min`;
    return `${minutes} min`;
  }

  const FIGURES = {
    wonRevenue: formatMoney, dealsWon: formatCount, dealsLost: formatCount, winRate: formatPercent,
    averageDealSize: formatMoney, openPipeline: formatMoney, openDeals: formatCount, goal: formatMoney,
    progress: formatPercent, projected: formatMoney, onTrack: formatYesNo,
  };

  function showMessage(text, kind) {
    const message = $("message");
    message.textContent = text || "";
    message.className = kind || "error";
    message.hidden = !text;
  }

  function setConnection(name, text) {
    const badge = $("connection");
    badge.dataset.state = name;
    badge.textContent = text || name;
  }

  // ---- talking to the API ----------------------------------------------------------------------

  class RefusedToken extends Error {}

  async function query(document, variables) {
    const response = await fetch(HTTP_URL, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: `Bearer ${state.token}`,
      },
      body: JSON.stringify({ query: document, variables: variables || {} }),
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_error) {
      throw new Error(`the API answered HTTP ${response.status}`);
    }
    const errors = (body && body.errors) || [];
    if (response.status === 401 || errors.some((e) => e.extensions && e.extensions.code === "UNAUTHENTICATED")) {
      throw new RefusedToken(errors.length ? errors[0].message : "the token was refused");
    }
    if (errors.length) throw new Error(errors.map((e) => e.message).join("; "));
    return body.data;
  }

  function errorText(error) {
    if (Array.isArray(error)) return error.map((e) => e.message).join("; ");
    if (error && typeof error.code === "number") return `connection closed (${error.code}${error.reason ? ": " + error.reason : ""})`;
    return error && error.message ? error.message : String(error);
  }

  // ---- the scoreboard ---------------------------------------------------------------------------

  function choice() {
    const currency = $("currency").value.trim().toUpperCase();
    return {
      period: { preset: $("period").value },
      teamId: $("team").value || null,
      currency: currency || null,
    };
  }

  function renderBoard(board) {
    const section = $("scoreboard");
    section.dataset.preset = board.preset || "";
    section.setAttribute("aria-busy", "false");
    $("board-error").hidden = true;
    const asOf = $("as-of");
    asOf.textContent = formatMoment(board.asOf);
    asOf.setAttribute("datetime", board.asOf);
    $("period-range").textContent = board.periodStart || board.periodEnd
      ? `${formatMoment(board.periodStart)} – ${formatMoment(board.periodEnd)}` : "all time";
    $("time-left").textContent = formatDuration(board.timeLeft);
    for (const node of section.querySelectorAll("[data-figure]")) {
      const name = node.dataset.figure;
      node.textContent = FIGURES[name](board[name]);
    }
    const missing = $("missing-rates");
    missing.hidden = !board.missingRates.length;
    missing.textContent = board.missingRates.length
      ? `Left out for lack of an exchange rate: ${board.missingRates.join(", ")}` : "";
    const rows = board.reps.map((rep) => el("tr", { "data-user-id": rep.user.id },
      el("td", { class: "number", "data-column": "rank" }, rep.rank),
      el("th", { scope: "row", "data-column": "name" }, rep.user.name),
      el("td", { class: "number", "data-column": "won" }, formatMoney(rep.wonRevenue)),
      el("td", { class: "number", "data-column": "goal" }, formatMoney(rep.goal)),
      el("td", { class: "number", "data-column": "progress" }, formatPercent(rep.progress)),
      el("td", { class: "number", "data-column": "projected" }, formatMoney(rep.projected)),
      el("td", { "data-column": "onTrack", class: rep.onTrack === false ? "behind" : null }, formatYesNo(rep.onTrack)),
      el("td", { class: "number", "data-column": "dealsWon" }, formatCount(rep.dealsWon)),
      el("td", { class: "number", "data-column": "pipeline" }, formatMoney(rep.openPipeline)),
      el("td", { class: "number", "data-column": "openDeals" }, formatCount(rep.openDeals))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 10 }, "No sales rep has figures here.")));
    section.querySelector("#reps tbody").replaceChildren(...rows);
  }

  function boardFailed(error) {
    const box = $("board-error");
    box.textContent = `The scoreboard cannot be shown: ${errorText(error)}`;
    box.hidden = false;
    $("scoreboard").setAttribute("aria-busy", "false");
  }

  function subscribeBoard() {
    if (state.boardDispose) state.boardDispose();
    state.boardDispose = null;
    const key = ++state.boardKey;
    $("scoreboard").setAttribute("aria-busy", "true");
    if (!state.client || !state.live) return; // subscribed when the connection is up
    state.boardDispose = state.client.subscribe({ query: BOARD_SUBSCRIPTION, variables: choice() }, {
      next(result) {
        if (key !== state.boardKey) return;
        if (result.errors && result.errors.length) boardFailed(result.errors);
        else if (result.data && result.data.scoreboardUpdated) renderBoard(result.data.scoreboardUpdated);
      },
      error(error) {
        // A dropped connection is handled (and shown) by `dropped`; here only the subscription's own errors.
        if (key === state.boardKey && Array.isArray(error)) boardFailed(error);
      },
      complete() {},
    });
  }

  // ---- conversation insights --------------------------------------------------------------------

  function insightText(name, figure) {
    if (!figure || figure.value === null) return "–";
    const value = INSIGHT_PERCENT.has(name) ? formatPercent(figure.value) : formatDecimal(figure.value);
    return figure.change === null ? value : `${value} (${figure.change.startsWith("-") ? "" : "+"}${figure.change} %)`;
  }

  function terms(list) {
    return list.length ? list.slice(0, 5).map((term) => `${term.name} (${term.mentions})`).join(", ") : "none";
  }

  function renderInsights(page) {
    const section = $("insights");
    section.dataset.preset = page.preset || "";
    section.setAttribute("aria-busy", "false");
    $("insights-error").hidden = true;
    for (const node of section.querySelectorAll("[data-insight]")) {
      const name = node.dataset.insight;
      node.textContent = insightText(name, page[INSIGHT_SECTION[name]][name]);
    }
    $("insight-keywords").textContent = terms(page.customers.keywords);
    $("insight-competitors").textContent = terms(page.customers.competitors);
    const best = page.bestSellers;
    $("insight-top-sellers").textContent = best.topSellers.length ? best.topSellers.map((u) => u.name).join(", ") : "none";
    $("insight-talk").textContent = `${formatPercent(best.top.talkPercent)} / ${formatPercent(best.team.talkPercent)}`;
  }

  function insightsFailed(error) {
    const box = $("insights-error");
    box.textContent = `The conversation insights cannot be shown: ${errorText(error)}`;
    box.hidden = false;
    $("insights").setAttribute("aria-busy", "false");
  }

  function subscribeInsights() {
    if (state.insightDispose) state.insightDispose();
    state.insightDispose = null;
    const key = ++state.insightKey;
    $("insights").setAttribute("aria-busy", "true");
    if (!state.client || !state.live) return;
    const { period, teamId } = choice();
    state.insightDispose = state.client.subscribe({ query: INSIGHT_SUBSCRIPTION, variables: { period, teamId } }, {
      next(result) {
        if (key !== state.insightKey) return;
        if (result.errors && result.errors.length) insightsFailed(result.errors);
        else if (result.data && result.data.conversationInsightsUpdated) renderInsights(result.data.conversationInsightsUpdated);
      },
      error(error) {
        if (key === state.insightKey && Array.isArray(error)) insightsFailed(error);
      },
      complete() {},
    });
  }

  async function loadTeams() {
    const data = await query(TEAMS);
    const select = $("team");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "All reps"),
      ...data.teams.map((team) => el("option", { value: team.id }, team.name)));
    select.value = data.teams.some((team) => team.id === chosen) ? chosen : "";
  }

  // ---- the accounts carrying status indicators -------------------------------------------------

  function textColourFor(hex) {
    const value = parseInt(hex.slice(1), 16);
    const [r, g, b] = [(value >> 16) & 255, (value >> 8) & 255, value & 255];
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? "#111111" : "#ffffff";
  }

  function chip(indicator, monitorId) {
    const node = el("span", { class: "chip", title: indicator.description || indicator.name,
                              "data-monitor-id": monitorId },
      el("span", { class: "icon", "aria-hidden": "true" }, ICONS[indicator.icon] || "●"),
      el("span", { class: "name" }, indicator.name));
    if (/^#[0-9a-fA-F]{6}$/.test(indicator.colour || "")) {
      node.style.backgroundColor = indicator.colour; // CSSOM: a property value, never markup
      node.style.color = textColourFor(indicator.colour);
    }
    return node;
  }

  function renderMonitors(monitors, accountsByMonitor, totalMonitors) {
    $("no-monitors").hidden = monitors.length > 0;
    const blocks = monitors.map((monitor, index) => {
      const found = accountsByMonitor[index];
      const items = found.nodes.map((account) => el("li", { "data-account-id": account.id },
        el("span", { class: "account-name" }, account.name),
        account.country ? el("span", { class: "country" }, account.country) : null,
        el("span", { class: "chips" }, ...account.statusIndicators.map((i) => chip(i, i.monitor ? i.monitor.id : "")))));
      const more = found.totalCount - found.nodes.length;
      return el("article", { class: "monitor", "data-monitor-id": monitor.id },
        el("h3", {}, chip(monitor, monitor.id), " ",
          el("span", { class: "count", "data-count": found.totalCount },
            `${formatCount(found.totalCount)} ${found.totalCount === 1 ? "account" : "accounts"}`)),
        monitor.description ? el("p", { class: "description" }, monitor.description) : null,
        items.length ? el("ul", { class: "accounts" }, ...items) : el("p", { class: "none" }, "No account carries it."),
        more > 0 ? el("p", { class: "more" }, `… and ${formatCount(more)} more`) : null);
    });
    if (totalMonitors > monitors.length) {
      blocks.push(el("p", { class: "more" }, `Showing ${monitors.length} of ${totalMonitors} monitors.`));
    }
    $("monitors").replaceChildren(...blocks);
  }

  async function loadIndicators() {
    const data = await query(MONITORS);
    if (state.lastIndicatorEventId === null) state.lastIndicatorEventId = data.latestEventId;
    const monitors = data.statusMonitors.nodes;
    let found = [];
    if (monitors.length) {
      const parameters = monitors.map((_m, i) => `$m${i}: ID!`).join(", ");
      const fields = monitors.map((_m, i) => `m${i}: accounts(first: ${ACCOUNTS_PER_MONITOR}, ` +
        `filter: {hasIndicator: $m${i}}, orderBy: {field: NAME}) { ${ACCOUNT_FIELDS} }`).join("\n");
      const variables = Object.fromEntries(monitors.map((m, i) => [`m${i}`, m.id]));
      const accounts = await query(`query AccountsWithIndicators(${parameters}) {\n${fields}\n}`, variables);
      found = monitors.map((_m, i) => accounts[`m${i}`]);
    }
    renderMonitors(monitors, found, data.statusMonitors.totalCount);
    $("indicators").dataset.loadedAfter = state.lastIndicatorEventId || "";
  }

  async function requeryIndicators() {
    clearTimeout(state.requeryTimer);
    state.requeryTimer = null;
    state.requeryFirstAsked = null;
    if (state.requerying) {
      state.requeryAgain = true;
      return;
    }
    state.requerying = true;
    try {
      do {
        state.requeryAgain = false;
        await loadIndicators();
      } while (state.requeryAgain);
    } catch (error) {
      if (error instanceof RefusedToken) tokenRefused(error.message);
      else showMessage(`The accounts with indicators could not be read: ${errorText(error)}`);
    } finally {
      state.requerying = false;
    }
  }

  function scheduleRequery() {
    const now = Date.now();
    if (state.requeryFirstAsked === null) state.requeryFirstAsked = now;
    const wait = Math.max(0, Math.min(REQUERY_DEBOUNCE_MS, state.requeryFirstAsked + REQUERY_MAX_WAIT_MS - now));
    clearTimeout(state.requeryTimer);
    state.requeryTimer = setTimeout(requeryIndicators, wait);
  }

  function subscribeIndicators() {
    if (state.indicatorDispose) state.indicatorDispose();
    state.indicatorDispose = null;
    const key = ++state.indicatorKey;
    if (!state.client || !state.live) return;
    const variables = { since: state.lastIndicatorEventId };
    state.indicatorDispose = state.client.subscribe({ query: INDICATOR_SUBSCRIPTION, variables }, {
      next(result) {
        if (key !== state.indicatorKey) return;
        if (result.errors && result.errors.length) {
          showMessage(`Indicator updates: ${errorText(result.errors)}`);
          return;
        }
        state.lastIndicatorEventId = result.data.statusIndicatorsChanged.eventId;
        scheduleRequery();
      },
      error(error) {
        if (key !== state.indicatorKey || !Array.isArray(error)) return;
        if (error.some((e) => e.extensions && e.extensions.code === "SINCE_OUT_OF_RANGE")) {
          // Too long away: read the current state again and follow the changes from there.
          state.lastIndicatorEventId = null;
          requeryIndicators().then(() => { if (key === state.indicatorKey) subscribeIndicators(); });
        } else {
          showMessage(`Indicator updates stopped: ${errorText(error)}`);
        }
      },
      complete() {},
    });
  }

  // ---- the connection --------------------------------------------------------------------------

  function connect() {
    state.reconnectTimer = null;
    const generation = ++state.generation;
    setConnection(state.retries ? "reconnecting" : "connecting", state.retries ? "reconnecting…" : "connecting…");
    // The client does not retry by itself (retryAttempts 0): on a drop we start a new connection, so that
    // the indicator stream resumes with `since` = the last event received, not the first subscription's.
    const client = graphqlWs.createClient({
      url: WS_URL,
      lazy: false,
      retryAttempts: 0,
      keepAlive: KEEPALIVE_MS,
      connectionParams: () => ({ authorization: `Bearer ${state.token}` }),
      onNonLazyError() {},
      on: {
        connected() {
          if (generation !== state.generation) return;
          state.retries = 0;
          state.live = true;
          setConnection("live", "live");
          subscribeBoard();
          subscribeInsights();
          subscribeIndicators();
        },
        closed(event) {
          if (generation === state.generation) dropped(event);
        },
      },
    });
    state.client = client;
  }

  function disconnect() {
    state.generation++;
    state.live = false;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    state.boardKey++;
    state.insightKey++;
    state.indicatorKey++;
    state.boardDispose = state.insightDispose = state.indicatorDispose = null;
    if (state.client) Promise.resolve(state.client.dispose()).catch(() => {});
    state.client = null;
  }

  function dropped(event) {
    disconnect();
    if (event && REFUSED.has(event.code)) {
      tokenRefused(event.reason || "the token was refused");
      return;
    }
    const delay = Math.round(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.retries) * (0.5 + Math.random() / 2));
    state.retries++;
    setConnection("reconnecting", `reconnecting in ${Math.ceil(delay / 1000)} s…`);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  // ---- the token and start-up ------------------------------------------------------------------

  function tokenRefused(reason) {
    disconnect();
    setConnection("refused", "token refused");
    showMessage(`The API refused the token (${reason}). Enter a valid one.`);
    $("token-form").hidden = false;
    $("token").focus();
  }

  async function start(token) {
    disconnect();
    state.token = token;
    state.retries = 0;
    state.lastIndicatorEventId = null;
    sessionStorage.setItem(TOKEN_KEY, token);
    showMessage("");
    $("main").hidden = false;
    setConnection("connecting", "connecting…");
    try {
      await Promise.all([loadTeams(), loadIndicators()]);
    } catch (error) {
      if (error instanceof RefusedToken) return tokenRefused(error.message);
      showMessage(`The dashboard could not be read: ${errorText(error)}`);
    }
    connect();
  }

  function tokenFromUrl() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!match) return null;
    history.replaceState(null, "", location.pathname + location.search); // keep it out of the address bar
    return decodeURIComponent(match[1]);
  }

  function init() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      if (token) start(token);
    });
    $("forget").addEventListener("click", () => {
      disconnect();
      sessionStorage.removeItem(TOKEN_KEY);
      $("token").value = "";
      $("main").hidden = true;
      setConnection("idle", "not connected");
      showMessage("");
    });
    $("period").addEventListener("change", () => { subscribeBoard(); subscribeInsights(); });
    $("team").addEventListener("change", () => { subscribeBoard(); subscribeInsights(); });
    $("currency").addEventListener("change", () => {
      const field = $("currency");
      field.value = field.value.trim().toUpperCase();
      subscribeBoard();
    });
    const token = tokenFromUrl() || sessionStorage.getItem(TOKEN_KEY);
    if (token) {
      $("token").value = token;
      start(token);
    }
  }

  if (typeof graphqlWs === "undefined") {
    showMessage("The WebSocket client (graphql-ws.min.js) did not load.");
    return;
  }
  init();
})();
