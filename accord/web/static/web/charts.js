// The communication report's chart: in and out per channel (bars), drawn by Chart.js
// from the page's JSON (json_script), in the page's colours and direction.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("comms-chart");
  const source = document.getElementById("comms-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const style = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const rtl = document.documentElement.dir === "rtl";
  window.Chart.defaults.color = colour("--muted", "#6b7280");
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.names.incoming, data: data.incoming, backgroundColor: colour("--accent", "#3b5bdb") },
        { label: data.names.outgoing, data: data.outgoing, backgroundColor: colour("--success", "#2f9e44") },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      locale: document.documentElement.lang || undefined,
      plugins: { legend: { position: "bottom", rtl } },
      scales: { x: { reverse: rtl }, y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
});
