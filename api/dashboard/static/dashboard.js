/* Kaiku dashboard: a static page on the public /v1 API (docs/dashboard.md).
 *
 * Everything shown comes from one API request a panel (metrics, outliers, mentions, incidents, cases) made with
 * the team key the user signed in with; the key lives in sessionStorage only. No inline scripts or styles, no
 * eval: the page works under a strict Content-Security-Policy. */
(function () {
  "use strict";

  const KEY_STORAGE = "kaiku.apiKey";
  const LANG_STORAGE = "kaiku.uiLang";
  const BRANDS_STORAGE = "kaiku.brands";
  const EXPERIENCES = ["anger", "comfort", "delight"];
  // Okabe-Ito colours (readable with the common colour-vision deficiencies); anger is also hatched and every
  // series is named in its legend, so no reading depends on colour alone.
  const COLOURS = { anger: "#D55E00", comfort: "#BBBBBB", delight: "#0072B2" };
  const SET_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442"];
  const SET_DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [4, 4], [1, 2]];
  const TRANSITIONS = { open: ["responded", "closed"], responded: ["followed_up", "closed"], followed_up: ["closed"], closed: [] };
  const CASE_COLUMNS = ["open", "responded", "followed_up", "closed"];
  const CSV_COLUMNS = [
    "id", "brand", "source", "url", "canonical_url", "author", "author_followers", "title", "text", "lang",
    "published_at", "crawled_at", "rating", "rating_max", "polarity.negative", "polarity.neutral",
    "polarity.positive", "experience", "experience_reason", "model.id", "model.version", "engagement.likes",
    "engagement.replies", "engagement.shares", "query_id", "near_duplicate_of", "brands_matched",
  ];

  const $ = (id) => document.getElementById(id);
  const state = {
    key: sessionStorage.getItem(KEY_STORAGE),
    lang: localStorage.getItem(LANG_STORAGE) || ((navigator.language || "en").slice(0, 2) === "fi" ? "fi" : "en"),
    messages: {},
    brands: [],
    brand: null,
    from: null,
    to: null,
    interval: "week",
    tz: null,
    view: "overview",
    charts: [],
    explorer: { cursors: [null], page: 0, rows: [], next: null },
  };

  /* ---------- text ---------- */

  function t(key, vars) {
    const table = state.messages[state.lang] || {};
    let text = table[key] !== undefined ? table[key] : (state.messages.en || {})[key];
    if (text === undefined) text = key;
    if (vars) for (const [name, value] of Object.entries(vars)) text = text.split("{" + name + "}").join(String(value));
    return text;
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = t("app.title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-attr]")) {
      for (const pair of el.dataset.i18nAttr.split(";")) {
        const [attr, key] = pair.split(":");
        el.setAttribute(attr, t(key));
      }
    }
  }

  // Day-month order and 24-hour clock for both languages (the users are in Finland).
  const locale = () => (state.lang === "fi" ? "fi-FI" : "en-GB");
  const numberFormat = () => new Intl.NumberFormat(locale());
  const fmtInt = (n) => (n === null || n === undefined ? "–" : numberFormat().format(n));
  const fmtPct = (r) =>
    r === null || r === undefined
      ? "–"
      : new Intl.NumberFormat(locale(), { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(r);
  const fmtNet = (r) =>
    r === null || r === undefined
      ? "–"
      : new Intl.NumberFormat(locale(), { signDisplay: "exceptZero", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(r);

  function fmtBucket(key, interval = state.interval, short = false) {
    const date = new Date(key);
    const opts = { timeZone: state.tz, year: short && interval !== "month" ? undefined : "numeric", month: "short", day: "numeric" };
    if (interval === "month") delete opts.day;
    if (interval === "hour") Object.assign(opts, { year: undefined, hour: "2-digit", minute: "2-digit" });
    return new Intl.DateTimeFormat(locale(), opts).format(date);
  }

  function fmtTime(iso) {
    if (!iso) return "–";
    return new Intl.DateTimeFormat(locale(), {
      timeZone: state.tz, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    }).format(new Date(iso));
  }

  /* ---------- element helpers (never innerHTML with data) ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function showStatus(message) {
    const box = $("status");
    box.textContent = message || "";
    box.hidden = !message;
  }

  /* ---------- time zones: local midnights with the offset in force ---------- */

  function zoneOffsetMinutes(epochMs, tz) {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(epochMs));
    const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
    return (Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second) - epochMs) / 60000;
  }

  /** "2026-03-23" at 00:00 in tz as ISO 8601 with the offset then in force ("2026-03-23T00:00:00+02:00"). */
  function localMidnight(ymd, tz) {
    const [y, m, d] = ymd.split("-").map(Number);
    const guess = Date.UTC(y, m - 1, d);
    let offset = zoneOffsetMinutes(guess, tz);
    offset = zoneOffsetMinutes(guess - offset * 60000, tz);
    const sign = offset < 0 ? "-" : "+";
    const abs = Math.abs(offset);
    const pad = (n) => String(n).padStart(2, "0");
    return `${ymd}T00:00:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  function addDays(ymd, days) {
    const [y, m, d] = ymd.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  function todayIn(tz) {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
        .formatToParts(new Date()).map((x) => [x.type, x.value]),
    );
    return `${p.year}-${p.month}-${p.day}`;
  }

  const periodParams = () => ({ from: localMidnight(state.from, state.tz), to: localMidnight(addDays(state.to, 1), state.tz) });

  /* ---------- the API ---------- */

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") search.set(name, value);
    }
    const text = search.toString();
    return text ? "?" + text : "";
  }

  async function request(method, path, params, body) {
    const headers = { Authorization: "Bearer " + state.key, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path + query(params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    });
    if (response.status === 401) {
      signOut(t("signin.expired"));
      throw new ApiError(401, t("signin.expired"));
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch (_) { /* not a problem document */ }
      throw new ApiError(response.status, `${response.status}: ${detail}`);
    }
    return response.status === 204 ? null : response.json();
  }

  const api = (path, params) => request("GET", path, params);

  /* ---------- hash state: #view?brand=..&from=..&to=..&interval=..&tz=.. ---------- */

  function readHash() {
    const [view, search] = location.hash.replace(/^#/, "").split("?");
    if (["overview", "outliers", "explorer", "alerts"].includes(view)) state.view = view;
    const params = new URLSearchParams(search || "");
    const valid = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || "");
    if (params.get("brand")) state.brand = params.get("brand");
    if (valid(params.get("from"))) state.from = params.get("from");
    if (valid(params.get("to"))) state.to = params.get("to");
    if (["day", "week", "month"].includes(params.get("interval"))) state.interval = params.get("interval");
    if (params.get("tz")) state.tz = params.get("tz");
  }

  function writeHash() {
    const params = new URLSearchParams({ brand: state.brand || "", from: state.from, to: state.to, interval: state.interval, tz: state.tz });
    history.replaceState(null, "", "#" + state.view + "?" + params.toString());
  }

  /* ---------- sign-in ---------- */

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(BRANDS_STORAGE);
    state.key = null;
    state.brands = [];
    showSignIn();
    showStatus(message || "");
  }

  function showSignIn() {
    $("signin").hidden = false;
    for (const id of ["views", "period", "sign-out"]) $(id).hidden = true;
    for (const view of document.querySelectorAll(".view")) view.hidden = true;
    $("api-key").focus();
  }

  /** Sign in with a key; `cached` is this tab's brand list from an earlier sign-in (a reload need not wait for
   * /v1/brands before asking for the metrics: the list is refreshed after the first render). */
  async function signIn(key, cached) {
    state.key = key;
    const brands = cached || (await api("/v1/brands")).data;
    sessionStorage.setItem(KEY_STORAGE, key);
    useBrands(brands);
    $("signin").hidden = true;
    for (const id of ["views", "period", "sign-out"]) $(id).hidden = false;
    showStatus("");
    await showView(state.view);
    if (cached) {
      const fresh = (await api("/v1/brands")).data;
      if (JSON.stringify(fresh) !== JSON.stringify(cached)) {
        const before = state.brand;
        useBrands(fresh);
        if (state.brand !== before) await showView(state.view);
      }
    }
  }

  function useBrands(brands) {
    sessionStorage.setItem(BRANDS_STORAGE, JSON.stringify(brands));
    state.brands = brands;
    if (!brands.some((b) => b.id === state.brand)) state.brand = brands.length ? brands[0].id : null;
    fillPeriodForm();
  }

  /* ---------- period form ---------- */

  function fillPeriodForm() {
    const select = $("p-brand");
    select.replaceChildren(...state.brands.map((b) => el("option", { value: b.id, text: b.name || b.id })));
    if (!state.brands.length) select.append(el("option", { value: "", text: t("brands.none") }));
    select.value = state.brand || "";
    $("p-from").value = state.from;
    $("p-to").value = state.to;
    $("p-interval").value = state.interval;
    $("p-tz").value = state.tz;
  }

  function readPeriodForm() {
    const from = $("p-from").value;
    const to = $("p-to").value;
    if (!from || !to || from > to) {
      showStatus(t("period.invalid"));
      return false;
    }
    const tz = $("p-tz").value.trim();
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch (_) {
      showStatus(t("period.badtz", { tz }));
      return false;
    }
    Object.assign(state, { brand: $("p-brand").value, from, to, interval: $("p-interval").value, tz });
    showStatus("");
    return true;
  }

  /* ---------- views ---------- */

  async function showView(view) {
    state.view = view;
    writeHash();
    for (const link of document.querySelectorAll("#views a")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== "view-" + view;
    if (view !== "overview") await state.ready;  // the overview waits for the text beside its own request
    if (!state.brand) {
      showStatus(t("brands.none"));
      return;
    }
    try {
      if (view === "overview") await renderOverview();
      else if (view === "outliers") await renderOutliers();
      else if (view === "explorer") await renderExplorer(true);
      else if (view === "alerts") await renderAlerts();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showStatus(error.message);
    }
  }

  /* ---------- charts ---------- */

  function hatch(colour) {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = "rgba(255,255,255,0.75)";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, 8); ctx.lineTo(8, 0);
    ctx.moveTo(-2, 2); ctx.lineTo(2, -2);
    ctx.moveTo(6, 10); ctx.lineTo(10, 6);
    ctx.stroke();
    return tile;
  }

  const angerPattern = () => document.createElement("canvas").getContext("2d").createPattern(hatch(COLOURS.anger), "repeat");

  function destroyCharts() {
    for (const chart of state.charts) chart.destroy();
    state.charts = [];
  }

  function plotWidth(container) {
    return Math.max(280, Math.floor(container.getBoundingClientRect().width || 600));
  }

  function tzDate(ts) {
    return uPlot.tzDate(new Date(ts * 1000), state.tz);
  }

  function makeChart(container, options, data) {
    container.replaceChildren();
    const chart = new uPlot(
      { width: plotWidth(container), height: 220, tzDate, legend: { show: false }, cursor: { points: { show: false } }, ...options },
      data,
      container,
    );
    state.charts.push(chart);
    return chart;
  }

  function legend(container, items) {
    container.replaceChildren(
      ...items.map((item) =>
        el("span", { class: "legend-item" }, el("span", { class: "swatch " + (item.swatch || ""), "data-colour": item.colour || "" }), item.label),
      ),
    );
    // Swatch colours come from the palette above via CSSOM (allowed by a CSP without 'unsafe-inline').
    for (const swatch of container.querySelectorAll(".swatch[data-colour]")) {
      if (swatch.dataset.colour) swatch.style.setProperty("--swatch", swatch.dataset.colour);
    }
  }

  function table(container, caption, headers, rows) {
    container.replaceChildren(
      el("table", { class: "numbers" },
        el("caption", { text: caption }),
        el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows.map((row) =>
          el("tr", { "data-key": row.key }, row.cells.map((cell, i) =>
            i === 0 ? el("th", { scope: "row", text: cell.text }) : el("td", { "data-field": cell.field, "data-value": cell.value, text: cell.text }),
          )),
        )),
      ),
    );
  }

  const cell = (field, value, text) => ({ field, value: value === null || value === undefined ? "" : String(value), text });
  const axisStyle = { stroke: "#3d4a57", grid: { stroke: "#e6e9ee", width: 1 }, ticks: { stroke: "#e6e9ee", width: 1 } };
  const fmtPctAxis = (r) => new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(r);

  /** Ticks on the buckets themselves (at most about 8), labelled as the tables label them. */
  function xAxis(xs, interval = state.interval) {
    const step = Math.max(1, Math.ceil(xs.length / 8));
    return {
      ...axisStyle,
      splits: () => xs.filter((_, i) => i % step === 0),
      values: (u, splits) => splits.map((x) => fmtBucket(new Date(x * 1000).toISOString(), interval, true)),
    };
  }

  /** A ratio's y range: from 0 (or -1) to a little above the largest value, never beyond 1. */
  const ratioRange = (low) => (u, min, max) => [low, Math.min(1, Math.max(0.1, (max || 0) * 1.15))];

  /* ---------- overview ---------- */

  async function renderOverview() {
    document.documentElement.removeAttribute("data-overview-rendered");
    const [metrics] = await Promise.all([
      api(`/v1/brands/${encodeURIComponent(state.brand)}/metrics`, {
        interval: state.interval, tz: state.tz, ...periodParams(), competitors: "true",
      }),
      state.ready,
    ]);
    const firstRender = !performance.getEntriesByName("kaiku:overview-rendered").length;
    if (firstRender) performance.mark("kaiku:overview-data");
    destroyCharts();
    renderKpis(metrics);
    const xs = metrics.data.map((row) => Date.parse(row.key) / 1000);
    drawVolume(metrics, xs);
    drawRatio(metrics, xs, "share", "earned_share", { range: ratioRange(0), fmt: fmtPct, axis: fmtPctAxis });
    drawRatio(metrics, xs, "net", "net_delight", { range: () => [-1, 1], fmt: fmtNet, axis: fmtNet });
    drawSov(metrics, xs);
    // uPlot draws on the next frame: mark the first complete render after it (bench/dashboard.py reads this).
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    if (firstRender) performance.mark("kaiku:overview-rendered");
    document.documentElement.setAttribute("data-overview-rendered", "true");
  }

  function brandName(id) {
    const own = state.brands.find((b) => b.id === id);
    return own && own.name ? own.name : id;
  }

  function kpi(title, value, detail, field, raw) {
    return el("div", { class: "kpi card", "data-field": field, "data-value": raw === null || raw === undefined ? "" : String(raw) },
      el("h2", { text: title }), el("p", { class: "kpi-value", text: value }), el("p", { class: "kpi-detail", text: detail }));
  }

  function renderKpis(metrics) {
    const totals = metrics.totals;
    $("kpis").replaceChildren(
      kpi(t("kpi.volume"), fmtInt(totals.volume),
        t("kpi.volume.detail", { anger: fmtInt(totals.anger), comfort: fmtInt(totals.comfort), delight: fmtInt(totals.delight), unscored: fmtInt(totals.unscored) }),
        "volume", totals.volume),
      kpi(t("kpi.share"), fmtPct(totals.earned_share), t("kpi.share.detail", { earned: fmtInt(totals.earned), volume: fmtInt(totals.volume) }), "earned_share", totals.earned_share),
      kpi(t("kpi.net"), fmtNet(totals.net_delight), t("kpi.net.detail", { delight: fmtInt(totals.delight), anger: fmtInt(totals.anger) }), "net_delight", totals.net_delight),
      kpi(t("kpi.sov"), fmtPct(totals.earned_sov), t("kpi.sov.detail", { earned: fmtInt(totals.earned), set: fmtInt(totals.set_earned) }), "earned_sov", totals.earned_sov),
    );
  }

  function drawVolume(metrics, xs) {
    const rows = metrics.data;
    // Stacked bars: each series is the running total up to its class, drawn tallest first.
    const stacks = [];
    let running = rows.map(() => 0);
    for (const exp of EXPERIENCES) {
      running = running.map((sum, i) => sum + rows[i][exp]);
      stacks.push(running);
    }
    const bars = uPlot.paths.bars({ size: [0.7, 64], gap: 1 });
    const anger = angerPattern();
    const order = [2, 1, 0];
    makeChart($("plot-volume"), {
      height: 260,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.08)] } },
      axes: [xAxis(xs), { ...axisStyle, size: 56 }],
      series: [{}, ...order.map((i) => ({
        label: t("exp." + EXPERIENCES[i]), paths: bars, points: { show: false }, width: 0,
        fill: EXPERIENCES[i] === "anger" ? anger : COLOURS[EXPERIENCES[i]], stroke: COLOURS[EXPERIENCES[i]],
      }))],
    }, [xs, ...order.map((i) => stacks[i])]);
    legend($("legend-volume"), EXPERIENCES.map((exp) => ({ label: t("exp." + exp), swatch: "swatch-" + exp })));
    $("plot-volume").setAttribute("aria-label", t("chart.volume.alt", { n: rows.length, total: fmtInt(metrics.totals.volume) }));
    table($("table-volume"), t("chart.volume"),
      [t("col.bucket"), t("col.volume"), t("exp.anger"), t("exp.comfort"), t("exp.delight"), t("col.unscored")],
      rows.map((r) => ({ key: r.key, cells: [
        { text: fmtBucket(r.key) }, cell("volume", r.volume, fmtInt(r.volume)), cell("anger", r.anger, fmtInt(r.anger)),
        cell("comfort", r.comfort, fmtInt(r.comfort)), cell("delight", r.delight, fmtInt(r.delight)), cell("unscored", r.unscored, fmtInt(r.unscored)),
      ] })));
  }

  function setSeries(metrics, field) {
    return metrics.competitive_set.map((id, i) => ({
      id, colour: SET_COLOURS[i % SET_COLOURS.length], dash: SET_DASHES[i % SET_DASHES.length],
      values: metrics.data.map((row) => (i === 0 ? row[field] : ((row.competitors || {})[id] || {})[field] ?? null)),
    }));
  }

  function drawRatio(metrics, xs, name, field, { range, fmt, axis }) {
    const lines = setSeries(metrics, field);
    makeChart($("plot-" + name), {
      scales: { x: { time: true }, y: { range } },
      axes: [xAxis(xs), { ...axisStyle, size: 56, values: (u, ticks) => ticks.map(axis) }],
      series: [{}, ...lines.map((line, i) => ({
        label: brandName(line.id), stroke: line.colour, width: i === 0 ? 3 : 2, dash: line.dash,
        points: { show: true, size: i === 0 ? 6 : 5, fill: line.colour }, spanGaps: false,
      }))],
    }, [xs, ...lines.map((l) => l.values)]);
    legend($("legend-" + name), lines.map((l, i) => ({ label: brandName(l.id) + (i === 0 ? "" : " · " + t("competitor")), colour: l.colour, swatch: "swatch-line dash-" + i })));
    $("plot-" + name).setAttribute("aria-label", t(`chart.${name}.alt`, { brand: brandName(state.brand), value: fmt(metrics.totals[field]) }));
    const rows = metrics.data;
    if (name === "share") {
      table($("table-share"), t("chart.share"), [t("col.bucket"), t("col.earned"), t("col.volume"), t("chart.share")],
        rows.map((r) => ({ key: r.key, cells: [{ text: fmtBucket(r.key) }, cell("earned", r.earned, fmtInt(r.earned)), cell("volume", r.volume, fmtInt(r.volume)), cell("earned_share", r.earned_share, fmtPct(r.earned_share))] })));
    } else {
      table($("table-net"), t("chart.net"), [t("col.bucket"), t("exp.delight"), t("exp.anger"), t("chart.net")],
        rows.map((r) => ({ key: r.key, cells: [{ text: fmtBucket(r.key) }, cell("delight", r.delight, fmtInt(r.delight)), cell("anger", r.anger, fmtInt(r.anger)), cell("net_delight", r.net_delight, fmtNet(r.net_delight))] })));
    }
  }

  function drawSov(metrics, xs) {
    const lines = setSeries(metrics, "earned_sov");
    makeChart($("plot-sov"), {
      scales: { x: { time: true }, y: { range: ratioRange(0) } },
      axes: [xAxis(xs), { ...axisStyle, size: 56, values: (u, ticks) => ticks.map(fmtPctAxis) }],
      series: [{}, ...lines.map((line, i) => ({
        label: brandName(line.id), stroke: line.colour, width: i === 0 ? 3 : 2, dash: line.dash,
        points: { show: true, size: 5, fill: line.colour }, fill: i === 0 ? "rgba(0,114,178,0.08)" : undefined,
      }))],
    }, [xs, ...lines.map((l) => l.values)]);
    legend($("legend-sov"), lines.map((l, i) => ({ label: brandName(l.id) + (i === 0 ? "" : " · " + t("competitor")), colour: l.colour, swatch: "swatch-line dash-" + i })));
    $("plot-sov").setAttribute("aria-label", t("chart.sov.alt", { brand: brandName(state.brand), value: fmtPct(metrics.totals.earned_sov) }));
    // Totals of the period: one bar per member of the set, with its counts.
    const totals = metrics.totals;
    const members = metrics.competitive_set.map((id, i) => ({ id, colour: SET_COLOURS[i % SET_COLOURS.length], figures: i === 0 ? totals : (totals.competitors || {})[id] || {} }));
    $("sov-totals").replaceChildren(
      el("h3", { text: t("sov.period") }),
      ...members.map((m) => {
        const bar = el("span", { class: "bar-fill" });
        bar.style.setProperty("--share", String((m.figures.earned_sov || 0) * 100) + "%");
        bar.style.setProperty("--swatch", m.colour);
        return el("div", { class: "sov-row", "data-brand": m.id },
          el("span", { class: "sov-name", text: brandName(m.id) }),
          el("span", { class: "bar" }, bar),
          el("span", { class: "sov-value", text: `${fmtPct(m.figures.earned_sov)} (${fmtInt(m.figures.earned)} / ${fmtInt(m.figures.set_earned)})` }));
      }),
    );
    const headers = [t("col.bucket"), t("col.set_earned"), ...metrics.competitive_set.flatMap((id) => [brandName(id) + " · " + t("col.earned"), brandName(id) + " · " + t("chart.sov.short")])];
    table($("table-sov"), t("chart.sov"), headers, metrics.data.map((r) => ({ key: r.key, cells: [
      { text: fmtBucket(r.key) }, cell("set_earned", r.set_earned, fmtInt(r.set_earned)),
      ...metrics.competitive_set.flatMap((id, i) => {
        const f = i === 0 ? r : (r.competitors || {})[id] || {};
        const prefix = i === 0 ? "" : id + ".";
        return [cell(prefix + "earned", f.earned, fmtInt(f.earned)), cell(prefix + "earned_sov", f.earned_sov, fmtPct(f.earned_sov))];
      }),
    ] })));
  }

  /* ---------- mentions shown as text ---------- */

  /** The API's highlight fragments are escaped text with matches in <em>; rebuilt as text nodes and <mark>s. */
  function highlighted(fragments) {
    const decode = (s) => s.replace(/&(lt|gt|amp|quot|#x27|#39);/g, (m, name) => ({ lt: "<", gt: ">", amp: "&", quot: '"', "#x27": "'", "#39": "'" })[name]);
    const out = [];
    fragments.forEach((fragment, i) => {
      if (i) out.push(" … ");
      fragment.split(/(<em>.*?<\/em>)/s).forEach((part) => {
        const match = /^<em>(.*)<\/em>$/s.exec(part);
        if (match) out.push(el("mark", { text: decode(match[1]) }));
        else if (part) out.push(decode(part));
      });
    });
    return out;
  }

  function clip(text, length) {
    if (!text) return "";
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  function expBadge(exp) {
    return el("span", { class: "badge " + (exp || "unscored"), text: exp ? t("exp." + exp) : t("col.unscored") });
  }

  function rating(m) {
    return m.rating === null || m.rating === undefined ? "–" : m.rating_max ? `${m.rating} / ${m.rating_max}` : String(m.rating);
  }

  function safeLink(url, text) {
    // Only http(s) links: a crawled javascript: URL must never become clickable.
    if (!/^https?:\/\//i.test(url || "")) return el("span", { text: text });
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text });
  }

  /* ---------- outliers ---------- */

  async function renderOutliers() {
    const rank = $("o-rank").value;
    const path = `/v1/brands/${encodeURIComponent(state.brand)}/outliers`;
    const [anger, delight] = await Promise.all(
      ["anger", "delight"].map((experience) => api(path, { experience, rank, ...periodParams(), limit: 10 })),
    );
    fillOutliers($("list-anger"), anger.data, true);
    fillOutliers($("list-delight"), delight.data, false);
  }

  function fillOutliers(list, mentions, canOpenCase) {
    if (!mentions.length) {
      list.replaceChildren(el("li", { class: "empty", text: t("outliers.none") }));
      return;
    }
    list.replaceChildren(...mentions.map((m) => el("li", { class: "outlier", "data-id": m.id },
      el("blockquote", { lang: m.lang || null, text: clip(m.title ? `${m.title} — ${m.text}` : m.text, 400) }),
      el("dl", { class: "meta" },
        el("dt", { text: t("col.source") }), el("dd", { text: m.source || "–" }),
        el("dt", { text: t("col.author") }), el("dd", { text: m.author || "–" }),
        el("dt", { text: t("col.rating") }), el("dd", { text: rating(m) }),
        el("dt", { text: t("col.lang") }), el("dd", { text: m.lang || "–" }),
        el("dt", { text: t("col.published") }), el("dd", { text: fmtTime(m.published_at) }),
        el("dt", { text: t("col.score") }), el("dd", { text: m.score === undefined ? "–" : numberFormat().format(m.score) }),
      ),
      el("div", { class: "outlier-actions" },
        safeLink(m.url, t("outliers.open")),
        canOpenCase ? el("button", { type: "button", class: "secondary", onclick: () => openCaseDialog(m) , text: t("case.open") }) : null,
      ),
    )));
  }

  let caseMention = null;

  function openCaseDialog(mention) {
    caseMention = mention;
    $("case-quote").textContent = clip(mention.text, 200);
    $("case-error").hidden = true;
    $("case-lang").value = state.lang;
    $("case-dialog").showModal();
    $("case-owner").focus();
  }

  async function submitCase(event) {
    event.preventDefault();
    if (!$("case-form").reportValidity()) return;
    try {
      const created = await request("POST", "/v1/cases", undefined, {
        mention_id: caseMention.id, owner: $("case-owner").value, note: $("case-note").value || null, language: $("case-lang").value,
      });
      $("case-dialog").close();
      showStatus(t("case.opened", { id: created.id }));
    } catch (error) {
      $("case-error").textContent = error.message;
      $("case-error").hidden = false;
    }
  }

  /* ---------- explorer ---------- */

  function searchParams() {
    return {
      brand: state.brand, q: $("s-q").value.trim(), source: $("s-source").value.trim(), lang: $("s-lang").value.trim(),
      experience: $("s-exp").value, sort: $("s-sort").value, limit: $("s-limit").value, ...periodParams(),
      highlight: $("s-q").value.trim() ? "true" : null,
    };
  }

  async function fillSuggestions() {
    const path = `/v1/brands/${encodeURIComponent(state.brand)}/breakdown`;
    const [sources, langs] = await Promise.all(["source", "lang"].map((by) => api(path, { by, ...periodParams() })));
    const options = (rows) => rows.filter((r) => r.key !== "unknown").map((r) => el("option", { value: r.key }));
    $("source-list").replaceChildren(...options(sources.data));
    $("lang-list").replaceChildren(...options(langs.data));
  }

  async function renderExplorer(fresh) {
    if (fresh) {
      state.explorer = { cursors: [null], page: 0, rows: [], next: null };
      fillSuggestions().catch((error) => showStatus(error.message));
    }
    const page = await api("/v1/mentions", { ...searchParams(), cursor: state.explorer.cursors[state.explorer.page] });
    state.explorer.rows = page.data;
    state.explorer.next = page.next;
    $("result-count").textContent = t("explorer.count", { count: fmtInt(page.count) + (page.count_exact === false ? "+" : ""), shown: fmtInt(page.data.length), page: state.explorer.page + 1 });
    $("page-no").textContent = t("page.no", { page: state.explorer.page + 1 });
    $("page-prev").disabled = state.explorer.page === 0;
    $("page-next").disabled = !page.next;
    $("export-csv").disabled = $("export-ndjson").disabled = !page.data.length;
    const head = [t("col.published"), t("period.brand"), t("col.source"), t("col.lang"), t("search.experience"), t("col.text"), t("col.rating"), t("col.link")];
    $("results").tHead.replaceChildren(el("tr", {}, head.map((h) => el("th", { scope: "col", text: h }))));
    const body = $("results").tBodies[0];
    if (!page.data.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: head.length, class: "empty", text: t("explorer.none") })));
      return;
    }
    body.replaceChildren(...page.data.map((m) => el("tr", { "data-id": m.id },
      el("td", { class: "nowrap", text: fmtTime(m.published_at) }),
      el("td", { text: brandName(m.brand) }),
      el("td", { text: m.source || "–" }),
      el("td", { text: m.lang || "–" }),
      el("td", {}, expBadge(m.experience)),
      el("td", { class: "text", lang: m.lang || null }, ...(m.highlight && m.highlight.text ? highlighted(m.highlight.text) : [clip(m.text, 280)])),
      el("td", { text: rating(m) }),
      el("td", {}, safeLink(m.url, t("outliers.open"))),
    )));
  }

  function flatten(mention) {
    const row = {};
    for (const column of CSV_COLUMNS) {
      const value = column.split(".").reduce((v, part) => (v && typeof v === "object" ? v[part] : undefined), mention);
      row[column] = Array.isArray(value) ? value.join("|") : value;
    }
    return row;
  }

  /** The rows on screen as the API's CSV export writes them: same columns, formula-like cells neutralised. */
  function toCsv(mentions) {
    const quote = (value) => {
      let text = value === null || value === undefined ? "" : String(value);
      if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
      return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    };
    const lines = [CSV_COLUMNS.join(",")];
    for (const mention of mentions) {
      const row = flatten(mention);
      lines.push(CSV_COLUMNS.map((c) => quote(row[c])).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }

  function download(text, type, extension) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = el("a", { href: url, download: `kaiku-${state.brand}-page${state.explorer.page + 1}.${extension}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function withoutHighlight(m) {
    const copy = { ...m };
    delete copy.highlight;
    return copy;
  }

  /* ---------- alerts and cases ---------- */

  async function renderAlerts() {
    const [incidents, cases] = await Promise.all([
      api("/v1/incidents", { status: "open", limit: 20 }),
      allCases(),
    ]);
    destroyCharts();
    const box = $("incidents");
    if (!incidents.data.length) box.replaceChildren(el("p", { class: "empty card", text: t("alerts.none") }));
    else {
      box.replaceChildren(...incidents.data.map(incidentCard));
      await Promise.all(incidents.data.map(drawSpike));
    }
    renderBoard(cases);
  }

  async function allCases() {
    const rows = [];
    let cursor = null;
    for (let i = 0; i < 5; i++) {  // at most 1000 cases on the board
      const page = await api("/v1/cases", { limit: 200, cursor });
      rows.push(...page.data);
      if (!page.next) break;
      cursor = page.next;
    }
    return rows;
  }

  function incidentCard(incident) {
    return el("article", { class: "card incident", "data-id": incident.id },
      el("h2", {}, expBadge(incident.experience), " ", brandName(incident.brand), " · ", el("span", { class: "severity " + incident.severity, text: t("severity." + incident.severity) })),
      el("p", { text: t("alerts.detail", {
        start: fmtTime(incident.start), end: fmtTime(incident.end), peak: fmtInt(incident.peak_value),
        baseline: numberFormat().format(incident.baseline), rule: incident.rule_id,
      }) }),
      el("div", { class: "plot", role: "img", id: "spike-" + incident.id }),
      el("details", {}, el("summary", { text: t("table.show") }), el("div", { class: "table-wrap", id: "spike-table-" + incident.id })),
    );
  }

  async function drawSpike(incident) {
    const start = Date.parse(incident.start);
    const end = Date.parse(incident.end);
    const span = end - start;
    const interval = span <= 3 * 86400000 ? "hour" : "day";
    const pad = interval === "hour" ? 24 * 3600000 : 7 * 86400000;
    const to = Math.min(Date.now(), end + pad / 4);
    // The counts behind the spike, as the metrics API gives them for the incident's brand.
    const metrics = await api(`/v1/brands/${encodeURIComponent(incident.brand)}/metrics`, {
      interval, tz: state.tz, from: new Date(start - pad).toISOString(), to: new Date(Math.max(to, end)).toISOString(), competitors: "false",
    });
    const xs = metrics.data.map((r) => Date.parse(r.key) / 1000);
    const inside = metrics.data.map((r) => (Date.parse(r.key) >= start && Date.parse(r.key) < end ? r[incident.experience] : null));
    const outside = metrics.data.map((r, i) => (inside[i] === null ? r[incident.experience] : null));
    const bars = uPlot.paths.bars({ size: [0.8, 40], gap: 1 });
    const colour = COLOURS[incident.experience];
    const fill = incident.experience === "anger" ? angerPattern() : colour;
    const container = $("spike-" + incident.id);
    makeChart(container, {
      height: 160,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [xAxis(xs, interval), { ...axisStyle, size: 40 }],
      series: [{}, { label: t("alerts.before"), paths: bars, fill: "#BBBBBB", stroke: "#999999", width: 0, points: { show: false } },
        { label: t("alerts.spike"), paths: bars, fill, stroke: colour, width: 0, points: { show: false } }],
    }, [xs, outside, inside]);
    container.setAttribute("aria-label", t("alerts.spike.alt", { peak: fmtInt(incident.peak_value), experience: t("exp." + incident.experience) }));
    table($("spike-table-" + incident.id), t("alerts.spike"), [t("col.bucket"), t("exp." + incident.experience), t("col.volume")],
      metrics.data.map((r) => ({ key: r.key, cells: [{ text: fmtTime(r.key) }, cell(incident.experience, r[incident.experience], fmtInt(r[incident.experience])), cell("volume", r.volume, fmtInt(r.volume))] })));
  }

  function renderBoard(cases) {
    const now = Date.now();
    const due = cases.filter((c) => c.status === "responded" && c.follow_up_at && Date.parse(c.follow_up_at) <= now);
    $("reminders").replaceChildren(
      due.length
        ? el("p", { class: "due-banner", text: t("cases.due", { n: due.length }) })
        : el("p", { class: "muted", text: t("cases.nodue") }),
    );
    $("board").replaceChildren(...CASE_COLUMNS.map((status) => {
      const column = cases.filter((c) => c.status === status);
      return el("section", { class: "column card", "aria-labelledby": "col-" + status },
        el("h2", { id: "col-" + status }, t("case.status." + status), el("span", { class: "count", text: ` (${column.length})` })),
        el("p", { class: "muted", text: t("case.hint." + status) }),
        el("ul", {}, column.map((c) => caseCard(c, due.includes(c)))),
      );
    }));
  }

  function caseCard(c, isDue) {
    return el("li", { class: "case" + (isDue ? " due" : ""), "data-id": c.id },
      el("p", { class: "case-head" }, `#${c.id} · ${brandName(c.brand)} · `, safeLink(c.mention_url, t("outliers.open"))),
      c.note ? el("p", { class: "case-note", text: c.note }) : null,
      el("p", { class: "muted", text: t("case.owner.is", { owner: c.owner }) }),
      c.follow_up_at ? el("p", { class: isDue ? "due-text" : "muted", text: (isDue ? t("case.due") + " " : t("case.followup") + " ") + fmtTime(c.follow_up_at) }) : null,
      el("div", { class: "case-actions" }, TRANSITIONS[c.status].map((to) =>
        el("button", { type: "button", class: "secondary small", text: t("case.to." + to), onclick: () => moveCase(c, to) }),
      )),
    );
  }

  async function moveCase(c, to) {
    try {
      await request("PATCH", `/v1/cases/${c.id}`, undefined, { status: to });
      renderBoard(await allCases());
    } catch (error) {
      showStatus(error.message);
    }
  }

  /* ---------- wiring ---------- */

  async function loadMessages() {
    const response = await fetch("messages.json");
    state.messages = await response.json();
  }

  function defaults() {
    if (!state.tz) state.tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    if (!state.to) state.to = todayIn(state.tz);
    if (!state.from) state.from = addDays(state.to, -7 * 13 + 1);
  }

  function bind() {
    $("ui-lang").value = state.lang;
    $("ui-lang").addEventListener("change", () => {
      state.lang = $("ui-lang").value;
      localStorage.setItem(LANG_STORAGE, state.lang);
      translatePage();
      if (state.key && state.brands.length) showView(state.view);
    });
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      $("api-key").value = "";
      signIn(key).catch((error) => {
        if (!(error instanceof ApiError && error.status === 401)) showStatus(error.message);
      });
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    $("period").addEventListener("submit", (event) => {
      event.preventDefault();
      if (readPeriodForm()) showView(state.view);
    });
    $("p-brand").addEventListener("change", () => {
      if (readPeriodForm()) showView(state.view);
    });
    for (const link of document.querySelectorAll("#views a")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        showView(link.dataset.view);
      });
    }
    $("o-rank").addEventListener("change", () => showView("outliers"));
    $("search").addEventListener("submit", (event) => {
      event.preventDefault();
      renderExplorer(true).catch((error) => showStatus(error.message));
    });
    $("page-next").addEventListener("click", () => {
      if (!state.explorer.next) return;
      state.explorer.cursors[state.explorer.page + 1] = state.explorer.next;
      state.explorer.page += 1;
      renderExplorer(false).catch((error) => showStatus(error.message));
    });
    $("page-prev").addEventListener("click", () => {
      if (state.explorer.page === 0) return;
      state.explorer.page -= 1;
      renderExplorer(false).catch((error) => showStatus(error.message));
    });
    $("export-csv").addEventListener("click", () => download(toCsv(state.explorer.rows), "text/csv;charset=utf-8", "csv"));
    $("export-ndjson").addEventListener("click", () =>
      download(state.explorer.rows.map((m) => JSON.stringify(withoutHighlight(m))).join("\n") + "\n", "application/x-ndjson", "ndjson"));
    $("case-form").addEventListener("submit", submitCase);
    $("case-cancel").addEventListener("click", () => $("case-dialog").close());
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        for (const chart of state.charts) chart.setSize({ width: plotWidth(chart.root.parentElement), height: chart.height });
      }, 150);
    });
  }

  async function start() {
    state.ready = loadMessages().then(translatePage);
    readHash();
    defaults();
    bind();
    if (state.key) {
      try {
        await signIn(state.key, JSON.parse(sessionStorage.getItem(BRANDS_STORAGE) || "null"));
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) showStatus(error.message);
      }
    } else {
      await state.ready;
      showSignIn();
    }
  }

  start();
})();
