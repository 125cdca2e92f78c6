// 打印/保存: any button with data-print opens the browser's print dialog (which can also save a PDF).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
