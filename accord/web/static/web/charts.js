// The communication report's chart: in and out per channel (bars), drawn by Chart.js
// from the page's JSON (json_script), in the page's colours and direction.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("comms-chart");
  const source = document.getElementById("comms-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const root = document.documentElement;
  const rtl = root.dir === "rtl";
  // The tokens are light-dark(…) pairs, which a canvas cannot paint: an element styled
  // with the token gives the colour of the theme in force.
  const probe = document.createElement("span");
  probe.hidden = true;
  canvas.after(probe);
  const colour = (name) => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color;
  };
  const paint = (chart) => {
    const [incoming, outgoing] = chart.data.datasets;
    incoming.backgroundColor = colour("--accent");
    outgoing.backgroundColor = colour("--success");
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
  const chart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.names.incoming, data: data.incoming },
        { label: data.names.outgoing, data: data.outgoing },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      locale: root.lang || undefined,
      plugins: { legend: { position: "bottom", rtl, labels: {} } },
      scales: {
        x: { reverse: rtl, ticks: {}, grid: {}, border: {} },
        y: { position: rtl ? "right" : "left", beginAtZero: true, ticks: { precision: 0 }, grid: {}, border: {} },
      },
    },
  });
  paint(chart);
  chart.update();
  // The system's theme may change while the page is open (a user on "system").
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    paint(chart);
    chart.update();
  });
});
