/* The allocation form of a round: the share left to place, updated as the person types. The page works
   without it: the server shows what is left after each save and refuses more than the share. */
(function () {
  "use strict";

  function cents(text) {
    var value = String(text || "").replace(/\s/g, "").replace(",", ".");
    if (!/^\d*(\.\d{0,2})?$/.test(value) || value === "" || value === ".") return 0;
    return Math.round(parseFloat(value) * 100);
  }

  function setUp(form) {
    var share = cents(form.dataset.share);
    var output = form.querySelector("#share-left");
    var progress = form.querySelector("#share-progress");
    var inputs = form.querySelectorAll("input[data-allocation]");
    var money = new Intl.NumberFormat(document.documentElement.lang || "fr", { style: "currency", currency: "EUR" });
    function update() {
      var placed = 0;
      inputs.forEach(function (input) { placed += cents(input.value); });
      var left = share - placed;
      if (output) {
        output.textContent = money.format(left / 100);
        output.classList.toggle("is-over", left < 0);
      }
      if (progress) progress.value = Math.min(placed, share) / 100;
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.allocation[data-share]").forEach(setUp);
  });
})();
