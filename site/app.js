// The leaderboard page: reads the API's address from config.json (written by Terraform in AWS,
// by the local runner on a laptop), then polls GET /stats, a page of players at a time. Each poll
// sends the page's ETag (If-None-Match): an unchanged board answers 304 with no body, and the
// browser's Accept-Encoding gets the rest gzipped. Data is only ever put on the page with
// textContent: nothing from the API is parsed as HTML.
"use strict";

(function () {
  const REFRESH_SECONDS = 5;
  const PAGE_SIZE = 100;
  const SOURCES = {
    HIT: "from the cache",
    MISS: "read from the table, now cached",
    STALE: "last good copy, the table is busy",
  };

  const byId = (id) => document.getElementById(id);
  let apiBase = null;
  let countdown = null;
  let nextPoll = null;
  let offset = 0;
  let shown = null; // the page on screen: { etag, builtAt, total }

  async function loadApiBase() {
    const response = await fetch("config.json", { cache: "no-store" });
    if (!response.ok) {
      throw new Error(`config.json: HTTP ${response.status}`);
    }
    const config = await response.json();
    if (typeof config.api_base_url !== "string") {
      throw new Error("config.json has no api_base_url");
    }
    return config.api_base_url.replace(/\/+$/, "");
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    return td;
  }

  function placeholder(text) {
    const tr = document.createElement("tr");
    tr.className = "placeholder";
    const td = cell(text);
    td.colSpan = 6;
    tr.append(td);
    return tr;
  }

  function renderRows(players) {
    const rows = players.map((player) => {
      const tr = document.createElement("tr");
      if (player.rank <= 3) {
        tr.className = `podium podium-${player.rank}`; // the top three stand out
      }
      const rank = document.createElement("th");
      rank.scope = "row";
      rank.className = "num rank";
      rank.textContent = String(player.rank);
      tr.append(
        rank,
        cell(String(player.player), "player"),
        cell(String(player.games), "num"),
        cell(String(player.wins), "num wins"),
        cell(`${Number(player.win_percent).toFixed(1)}%`, "num"),
        cell(Number(player.avg_score).toFixed(1), "num"),
      );
      return tr;
    });
    if (rows.length === 0) {
      rows.push(placeholder("No games played yet."));
    }
    byId("rows").replaceChildren(...rows);
  }

  function renderPager() {
    const total = shown ? shown.total : 0;
    const last = Math.min(offset + PAGE_SIZE, total);
    byId("page-range").textContent =
      total === 0 ? "No players" : `Players ${offset + 1}–${last} of ${total}`;
    byId("previous").disabled = offset === 0;
    byId("next").disabled = last >= total;
  }

  function renderStatus(response, tookMs) {
    const source = byId("source");
    const header = response.headers.get("X-Cache") || "";
    const name = Object.hasOwn(SOURCES, header) ? header : "UNKNOWN";
    source.textContent = name;
    source.className = `badge badge-${name.toLowerCase()}`;
    byId("source-text").textContent = SOURCES[name] || "";
    const ageSeconds = Math.max(0, (Date.now() - Date.parse(shown.builtAt)) / 1000);
    byId("age").textContent = `${ageSeconds.toFixed(1)} s`;
    byId("answer").textContent =
      response.status === 304 ? "304 unchanged" : "200 new standings";
    byId("latency").textContent = `${Math.round(tookMs)} ms`;
    byId("updated").textContent = new Date().toLocaleTimeString();
    byId("answer-summary").textContent = `updated ${byId("updated").textContent}`;
  }

  function schedule(seconds) {
    clearTimeout(nextPoll);
    nextPoll = setTimeout(refresh, seconds * 1000);
  }

  function turnPage(by) {
    offset = Math.max(0, offset + by * PAGE_SIZE);
    shown = null; // another page: nothing to revalidate
    clearInterval(countdown);
    refresh();
  }

  function showNotice(lines) {
    const notice = byId("notice");
    notice.replaceChildren(
      ...lines.map((line) => {
        const p = document.createElement("p");
        p.textContent = line;
        return p;
      }),
    );
    notice.hidden = false;
  }

  function hideNotice() {
    byId("notice").hidden = true;
  }

  // Wait `seconds`, telling the reader how long is left (the busy message says when it retries).
  function retryIn(seconds, describe) {
    clearInterval(countdown);
    let left = seconds;
    showNotice(describe(left));
    countdown = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(countdown);
        refresh();
      } else {
        showNotice(describe(left));
      }
    }, 1000);
  }

  function retryAfter(response, body) {
    const fromHeader = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    const fromBody = body && Number.parseInt(body.retry_after, 10);
    const seconds = Number.isFinite(fromHeader) ? fromHeader : fromBody;
    return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 300) : REFRESH_SECONDS;
  }

  async function refresh() {
    clearTimeout(nextPoll);
    let response;
    let body = null;
    let started;
    try {
      if (apiBase === null) {
        apiBase = await loadApiBase();
      }
      const headers = { Accept: "application/json" };
      if (shown !== null && shown.etag) {
        headers["If-None-Match"] = shown.etag;
      }
      started = performance.now();
      response = await fetch(`${apiBase}/stats?limit=${PAGE_SIZE}&offset=${offset}`, {
        cache: "no-store", // revalidated here, with the ETag, rather than by the browser
        headers,
      });
      if (response.status !== 304) {
        body = await response.json().catch(() => null);
      }
    } catch (error) {
      document.body.dataset.state = "error";
      retryIn(REFRESH_SECONDS, (left) => [
        `Could not reach the leaderboard (${error.message}).`,
        `Trying again in ${left} s.`,
      ]);
      return;
    }
    const tookMs = performance.now() - started;

    if (response.status === 503) {
      document.body.dataset.state = "busy";
      if (byId("rows").querySelector("tr:not(.placeholder)") === null) {
        byId("rows").replaceChildren(placeholder("The standings appear once the table answers."));
      }
      const onScreen = byId("rows").querySelector("tr:not(.placeholder)") !== null;
      retryIn(retryAfter(response, body), (left) => [
        "The leaderboard table is busy right now: it has used up its read capacity.",
        `Trying again in ${left} s.` + (onScreen ? " The standings below may be out of date." : ""),
      ]);
      return;
    }
    if (response.status === 304 && shown !== null) {
      hideNotice();
      renderStatus(response, tookMs);
      document.body.dataset.state = "ready";
      schedule(REFRESH_SECONDS);
      return;
    }
    if (!response.ok || body === null || !Array.isArray(body.players)) {
      document.body.dataset.state = "error";
      const reason = body && typeof body.error === "string" ? `: ${body.error}` : "";
      retryIn(REFRESH_SECONDS, (left) => [
        `The leaderboard answered HTTP ${response.status}${reason}.`,
        `Trying again in ${left} s.`,
      ]);
      return;
    }

    if (body.players.length === 0 && offset > 0 && body.total > 0) {
      turnPage(-Math.ceil((offset - body.total + 1) / PAGE_SIZE)); // the board shrank
      return;
    }
    shown = { etag: response.headers.get("ETag"), builtAt: body.built_at, total: body.total };
    hideNotice();
    renderRows(body.players);
    renderPager();
    renderStatus(response, tookMs);
    document.body.dataset.state = "ready";
    schedule(REFRESH_SECONDS);
  }

  byId("previous").addEventListener("click", () => turnPage(-1));
  byId("next").addEventListener("click", () => turnPage(1));
  refresh();
})();
