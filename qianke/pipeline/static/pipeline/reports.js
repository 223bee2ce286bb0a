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
  var m = data.matrix;
  var colors = {develop_first: "#1e7a4c", invest: "#2f6fa8", opportunistic: "#a35a00", defer: "#7b8794"};
  var maxAmount = Math.max.apply(null, m.points.map(function (p) { return p.value[2]; }).concat([1]));
  draw("matrix-chart", {
    tooltip: {formatter: function (p) { return p.name + "<br>" + m.axes.y + " " + p.value[1] + " · " +
                                               m.axes.x + " " + p.value[0]; }},
    legend: {data: Object.keys(m.quadrants).map(function (k) { return m.quadrants[k][0]; }), top: 0},
    grid: {left: 50, right: 20, bottom: 40, top: 50},
    xAxis: {type: "value", min: 1, max: 5, name: m.axes.x, nameLocation: "middle", nameGap: 26},
    yAxis: {type: "value", min: 1, max: 5, name: m.axes.y, nameLocation: "middle", nameGap: 30},
    series: Object.keys(m.quadrants).map(function (key, i) {
      var s = {name: m.quadrants[key][0], type: "scatter", itemStyle: {color: colors[key]},
               symbolSize: function (v) { return 8 + 22 * Math.sqrt(v[2] / maxAmount); },
               data: m.points.filter(function (p) { return p.quadrant === key; })};
      if (i === 0) {
        s.markLine = {silent: true, symbol: "none", lineStyle: {color: "#9aa5b1", type: "dashed"},
                      data: [{xAxis: 3}, {yAxis: 3}], label: {show: false}};
      }
      return s;
    })
  });
  charts.forEach(function (c) {
    c.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
  });
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
