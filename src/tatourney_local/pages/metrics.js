// The local metrics page: reads /local/metrics.json every 5 seconds and renders it with DOM
// calls only (no inline script or style, no HTML from data: it works under the site's CSP).
"use strict";

(() => {
  const REFRESH_SECONDS = 5;
  const SVG = "http://www.w3.org/2000/svg";
  const SERIES = [
    ["Hits", "hits", "HIT"],
    ["Misses", "misses", "MISS"],
    ["StaleAnswers", "stale", "STALE"],
  ];
  // Rounded for reading: whole numbers stay whole, the rest keep one decimal (0.0000375 ms is 0).
  const number = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
  const byId = (id) => document.getElementById(id);
  // CloudWatch's unit names, as the functions declare them, shortened for the table.
  const UNITS = { Milliseconds: " ms", Seconds: " s", Percent: " %", Bytes: " B" };

  function format(value) {
    return value === null || value === undefined ? "–" : number.format(value);
  }

  function cells(values, header) {
    const tr = document.createElement("tr");
    values.forEach(([text, className], index) => {
      const cell = document.createElement(header && index === 0 ? "th" : "td");
      if (header && index === 0) cell.scope = "row";
      cell.textContent = text;
      if (className) cell.className = className;
      tr.append(cell);
    });
    return tr;
  }

  function renderAlarms(alarms) {
    byId("alarms").replaceChildren(
      ...alarms.map((alarm) =>
        cells(
          [
            [alarm.alarm],
            [format(alarm.figure), "num"],
            [format(alarm.threshold), "num"],
            [alarm.state, alarm.state === "WOULD ALARM" ? "state-alarm" : ""],
            [alarm.note],
          ],
          true,
        ),
      ),
    );
  }

  function renderFunctions(functions, units) {
    const rows = [];
    for (const [service, metrics] of Object.entries(functions)) {
      for (const [name, summary] of Object.entries(metrics)) {
        const unit = UNITS[(units[service] || {})[name]] || "";
        rows.push(
          cells(
            [
              [service],
              [name],
              [format(summary.sum) + unit, "num"],
              [format(summary.samples), "num"],
              ...["p50", "p95", "max"].map((key) => [format(summary[key]) + unit, "num"]),
            ],
            true,
          ),
        );
      }
    }
    byId("functions").replaceChildren(...rows);
  }

  function renderChart(history) {
    const width = 600;
    const height = 160;
    const buckets = history.series.Hits.length;
    const totals = history.series.Hits.map((_, i) =>
      SERIES.reduce((sum, [name]) => sum + history.series[name][i], 0),
    );
    const top = Math.max(1, ...totals);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("role", "img");
    const total = (name) => history.series[name].reduce((a, b) => a + b, 0);
    svg.setAttribute(
      "aria-label",
      `Answers per ${history.bucket_seconds} seconds: ` +
        SERIES.map(([name, , label]) => `${total(name)} ${label}`).join(", "),
    );
    const barWidth = width / buckets;
    for (let i = 0; i < buckets; i += 1) {
      let y = height;
      for (const [name, key] of SERIES) {
        const barHeight = (history.series[name][i] / top) * (height - 4);
        if (barHeight > 0) {
          const rect = document.createElementNS(SVG, "rect");
          y -= barHeight;
          rect.setAttribute("x", String(i * barWidth + 1));
          rect.setAttribute("y", String(y));
          rect.setAttribute("width", String(Math.max(barWidth - 2, 1)));
          rect.setAttribute("height", String(barHeight));
          rect.setAttribute("class", `series-${key}`);
          svg.append(rect);
        }
      }
    }
    byId("chart").replaceChildren(svg);
    byId("chart-legend").replaceChildren(
      ...SERIES.map(([name, key, label]) => {
        const item = document.createElement("span");
        const swatch = document.createElement("span");
        swatch.className = `swatch series-${key}`;
        item.append(swatch, `${label} ${total(name)}`);
        return item;
      }),
    );
  }

  async function refresh() {
    try {
      const response = await fetch("/local/metrics.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const figures = await response.json();
      renderChart(figures.history);
      renderAlarms(figures.alarms);
      renderFunctions(figures.functions, figures.units);
      byId("notice").hidden = true;
      document.body.dataset.state = "ready";
    } catch (error) {
      byId("notice").textContent = `The metrics could not be read (${error.message}).`;
      byId("notice").hidden = false;
    }
    setTimeout(refresh, REFRESH_SECONDS * 1000);
  }

  refresh();
})();
