/* 集市 storefront: service-worker registration and the SKU picker. No dependencies. */
(function () {
  "use strict";

  var sw = document.body && document.body.dataset.sw;
  if (sw && "serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(sw, { scope: "/" }).catch(function () {});
    });
  }

  // Picking a SKU shows its price and stock in the price line.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".sku input[type=radio]")) return;
    var price = document.querySelector("[data-price]:not(input)");
    var stock = document.querySelector("[data-stock]:not(input)");
    if (price && input.dataset.price) price.textContent = input.dataset.price;
    if (stock && input.dataset.stock) stock.textContent = input.dataset.stock;
  });
})();
