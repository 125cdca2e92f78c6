// Behaviour the pages need beyond htmx, kept out of the markup so the Content-Security-Policy can
// forbid inline scripts and event handlers (script-src 'self').
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-action='remove-rule-row']");
  if (!button) return;
  var row = button.closest(".rule-row");
  var fieldset = row.closest("fieldset");
  row.remove();
  // The rule preview listens for changes on the fieldset.
  fieldset.dispatchEvent(new Event("change", { bubbles: true }));
});

// A form with data-confirm asks before it is sent (撤回、撤销 and other actions that cannot be undone).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// 打印/保存: a button with data-print opens the browser's print dialog (which can also save a PDF);
// the print stylesheet in site.css shows the results alone.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (!button) return;
  event.preventDefault();
  window.print();
});
