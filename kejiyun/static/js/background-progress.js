/*
 * The progress bar of a background run (templates/background/_progress.html). The width of
 * a Bootstrap progress bar is a style, and the Content-Security-Policy allows no inline style:
 * the template carries the percentage in data-progress-percent and this script sets the
 * width through the CSSOM, on load and after every htmx swap of the polled fragment.
 */
(function () {
  "use strict";

  function paint(root) {
    var bars = (root || document).querySelectorAll("[data-progress-percent]");
    for (var i = 0; i < bars.length; i++) {
      var percent = parseInt(bars[i].getAttribute("data-progress-percent"), 10);
      if (isNaN(percent)) {
        percent = 0;
      }
      bars[i].style.width = Math.max(0, Math.min(100, percent)) + "%";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    paint(document);
  });
  document.addEventListener("htmx:afterSettle", function () {
    paint(document);
  });
})();
