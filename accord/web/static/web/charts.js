// Charts drawn by Chart.js from the page's JSON (json_script): each canvas[data-chart]
// names its data — {type: line | bar | funnel, labels, series: [{label, data}], kind, currency}
// — and is drawn in the page's colours and direction, its numbers in the page's language.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.Chart) return;
  const root = document.documentElement;
  const rtl = root.dir === "rtl";
  const locale = root.lang || undefined;
  // The tokens are light-dark(…) pairs, which a canvas cannot paint: an element styled
  // with the token gives the colour of the theme in force.
  const probe = document.createElement("span");
  probe.hidden = true;
  document.body.append(probe);
  const colour = (name) => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color;
  };
  const palette = ["--accent", "--success", "--warning", "--danger", "--muted"];
  const formatter = (kind, currency) => {
    if (kind === "money" && currency) {
      const money = new Intl.NumberFormat(locale, { style: "currency", currency, notation: "compact" });
      return (value) => money.format(value);
    }
    const plain = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
    if (kind === "percent") return (value) => `${plain.format(value)} %`;
    return (value) => plain.format(value);
  };
  const paint = (chart) => {
    chart.data.datasets.forEach((dataset, index) => {
      const shade = colour(palette[index % palette.length]);
      dataset.backgroundColor = shade;
      dataset.borderColor = shade;
    });
    const text = colour("--muted");
    const grid = colour("--border");
    chart.options.plugins.legend.labels.color = text;
    for (const axis of Object.values(chart.options.scales)) {
      axis.ticks.color = text;
      axis.grid.color = grid;
      axis.border.color = grid;
    }
  };
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  const charts = [];
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) continue;
    const data = JSON.parse(source.textContent);
    const funnel = data.type === "funnel";
    const format = formatter(data.kind, data.currency);
    const value = { position: rtl && !funnel ? "right" : "left", reverse: funnel && rtl, beginAtZero: true,
      ticks: { precision: 0, callback: (tick) => format(tick) }, grid: {}, border: {} };
    const category = { reverse: rtl && !funnel, ticks: { autoSkip: true, maxRotation: 0 }, grid: {}, border: {} };
    if (funnel) category.position = rtl ? "right" : "left";
    const chart = new window.Chart(canvas, {
      type: data.type === "line" ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map((one) => ({ label: one.label, data: one.data, tension: 0.25, spanGaps: true,
          pointRadius: data.labels.length > 40 ? 0 : 3 })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: funnel ? "y" : "x",
        locale,
        plugins: {
          legend: { display: data.series.length > 1, position: "bottom", rtl, labels: {} },
          tooltip: { rtl, callbacks: { label: (item) => `${item.dataset.label}: ${format(item.raw)}` } },
        },
        scales: funnel ? { x: value, y: category } : { x: category, y: value },
      },
    });
    paint(chart);
    chart.update();
    charts.push(chart);
  }
  // The system's theme may change while the page is open (a user on "system").
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const chart of charts) {
      paint(chart);
      chart.update();
    }
  });
});
