// Roster's portal: small enhancements on top of pages that work without JavaScript.
// No inline scripts anywhere (the Content-Security-Policy allows this file and htmx only).
(function () {
  "use strict";

  // "Copy" beside a temporary password.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else {
      select(source);
    }
  });

  // Where the clipboard is not available: select the text so that Ctrl+C copies it.
  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // htmx requests that change state carry the session's anti-forgery token.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && event.detail.verb !== "get") {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
})();

(function () {
  "use strict";
  // "Select every user on this page" in a table's header (shown only with JavaScript).
  function wire(root) {
    root.querySelectorAll("input.select-page").forEach(function (box) {
      box.hidden = false;
      box.addEventListener("change", function () {
        var table = box.closest("table");
        table.querySelectorAll("tbody input[type=checkbox]").forEach(function (c) {
          c.checked = box.checked;
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (e) { wire(e.target); });

  // A button that asks before it acts (deleting users).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
