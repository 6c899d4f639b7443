// Draws the figures page's charts with Chart.js (served from here) from the numbers the tables show.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6d597a", "#457b9d"];

  function draw(id, type, block, titles, stacked) {
    var canvas = document.getElementById(id);
    if (!canvas || !block.labels.length) { return; }
    new Chart(canvas, {
      type: type,
      data: {
        labels: block.labels,
        datasets: titles.map(function (title, i) {
          return { label: title, data: block.series[title], backgroundColor: colours[i % colours.length],
                   borderColor: colours[i % colours.length] };
        })
      },
      options: { maintainAspectRatio: false, animation: false,
                 scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } } }
    });
  }

  var channels = Object.keys(data.monthly.series).filter(function (t) { return t.indexOf("applications:") === 0; });
  draw("chart-applications", "bar", data.monthly, channels, true);
  draw("chart-calls", "line", data.monthly, ["calls placed", "calls answered", "hires"], false);
  draw("chart-provinces", "bar", data.provinces, ["jobs published", "applications", "hires"], false);
}());
