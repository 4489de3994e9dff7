// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tbody tr a"));
    if (!rows.length) {
      return;
    }
    var index = rows.indexOf(document.activeElement);
    if (event.key === "j") {
      rows[Math.min(index + 1, rows.length - 1)].focus();
      event.preventDefault();
    } else if (event.key === "k") {
      rows[Math.max(index - 1, 0)].focus();
      event.preventDefault();
    }
  });
})();
