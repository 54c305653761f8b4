// The review page's keyboard: a verdict button's letter gives that verdict (outside the text fields), "/" goes
// to the reason, Ctrl+Enter (or Cmd+Enter) in the reason gives the first verdict offered. A verdict that needs
// the final decision moves the focus there first when it is empty.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var form = document.getElementById("review-form");
    if (!form) { return; }
    var reason = form.querySelector("[name=reason]");
    var finalInput = form.querySelector("[name=final_decision]");
    var buttons = Array.prototype.slice.call(form.querySelectorAll("button[data-key]"));
    function give(button) {
      if (button.dataset.needsFinal === "true" && finalInput && !finalInput.value.trim()) {
        finalInput.focus();
        return;
      }
      if (reason && !reason.value.trim()) { reason.focus(); return; }
      button.click();
    }
    document.addEventListener("keydown", function (event) {
      var typing = event.target && /^(TEXTAREA|INPUT|SELECT)$/.test(event.target.tagName);
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && buttons.length) {
        event.preventDefault();
        give(buttons[0]);
        return;
      }
      if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "/" && reason) { event.preventDefault(); reason.focus(); return; }
      var match = buttons.filter(function (b) { return b.dataset.key === event.key.toLowerCase(); })[0];
      if (match) { event.preventDefault(); give(match); }
    });
  });
})();
