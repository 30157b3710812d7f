/* Small enhancements; every page works without them. */
(function () {
  "use strict";

  function enableCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      if (button.dataset.ready) return;
      button.dataset.ready = "1";
      var label = button.textContent;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        navigator.clipboard.writeText(input.value).then(function () {
          button.textContent = button.dataset.copied;
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enableCopyButtons(document); });

  document.addEventListener("htmx:afterSettle", function (event) {
    enableCopyButtons(event.target);
    // A click on a free cell refills the booking form: take the keyboard there, on the title.
    if (event.target.id === "booking-form" || (event.detail.elt && event.detail.elt.id === "booking-form")) {
      var form = document.getElementById("booking-form");
      var title = form && form.querySelector("input[name=title]");
      if (title) title.focus();
    }
  });
})();
