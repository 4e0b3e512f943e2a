/* 领券购买: copy the share text (with the code) to the clipboard. */
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value || source.textContent;
    var done = function () {
      button.textContent = button.getAttribute("data-copied");
      button.classList.add("copied");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { source.select(); document.execCommand("copy"); done(); });
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });
})();
