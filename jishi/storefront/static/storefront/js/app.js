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

// 使用当前位置: the browser's location fills the address form's hidden point (else it is geocoded).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-locate-button]");
    if (!button) return;
    var box = button.closest("[data-locate]");
    var status = box.querySelector("[data-locate-status]");
    if (!navigator.geolocation) { status.textContent = status.dataset.failed; return; }
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (p) {
      box.querySelector("[data-locate-lat]").value = p.coords.latitude.toFixed(6);
      box.querySelector("[data-locate-lng]").value = p.coords.longitude.toFixed(6);
      status.textContent = status.dataset.located;
      box.classList.add("located");
      button.disabled = false;
    }, function () {
      status.textContent = status.dataset.failed;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 10000 });
  });
})();

// 去支付 countdown: [data-countdown] holds the deadline (ISO 8601); shows mm:ss (h:mm:ss) left.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.countdown) - Date.now()) / 1000);
      var out = el.querySelector("b") || el;
      if (isNaN(left)) return;
      if (left <= 0) {
        el.textContent = el.dataset.expired || "";
        el.removeAttribute("data-countdown");
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      out.textContent = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
    });
  }
  tick();
  window.setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();

// Share sheet on the product page: the system share (Web Share API), copy the link, the poster.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-share-open], [data-share-native], [data-share-copy], [data-share-close]");
    var sheet = document.getElementById("share-sheet");
    if (!target || !sheet) return;
    var status = sheet.querySelector("[data-share-status]");
    if (target.hasAttribute("data-share-open")) {
      sheet.hidden = !sheet.hidden;
    } else if (target.hasAttribute("data-share-close")) {
      sheet.hidden = true;
    } else if (target.hasAttribute("data-share-native")) {
      if (navigator.share) {
        navigator.share({ title: sheet.dataset.title, url: sheet.dataset.link }).catch(function () {});
      } else {
        target = sheet.querySelector("[data-share-copy]");
      }
    }
    if (target && target.hasAttribute("data-share-copy")) {
      var done = function () { status.textContent = sheet.dataset.copied + "：" + sheet.dataset.link; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(sheet.dataset.link).then(done, done);
      } else {
        var area = document.createElement("textarea");
        area.value = sheet.dataset.link;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); } catch (e) { /* shown below anyway */ }
        area.remove();
        done();
      }
    }
  });
})();

// SMS send-code button: after a code was sent it waits 60 s before it can send again.
(function () {
  "use strict";
  function start(notice) {
    var button = document.querySelector("[data-send-code]");
    var wait = notice && parseInt(notice.dataset.resendAfter, 10);
    if (!button || !wait) return;
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.disabled = true;
    var left = wait;
    var show = function () { button.textContent = (button.dataset.wait || "{s}").replace("{s}", left); };
    show();
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      } else {
        show();
      }
    }, 1000);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "sms-notice") start(event.target.querySelector("[data-resend-after]"));
  });
  document.addEventListener("DOMContentLoaded", function () { start(document.querySelector("#sms-notice [data-resend-after]")); });
})();
