/* Charts of the deal reports page (ECharts, vendored). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-chart-data").textContent);
  if (!window.echarts) { return; }
  var charts = [];
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    charts.push(chart);
  }
  var money = function (v) { return v == null ? "—" : "¥" + Math.round(v).toLocaleString("en-US"); };
  var f = data.forecast;
  draw("forecast-chart", {
    tooltip: {trigger: "axis", valueFormatter: money},
    legend: {data: [f.labels.amount, f.labels.weighted, f.labels.won]},
    grid: {left: 70, right: 16, bottom: 30, top: 40},
    xAxis: {type: "category", data: f.months},
    yAxis: {type: "value"},
    series: [
      {name: f.labels.amount, type: "bar", data: f.amount, itemStyle: {color: "#b9d1e8"}},
      {name: f.labels.weighted, type: "bar", data: f.weighted, itemStyle: {color: "#2f6fa8"}},
      {name: f.labels.won, type: "line", data: f.won, itemStyle: {color: "#1e7a4c"}}
    ]
  });
  if (data.funnel.steps.length) {
    draw("funnel-chart", {
      tooltip: {trigger: "item"},
      series: [{type: "funnel", sort: "none", left: "5%", width: "90%", minSize: "8%", gap: 2,
                label: {show: true, position: "inside", formatter: "{b}: {c}"}, data: data.funnel.steps}]
    });
  }
  var h = data.history;
  draw("history-chart", {
    tooltip: {trigger: "axis", valueFormatter: money},
    legend: {data: [h.labels.forecast, h.labels.actual]},
    grid: {left: 70, right: 16, bottom: 30, top: 40},
    xAxis: {type: "category", data: h.months},
    yAxis: {type: "value"},
    series: [
      {name: h.labels.forecast, type: "bar", data: h.forecast, itemStyle: {color: "#2f6fa8"}},
      {name: h.labels.actual, type: "bar", data: h.actual, itemStyle: {color: "#1e7a4c"}}
    ]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
