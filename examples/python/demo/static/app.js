// Confirmation dialogs: a button with data-dialog="ID" opens <dialog id="ID"> as a modal. showModal()
// moves focus into the dialog (to its autofocus button, Cancel), Escape or Cancel closes it, and focus
// returns to the button that opened it.
(function () {
  "use strict";
  document.querySelectorAll("[data-dialog]").forEach(function (opener) {
    var dialog = document.getElementById(opener.dataset.dialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    opener.addEventListener("click", function () {
      dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      opener.focus();
    });
    dialog.querySelectorAll("[data-close]").forEach(function (b) {
      b.addEventListener("click", function () { dialog.close(); });
    });
  });

  // After a failed form submission, move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
