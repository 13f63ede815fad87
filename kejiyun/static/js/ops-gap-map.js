/*
 * Supply-demand gap map (kejiyun/templates/ops/gap.html), loaded after ECharts.
 *
 * The outlines (kejiyun/static/geo/, shared with the dashboards) are filtered to the areas
 * listed in data-codes and coloured by each area's gap ratio (the share of open demands no
 * capable expert could answer) from data-json-url (/ops/<code>/gap.json). A click on an
 * area opens its own gap page. The codes drawn are written to data-drawn for tests and
 * assistive tools; the tables below the map carry the same figures without script.
 *
 * The CSP allows no inline styles: tooltips use ECharts' richText render mode.
 */
(function () {
  "use strict";

  var PALETTE = ["#e6f4ea", "#fde9a9", "#f8b26a", "#e8590c", "#a61e1e"];

  function percent(value) {
    return value === null || value === undefined ? "无在办需求" : Math.round(value * 100) + "%";
  }

  function json(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      });
  }

  function gapMap() {
    var holder = document.getElementById("ops-gap-map");
    if (!holder || !window.echarts) { return; }
    var codes = holder.getAttribute("data-codes").split(",");
    var mapName = "ops-gap-" + holder.getAttribute("data-codes");
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.showLoading({ text: "加载中…" });

    function draw(m) {
      var byCode = {};
      m.areas.forEach(function (a) { byCode[a.code] = a; });
      var wide = holder.clientWidth >= 576;
      chart.hideLoading();
      chart.setOption({
        aria: { enabled: true },
        tooltip: {
          trigger: "item",
          renderMode: "richText",
          formatter: function (p) {
            var a = byCode[p.name];
            if (!a) { return ""; }
            return a.name + "\n缺口率：" + percent(a.gap) + "\n在办需求 " + a.demands +
              "，有专家可答 " + a.answerable + "，可答专家 " + a.experts;
          }
        },
        visualMap: {
          type: "continuous",
          min: 0,
          max: 1,
          calculable: false,
          orient: "horizontal",
          left: "center",
          bottom: 0,
          itemHeight: wide ? 140 : 100,
          text: ["100%", "0%"],
          inRange: { color: PALETTE }
        },
        series: [{
          type: "map",
          map: mapName,
          nameProperty: "adcode",
          roam: false,
          top: 8,
          bottom: 48,
          selectedMode: false,
          label: {
            show: wide,
            fontSize: 10,
            formatter: function (p) { return byCode[p.name] ? byCode[p.name].name : ""; }
          },
          emphasis: { label: { show: true, formatter: function (p) { return byCode[p.name] ? byCode[p.name].name : ""; } } },
          itemStyle: { areaColor: "#f1f3f5", borderColor: "#6c757d", borderWidth: 0.6 },
          data: m.areas.filter(function (a) { return codes.indexOf(a.code) >= 0; }).map(function (a) {
            return { name: a.code, value: a.gap === null ? NaN : a.gap, url: a.url };
          })
        }]
      });
      holder.setAttribute("data-drawn", codes.join(","));
    }

    function fail() {
      chart.hideLoading();
      holder.setAttribute("data-error", "1");
      holder.textContent = "地图加载失败，请查看下方表格。";
    }

    json(holder.getAttribute("data-geo-url"))
      .then(function (geo) {
        var wanted = {};
        codes.forEach(function (c) { wanted[c] = true; });
        window.echarts.registerMap(mapName, {
          type: "FeatureCollection",
          features: geo.features.filter(function (f) { return wanted[f.properties.adcode]; })
        });
        return json(holder.getAttribute("data-json-url"));
      })
      .then(draw)
      .catch(fail);

    chart.on("click", function (p) {
      if (p.data && p.data.url) { window.location.assign(p.data.url); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", gapMap);
})();
