/* The scheme form: show the period fields of the chosen kind, keep the target field for
   target-based items only, and add up the weights as they are typed. The form works without
   this script (every field is shown, the server checks everything). */
(function () {
  "use strict";

  function picker(form) {
    var box = form.querySelector("[data-period-picker]");
    if (!box) { return; }
    var kind = box.querySelector("select[name=kind]");
    function sync() {
      box.querySelectorAll("[data-kinds]").forEach(function (part) {
        var wanted = part.getAttribute("data-kinds").split(" ").indexOf(kind.value) >= 0;
        part.hidden = !wanted;
        part.querySelectorAll("select, input").forEach(function (field) { field.disabled = !wanted; });
      });
    }
    kind.addEventListener("change", sync);
    sync();
  }

  function rows(form) {
    var total = form.querySelector("[data-weight-total]");
    function sum() {
      var points = 0;
      form.querySelectorAll("[data-item-row]").forEach(function (row) {
        var indicator = row.querySelector("select[name$=-indicator]");
        var weight = row.querySelector("input[name$=-weight]");
        var method = row.querySelector("select[name$=-normalisation]");
        var target = row.querySelector("input[name$=-target]");
        if (method && target) {
          var wrap = target.closest(".col-12");
          if (wrap) { wrap.hidden = method.value !== "target"; }
        }
        if (indicator && indicator.value && weight && weight.value) {
          var value = parseFloat(weight.value);
          if (!isNaN(value)) { points += value; }
        }
      });
      if (total) {
        total.textContent = (Math.round(points * 100) / 100) + " / 100";
        total.classList.toggle("text-danger", Math.abs(points - 100) > 0.001);
      }
    }
    form.addEventListener("input", sum);
    form.addEventListener("change", sum);
    sum();
  }

  document.querySelectorAll("[data-scheme-form]").forEach(function (form) {
    picker(form);
    rows(form);
  });
})();
