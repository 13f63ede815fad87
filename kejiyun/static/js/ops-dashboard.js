/*
 * Operations dashboard (kejiyun/templates/ops/dashboard.html), loaded after ECharts.
 *
 * 1. Period picker: shows only the fields the chosen kind of period needs (the form works
 *    without script, with every field shown).
 * 2. Trend: a line chart from the JSON in #ops-trend-data.
 * 3. Map: the outlines (kejiyun/static/geo/) filtered to the areas listed in data-codes,
 *    coloured by the values of map.json; the map indicator select reloads map.json without
 *    reloading the page; a click on an area opens its dashboard. The codes drawn are written to
 *    data-drawn and the indicator shown to data-shown, for tests and assistive tools.
 *
 * The CSP allows no inline styles: tooltips use ECharts' richText render mode (drawn on the
 * canvas) instead of HTML with style attributes.
 */
(function () {
  "use strict";

  var PALETTE = ["#e8f1fb", "#9ec5eb", "#4f94d4", "#1f63a8", "#0b3a6e"];

  function format(value, unit) {
    if (value === null || value === undefined) { return "无数据"; }
    var digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 2;
    return value.toLocaleString("zh-CN", { maximumFractionDigits: digits }) + (unit ? " " + unit : "");
  }

  function picker() {
    var form = document.querySelector("[data-period-picker]");
    if (!form) { return; }
    var kind = form.querySelector("select[name=kind]");
    function sync() {
      form.querySelectorAll("[data-kinds]").forEach(function (box) {
        var wanted = box.getAttribute("data-kinds").split(" ").indexOf(kind.value) >= 0;
        box.hidden = !wanted;
        box.querySelectorAll("select, input").forEach(function (field) { field.disabled = !wanted; });
      });
    }
    kind.addEventListener("change", sync);
    sync();
  }

  function trend() {
    var holder = document.getElementById("ops-trend");
    var data = document.getElementById("ops-trend-data");
    if (!holder || !data || !window.echarts) { return; }
    var t = JSON.parse(data.textContent);
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption({
      aria: { enabled: true },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        renderMode: "richText",
        valueFormatter: function (v) { return format(v, t.unit); }
      },
      xAxis: { type: "category", data: t.labels, boundaryGap: false },
      yAxis: { type: "value", name: t.unit, minInterval: t.unit === "%" ? 0 : 1 },
      series: [{ type: "line", name: t.name, data: t.values, connectNulls: false, showSymbol: t.values.length <= 31, areaStyle: { opacity: 0.08 } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function map() {
    var holder = document.getElementById("ops-map");
    if (!holder || !window.echarts) { return; }
    var codes = holder.getAttribute("data-codes").split(",");
    var mapName = "ops-" + holder.getAttribute("data-codes");
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    var select = document.querySelector("[data-map-indicator]");
    chart.showLoading({ text: "加载中…" });

    function load(indicator) {
      var url = holder.getAttribute("data-map-url") + "?" + new URLSearchParams({
        period: holder.getAttribute("data-period"), indicator: indicator
      }).toString();
      return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        });
    }

    function draw(m) {
      var byCode = {};
      m.areas.forEach(function (a) { byCode[a.code] = a; });
      var wide = holder.clientWidth >= 576;
      // One value (a county, or every area alike): the scale runs from 0 to it.
      var low = m.min === m.max ? Math.min(0, m.min) : m.min;
      var high = m.max > low ? m.max : low + 1;
      chart.hideLoading();
      chart.setOption({
        aria: { enabled: true },
        tooltip: {
          trigger: "item",
          renderMode: "richText",
          formatter: function (p) {
            var a = byCode[p.name];
            if (!a) { return ""; }
            return a.name + "\n" + m.indicator.name + "：" + (a.value === null ? "无数据" : a.text + (m.unit && m.unit !== "%" ? " " + m.unit : ""));
          }
        },
        visualMap: {
          type: "continuous",
          min: low,
          max: high,
          calculable: false,
          orient: "horizontal",
          left: "center",
          bottom: 0,
          itemHeight: wide ? 140 : 100,
          text: [format(high, m.unit), format(low, m.unit)],
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
          data: m.areas.map(function (a) {
            return { name: a.code, value: a.value === null ? NaN : a.value, url: a.url };
          })
        }]
      }, { replaceMerge: ["series"] });
      holder.setAttribute("data-drawn", m.areas.map(function (a) { return a.code; }).join(","));
      holder.setAttribute("data-shown", m.indicator.key);
    }

    function fail() {
      chart.hideLoading();
      holder.setAttribute("data-error", "1");
      holder.textContent = "地图加载失败，请使用排名表。";
    }

    fetch(holder.getAttribute("data-geo-url"), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (geo) {
        var wanted = {};
        codes.forEach(function (c) { wanted[c] = true; });
        window.echarts.registerMap(mapName, {
          type: "FeatureCollection",
          features: geo.features.filter(function (f) { return wanted[f.properties.adcode]; })
        });
        return load(holder.getAttribute("data-indicator"));
      })
      .then(draw)
      .catch(fail);

    chart.on("click", function (p) {
      if (p.data && p.data.url) { window.location.assign(p.data.url); }
    });
    if (select) {
      select.addEventListener("change", function () {
        chart.showLoading({ text: "加载中…" });
        load(select.value).then(draw).catch(fail);
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    picker();
    trend();
    map();
  });
})();
