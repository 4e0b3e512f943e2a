// Campaign form: variable chips that insert {name} / {coupon} at the cursor, and the SMS length counter.
(function () {
  "use strict";
  var VARIABLES = [["{name}", "会员昵称"], ["{coupon}", "优惠券"]];
  var SMS_SEGMENT = 70; // one SMS carries 70 characters; longer texts go as 67-character parts
  var SMS_PART = 67;

  function insert(field, text) {
    var start = field.selectionStart || 0, end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + text.length, start + text.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function chips(field) {
    var bar = document.createElement("div");
    bar.className = "notify-vars";
    VARIABLES.forEach(function (v) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "notify-var";
      b.textContent = "插入 " + v[0];
      b.title = v[1];
      b.addEventListener("click", function () { insert(field, v[0]); });
      bar.appendChild(b);
    });
    return bar;
  }

  function smsCounter(field) {
    var out = document.createElement("div");
    out.className = "notify-sms-count";
    out.setAttribute("data-sms-count", "");
    var update = function () {
      var n = Array.from(field.value).length;
      var parts = n === 0 ? 0 : n <= SMS_SEGMENT ? 1 : Math.ceil(n / SMS_PART);
      out.textContent = n === 0
        ? "未填写：不发短信"
        : "已输入 " + n + " 字，约 " + parts + " 条短信计费（每条 " + SMS_SEGMENT + " 字，超出按 " + SMS_PART + " 字/条拆分；变量按实际内容计）";
      out.classList.toggle("is-long", parts > 1);
      out.dataset.chars = String(n);
      out.dataset.parts = String(parts);
    };
    field.addEventListener("input", update);
    update();
    return out;
  }

  function start() {
    ["title", "body", "b_title", "b_body", "sms_body", "wechat_title", "wechat_body", "email_title", "email_body"].forEach(function (name) {
      var field = document.querySelector("[name=" + name + "]");
      if (!field || field.dataset.varsReady) return;
      field.dataset.varsReady = "1";
      var extra = document.createElement("div");
      extra.className = "notify-field-extra";
      extra.appendChild(chips(field));
      if (name === "sms_body") extra.appendChild(smsCounter(field));
      field.insertAdjacentElement("afterend", extra);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
