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

// Forms marked data-once send once: a second tap while the first is on its way does nothing
// (no double orders); data-confirm asks first.
(function () {
  "use strict";

  function submitButtons(form) {
    return Array.prototype.filter.call(document.querySelectorAll("button[type=submit]"), function (b) {
      return b.form === form;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    // Disabled after the event, so the pressed button's name/value still goes with the form.
    window.setTimeout(function () {
      submitButtons(form).forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Back/forward cache: a restored page must be usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      submitButtons(form).forEach(function (b) { b.disabled = false; });
    });
  });
})();

// 省/市/区 picker: the regions ship with the shop (static/storefront/regions.json), fetched once.
(function () {
  "use strict";
  var cache = {};

  function load(url) {
    if (!cache[url]) cache[url] = fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    return cache[url];
  }

  function fill(select, names) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    names.forEach(function (name) {
      var option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      select.appendChild(option);
    });
    select.value = names.length === 1 ? names[0] : "";
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-region]")) return;
    var picker = select.closest("[data-regions]");
    if (!picker) return;
    var level = select.dataset.region;
    if (level === "district") return;
    var province = picker.querySelector("[data-region=province]");
    var city = picker.querySelector("[data-region=city]");
    var district = picker.querySelector("[data-region=district]");
    load(picker.dataset.regions).then(function (regions) {
      var cities = regions[province.value] || {};
      if (level === "province") fill(city, Object.keys(cities));
      fill(district, cities[city.value] || []);
    });
  });
})();
