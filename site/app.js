// The leaderboard page: reads the API's address from config.json (written by Terraform in AWS,
// by the local runner on a laptop), then polls GET /stats. Data is only ever put on the page
// with textContent: nothing from the API is parsed as HTML.
"use strict";

(function () {
  const REFRESH_SECONDS = 5;
  const SOURCES = {
    HIT: "from the cache",
    MISS: "read from the table, now cached",
    STALE: "last good copy, the table is busy",
  };

  const byId = (id) => document.getElementById(id);
  let apiBase = null;
  let countdown = null;

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

  function renderStatus(data, tookMs) {
    const source = byId("source");
    const name = Object.hasOwn(SOURCES, data.cache) ? data.cache : "UNKNOWN";
    source.textContent = name;
    source.className = `badge badge-${name.toLowerCase()}`;
    byId("source-text").textContent = SOURCES[name] || "";
    byId("age").textContent = `${Number(data.age_seconds).toFixed(1)} s`;
    byId("latency").textContent = `${Math.round(tookMs)} ms`;
    byId("updated").textContent = new Date().toLocaleTimeString();
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
    let response;
    let body = null;
    let started;
    try {
      if (apiBase === null) {
        apiBase = await loadApiBase();
      }
      started = performance.now();
      response = await fetch(`${apiBase}/stats`, {
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      body = await response.json().catch(() => null);
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
      const shown = byId("rows").querySelector("tr:not(.placeholder)") !== null;
      if (!shown) {
        byId("rows").replaceChildren(placeholder("The standings appear once the table answers."));
      }
      retryIn(retryAfter(response, body), (left) => [
        "The leaderboard table is busy right now: it has used up its read capacity.",
        `Trying again in ${left} s.` + (shown ? " The standings below may be out of date." : ""),
      ]);
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

    hideNotice();
    renderRows(body.players);
    renderStatus(body, tookMs);
    document.body.dataset.state = "ready";
    setTimeout(refresh, REFRESH_SECONDS * 1000);
  }

  refresh();
})();
