// Charts of /analytics/. The numbers come from the page's json_script block; every chart's data
// is also in a table on the page, so nothing is lost when this script or Chart.js fails.
(function () {
  "use strict";

  const PALETTE = ["#1f5fbf", "#18794e", "#a15c00", "#b42318", "#6941c6", "#0e7090"];

  function readData() {
    const node = document.getElementById("analytics-charts");
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) {
      new window.Chart(canvas, config);
    }
  }

  function barConfig(labels, data, color) {
    return {
      type: "bar",
      data: { labels: labels, datasets: [{ data: data, backgroundColor: color }] },
      options: {
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    };
  }

  function init() {
    const charts = readData();
    if (!charts || !window.Chart) {
      return;
    }
    draw("chart-volume", {
      type: "line",
      data: {
        labels: charts.volume.labels,
        datasets: charts.volume.datasets.map(function (set, i) {
          return {
            label: set.label,
            data: set.data,
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            tension: 0.2,
          };
        }),
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    draw("chart-backlog", barConfig(charts.backlog.labels, charts.backlog.data, PALETTE[0]));
    draw("chart-csat", barConfig(charts.csat.labels, charts.csat.data, PALETTE[1]));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
