// Segment builder: the rules of a 人群 as rows a merchant can edit, written as JSON into the form's
// hidden "rules" input (the shapes are documented at the top of jishi/notify/segments.py).
// One nesting level is edited visually (conditions and 条件组 of conditions); deeper rules fall back
// to the advanced JSON textarea. As rules change the page asks the console for the live count.
(function () {
  "use strict";

  var FIELDS = [
    { key: "level", label: "会员等级", kind: "pick", param: "in", what: "等级" },
    { key: "tags", label: "会员标签", kind: "pick", param: "any", what: "标签" },
    { key: "points", label: "积分余额", kind: "range", unit: "积分" },
    { key: "last_purchase_days", label: "最近购买", kind: "recency" },
    { key: "lifetime_spend", label: "累计消费", kind: "money" },
    { key: "bought_product", label: "买过的商品", kind: "products" },
    { key: "bought_category", label: "买过的类目", kind: "pick", param: "any", what: "类目" },
    { key: "promoter", label: "推广员", kind: "promoter" },
    { key: "registered", label: "注册时间", kind: "dates" },
    { key: "group", label: "社群成员", kind: "pick", param: "any", what: "社群" },
    { key: "store_distance", label: "门店附近", kind: "store" },
  ];
  var BY_KEY = {};
  FIELDS.forEach(function (f) { BY_KEY[f.key] = f; });
  var ALLOWED_KEYS = {
    pick: null, range: ["min", "max"], money: ["min", "max"], recency: ["within", "not_within"],
    products: ["any"], promoter: ["is"], dates: ["after", "before"], store: ["store", "within_m"],
  };
  var INT = /^\d+$/;
  var YUAN = /^\d+(\.\d{1,2})?$/;
  var KM = /^\d+(\.\d{1,3})?$/;
  var DAY = /^\d{4}-\d{2}-\d{2}$/;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function isInt(v) { return typeof v === "number" && Math.floor(v) === v && v >= 0; }
  function isIdList(v) { return Array.isArray(v) && v.every(function (i) { return isInt(i) && i > 0; }); }
  function yuanText(fen) { var s = (fen / 100).toFixed(2); return s.replace(/\.00$/, "").replace(/(\.\d)0$/, "$1"); }
  function kmText(m) { return String(Math.round(m) / 1000); }

  // --- rules JSON ⇄ rows --------------------------------------------------------------------------

  function blankCondition(field) {
    var c = { kind: "cond", field: field, ids: [], min: "", max: "", mode: "within", days: "", is: "true",
      after: "", before: "", store: "", km: "" };
    return c;
  }

  // One condition from JSON, or null when the builder cannot show it exactly.
  function parseCondition(json) {
    var def = BY_KEY[json.field];
    if (!def) return null;
    var allowed = def.kind === "pick" ? [def.param] : ALLOWED_KEYS[def.kind];
    var keys = Object.keys(json).filter(function (k) { return k !== "field"; });
    if (!keys.every(function (k) { return allowed.indexOf(k) >= 0; })) return null;
    var c = blankCondition(json.field);
    switch (def.kind) {
      case "pick": case "products":
        if (!isIdList(json[def.param || "any"])) return null;
        c.ids = json[def.param || "any"].slice();
        break;
      case "range": case "money":
        if (["min", "max"].some(function (k) { return k in json && !isInt(json[k]); })) return null;
        ["min", "max"].forEach(function (k) {
          if (k in json) c[k] = def.kind === "money" ? yuanText(json[k]) : String(json[k]);
        });
        break;
      case "recency":
        if (keys.length !== 1 || !isInt(json[keys[0]])) return null;
        c.mode = keys[0];
        c.days = String(json[keys[0]]);
        break;
      case "promoter":
        if (typeof json.is !== "boolean") return null;
        c.is = String(json.is);
        break;
      case "dates":
        if (["after", "before"].some(function (k) { return k in json && !DAY.test(String(json[k])); })) return null;
        c.after = json.after || "";
        c.before = json.before || "";
        break;
      case "store":
        if (!isInt(json.store) || ("within_m" in json && !isInt(json.within_m))) return null;
        c.store = String(json.store);
        c.km = "within_m" in json ? kmText(json.within_m) : "";
        break;
    }
    return c;
  }

  function isGroupJson(json) {
    return json && typeof json === "object" && !Array.isArray(json) && !("field" in json);
  }

  function groupKeysOk(json) {
    return Object.keys(json).every(function (k) { return k === "op" || k === "conditions"; }) &&
      (json.op === undefined || json.op === "and" || json.op === "or") &&
      (json.conditions === undefined || Array.isArray(json.conditions));
  }

  // The whole rule set as builder state, or null when it is deeper or stranger than the builder.
  function parseRules(json) {
    if (json === null || json === undefined) json = {};
    if (typeof json !== "object" || Array.isArray(json)) return null;
    if ("field" in json) json = { op: "and", conditions: [json] };
    if (!groupKeysOk(json)) return null;
    var state = { op: json.op || "and", items: [] };
    var conditions = json.conditions || [];
    for (var i = 0; i < conditions.length; i++) {
      var item = conditions[i];
      if (isGroupJson(item)) {
        if (!groupKeysOk(item)) return null;
        var group = { kind: "group", op: item.op || "and", items: [] };
        var inner = item.conditions || [];
        for (var j = 0; j < inner.length; j++) {
          if (!inner[j] || typeof inner[j] !== "object" || !("field" in inner[j])) return null;
          var c = parseCondition(inner[j]);
          if (!c) return null;
          group.items.push(c);
        }
        state.items.push(group);
      } else {
        if (!item || typeof item !== "object") return null;
        var cond = parseCondition(item);
        if (!cond) return null;
        state.items.push(cond);
      }
    }
    return state;
  }

  function number(text) { return INT.test(text) ? parseInt(text, 10) : text; }
  function fen(text) {
    if (!YUAN.test(text)) return text;
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function conditionJson(c) {
    var def = BY_KEY[c.field];
    var out = { field: c.field };
    switch (def.kind) {
      case "pick": out[def.param] = c.ids.slice(); break;
      case "products": out.any = c.ids.slice(); break;
      case "range": case "money":
        ["min", "max"].forEach(function (k) {
          var t = c[k].trim();
          if (t) out[k] = def.kind === "money" ? fen(t) : number(t);
        });
        break;
      case "recency": out[c.mode] = number(c.days.trim()); break;
      case "promoter": out.is = c.is === "true"; break;
      case "dates":
        if (c.after) out.after = c.after;
        if (c.before) out.before = c.before;
        break;
      case "store":
        out.store = c.store ? parseInt(c.store, 10) : null;
        if (c.km.trim()) out.within_m = KM.test(c.km.trim()) ? Math.round(parseFloat(c.km) * 1000) : c.km;
        break;
    }
    return out;
  }

  function rulesJson(state) {
    return {
      op: state.op,
      conditions: state.items.map(function (item) {
        return item.kind === "group"
          ? { op: item.op, conditions: item.items.map(conditionJson) }
          : conditionJson(item);
      }),
    };
  }

  // What is missing or wrong in a row, in words a merchant reads; null when complete.
  function problem(c) {
    var def = BY_KEY[c.field];
    switch (def.kind) {
      case "pick": return c.ids.length ? null : "请至少选择一个" + def.what;
      case "products": return c.ids.length ? null : "请至少选择一个商品";
      case "range": case "money": {
        var min = c.min.trim(), max = c.max.trim();
        if (!min && !max) return "请填写最低或最高（可只填一个）";
        var ok = def.kind === "money" ? YUAN : INT;
        if ((min && !ok.test(min)) || (max && !ok.test(max)))
          return def.kind === "money" ? "金额须为不小于 0 的数字，最多两位小数" : "请输入不小于 0 的整数";
        var low = def.kind === "money" ? fen(min) : number(min), high = def.kind === "money" ? fen(max) : number(max);
        if (min && max && low > high) return "最低不能大于最高";
        return null;
      }
      case "recency":
        if (!INT.test(c.days.trim()) || parseInt(c.days, 10) < 1) return "请填写天数（正整数）";
        return null;
      case "dates":
        if (!c.after && !c.before) return "请选择起始或截止日期";
        if (c.after && c.before && c.after > c.before) return "起始日期不能晚于截止日期";
        return null;
      case "store":
        if (!c.store) return "请选择门店";
        if (c.km.trim() && (!KM.test(c.km.trim()) || parseFloat(c.km) <= 0 || parseFloat(c.km) > 100))
          return "距离须在 0–100 公里之间";
        return null;
    }
    return null;
  }

  // --- the builder ------------------------------------------------------------------------------

  function Builder(root) {
    this.root = root;
    this.hidden = root.querySelector("input[type=hidden]");
    this.mount = root.querySelector("[data-builder-root]");
    this.countBox = root.querySelector("[data-count-box]");
    this.countText = root.querySelector("[data-count-text]");
    this.options = JSON.parse(document.getElementById(root.dataset.options).textContent);
    this.productNames = this.options.products || {};
    this.cls = { input: root.dataset.inputClass, select: root.dataset.selectClass, textarea: root.dataset.textareaClass };
    this.seq = 0;
    this.timer = null;
    var initial;
    try { initial = this.hidden.value ? JSON.parse(this.hidden.value) : {}; } catch (e) { initial = undefined; }
    this.state = initial === undefined ? null : parseRules(initial);
    this.advanced = this.state === null;
    this.advancedReason = this.advanced ? "这组条件超出了可视化编辑支持的层级（最多一层条件组），请直接编辑 JSON。" : "";
    if (!this.state) this.state = { op: "and", items: [] };
    this.jsonText = this.advanced ? this.prettyHidden() : "";
    var form = root.closest("form");
    if (form) form.addEventListener("submit", this.onSubmit.bind(this));
    this.render();
    this.changed(true);
  }

  Builder.prototype.prettyHidden = function () {
    try { return JSON.stringify(JSON.parse(this.hidden.value || "{}"), null, 2); } catch (e) { return this.hidden.value; }
  };

  Builder.prototype.problems = function () {
    var list = [];
    this.state.items.forEach(function (item, i) {
      if (item.kind === "group") {
        if (!item.items.length) list.push({ path: [i], text: "条件组里还没有条件" });
        item.items.forEach(function (c, j) { var p = problem(c); if (p) list.push({ path: [i, j], text: p }); });
      } else {
        var p = problem(item);
        if (p) list.push({ path: [i], text: p });
      }
    });
    return list;
  };

  // Rules changed: write the hidden input, mark incomplete rows, and ask for the count shortly.
  Builder.prototype.changed = function (now) {
    var rules;
    if (this.advanced) {
      this.hidden.value = this.jsonText;
      try { rules = JSON.parse(this.jsonText || "{}"); } catch (e) { this.showCount("error", "JSON 格式有误：" + e.message); return; }
    } else {
      rules = rulesJson(this.state);
      this.hidden.value = JSON.stringify(rules);
      var problems = this.problems();
      this.mount.querySelectorAll("[data-problem]").forEach(function (n) { n.textContent = ""; n.hidden = true; });
      var self = this;
      problems.forEach(function (p) {
        var n = self.mount.querySelector('[data-problem="' + p.path.join(".") + '"]');
        if (n) { n.textContent = p.text; n.hidden = false; }
      });
      if (problems.length) { this.showCount("pending", "请先完成标红的条件，再显示人数"); return; }
    }
    clearTimeout(this.timer);
    var self2 = this;
    this.showCount("loading", this.countText.textContent);
    this.timer = setTimeout(function () { self2.fetchCount(rules); }, now ? 0 : 350);
  };

  Builder.prototype.showCount = function (state, text, count) {
    this.countBox.dataset.state = state;
    if (count === undefined) delete this.countBox.dataset.count;
    else this.countBox.dataset.count = String(count);
    this.countText.textContent = text;
  };

  Builder.prototype.csrf = function () {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };

  Builder.prototype.fetchCount = function (rules) {
    var seq = ++this.seq, self = this;
    fetch(this.root.dataset.countUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf(), Accept: "application/json" },
      body: JSON.stringify({ rules: rules }),
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (body) { return { resp: resp, body: body }; });
    }).then(function (r) {
      if (seq !== self.seq) return;
      if (r.resp.ok && r.body && typeof r.body.count === "number") {
        self.showCount("ok", "符合条件的会员：" + r.body.count.toLocaleString("zh-CN") + " 人", r.body.count);
      } else if (r.body && r.body.error) {
        self.showCount("error", (r.body.messages || [r.body.error.message]).join("；"));
      } else {
        self.showCount("error", "暂时无法计算人数（HTTP " + r.resp.status + "）");
      }
    }).catch(function () {
      if (seq === self.seq) self.showCount("error", "暂时无法计算人数：网络错误");
    });
  };

  Builder.prototype.onSubmit = function (event) {
    if (this.advanced) return;
    var problems = this.problems();
    if (problems.length) {
      event.preventDefault();
      event.stopImmediatePropagation();
      this.changed(true);
      var first = this.mount.querySelector("[data-problem]:not([hidden])");
      if (first) first.scrollIntoView({ block: "center" });
    }
  };

  // --- rendering ---------------------------------------------------------------------------------

  Builder.prototype.render = function () {
    this.mount.textContent = "";
    this.mount.appendChild(this.advanced ? this.renderAdvanced() : this.renderVisual());
  };

  Builder.prototype.opSwitch = function (holder, label) {
    var self = this;
    var choice = function (value, text) {
      return el("button", {
        type: "button", class: "notify-op" + (holder.op === value ? " is-active" : ""), "aria-pressed": String(holder.op === value),
        "data-op": value, text: text,
        onclick: function () { holder.op = value; self.render(); self.changed(); },
      });
    };
    return el("div", { class: "notify-op-line" }, [
      el("span", { text: label }),
      el("div", { class: "notify-ops", role: "group" }, [choice("and", "满足全部"), choice("or", "满足任一")]),
      el("span", { text: "条件" }),
    ]);
  };

  Builder.prototype.renderVisual = function () {
    var self = this, state = this.state;
    var list = el("div", { class: "notify-rows" });
    state.items.forEach(function (item, i) {
      list.appendChild(item.kind === "group" ? self.renderGroup(item, i) : self.renderRow(state.items, i, [i]));
    });
    if (!state.items.length) {
      list.appendChild(el("div", { class: "notify-empty", text: "还没有条件：这个人群包含全部会员。点“添加条件”开始筛选。" }));
    }
    return el("div", { class: "notify-visual" }, [
      el("div", { class: "notify-toolbar" }, [
        this.opSwitch(state, "会员需满足以下"),
        el("button", { type: "button", class: "notify-link", "data-action": "advanced", text: "高级：编辑 JSON",
          onclick: function () { self.advanced = true; self.advancedReason = ""; self.jsonText = JSON.stringify(rulesJson(self.state), null, 2); self.render(); self.changed(); } }),
      ]),
      list,
      el("div", { class: "notify-adds" }, [
        el("button", { type: "button", class: "notify-add", "data-action": "add-condition", text: "＋ 添加条件",
          onclick: function () { state.items.push(blankCondition("level")); self.render(); self.changed(); } }),
        el("button", { type: "button", class: "notify-add", "data-action": "add-group", text: "＋ 添加条件组",
          onclick: function () { state.items.push({ kind: "group", op: "or", items: [blankCondition("level")] }); self.render(); self.changed(); } }),
      ]),
    ]);
  };

  Builder.prototype.renderGroup = function (group, i) {
    var self = this;
    var rows = el("div", { class: "notify-rows" });
    group.items.forEach(function (c, j) { rows.appendChild(self.renderRow(group.items, j, [i, j])); });
    return el("div", { class: "notify-group", "data-path": String(i) }, [
      el("div", { class: "notify-group-head" }, [
        el("span", { class: "notify-index", text: String(i + 1) }),
        el("strong", { text: "条件组" }),
        this.opSwitch(group, "组内满足"),
        el("button", { type: "button", class: "notify-remove", title: "删除条件组", "aria-label": "删除条件组", text: "删除条件组",
          onclick: function () { self.state.items.splice(i, 1); self.render(); self.changed(); } }),
      ]),
      rows,
      el("p", { class: "notify-problem", "data-problem": String(i), hidden: true }),
      el("button", { type: "button", class: "notify-add is-small", "data-action": "add-to-group", text: "＋ 组内添加条件",
        onclick: function () { group.items.push(blankCondition("level")); self.render(); self.changed(); } }),
    ]);
  };

  Builder.prototype.renderRow = function (items, index, path) {
    var self = this, c = items[index];
    var fieldSelect = el("select", { class: this.cls.select + " notify-field", "aria-label": "条件字段", "data-field-select": "1",
      onchange: function (e) { items[index] = blankCondition(e.target.value); self.render(); self.changed(); } },
      FIELDS.map(function (f) { return el("option", { value: f.key, selected: f.key === c.field, text: f.label }); }));
    return el("div", { class: "notify-row", "data-path": path.join("."), "data-field": c.field }, [
      el("span", { class: "notify-index" + (path.length > 1 ? " is-inner" : ""), text: path.map(function (p) { return p + 1; }).join(".") }),
      el("div", { class: "notify-row-main" }, [
        el("div", { class: "notify-row-line" }, [fieldSelect, this.renderInputs(c)]),
        el("p", { class: "notify-problem", "data-problem": path.join("."), hidden: true }),
      ]),
      el("button", { type: "button", class: "notify-remove", title: "删除条件", "aria-label": "删除条件",
        onclick: function () { items.splice(index, 1); self.render(); self.changed(); } },
        [el("span", { class: "material-symbols-outlined", text: "close" })]),
    ]);
  };

  Builder.prototype.text = function (c, key, attrs) {
    var self = this;
    return el("input", Object.assign({ type: "text", class: this.cls.input + " notify-small", value: c[key],
      oninput: function (e) { c[key] = e.target.value; self.changed(); } }, attrs || {}));
  };

  Builder.prototype.renderInputs = function (c) {
    var def = BY_KEY[c.field], self = this;
    var wrap = el("div", { class: "notify-inputs" });
    var add = function () { for (var i = 0; i < arguments.length; i++) wrap.appendChild(typeof arguments[i] === "string" ? el("span", { class: "notify-word", text: arguments[i] }) : arguments[i]); };
    switch (def.kind) {
      case "pick": wrap.appendChild(this.picker(c, this.options[c.field] || [], def.what)); break;
      case "products": wrap.appendChild(this.productPicker(c)); break;
      case "range":
        add("最低", this.text(c, "min", { inputmode: "numeric", placeholder: "不限", "data-input": "min" }), "最高",
          this.text(c, "max", { inputmode: "numeric", placeholder: "不限", "data-input": "max" }), def.unit);
        break;
      case "money":
        add("最低 ¥", this.text(c, "min", { inputmode: "decimal", placeholder: "不限", "data-input": "min" }), "最高 ¥",
          this.text(c, "max", { inputmode: "decimal", placeholder: "不限", "data-input": "max" }), "元（已付款减退款）");
        break;
      case "recency":
        add(el("select", { class: this.cls.select + " notify-small", "data-input": "mode",
          onchange: function (e) { c.mode = e.target.value; self.changed(); } }, [
          el("option", { value: "within", selected: c.mode === "within", text: "最近有购买" }),
          el("option", { value: "not_within", selected: c.mode === "not_within", text: "最近没有购买" }),
        ]), "最近", this.text(c, "days", { inputmode: "numeric", placeholder: "30", "data-input": "days" }), "天内");
        break;
      case "promoter":
        add(el("select", { class: this.cls.select + " notify-small", "data-input": "is",
          onchange: function (e) { c.is = e.target.value; self.changed(); } }, [
          el("option", { value: "true", selected: c.is === "true", text: "是推广员" }),
          el("option", { value: "false", selected: c.is === "false", text: "不是推广员" }),
        ]));
        break;
      case "dates":
        add("从", el("input", { type: "date", class: this.cls.input + " notify-small", value: c.after, "data-input": "after",
          oninput: function (e) { c.after = e.target.value; self.changed(); } }), "到",
        el("input", { type: "date", class: this.cls.input + " notify-small", value: c.before, "data-input": "before",
          oninput: function (e) { c.before = e.target.value; self.changed(); } }), "（可只填一个）");
        break;
      case "store": {
        var stores = this.options.stores || [];
        var radius = function () {
          var s = stores.filter(function (x) { return String(x.id) === c.store; })[0];
          return s ? "默认 " + kmText(s.radius_m) : "默认配送半径";
        };
        var km = this.text(c, "km", { inputmode: "decimal", placeholder: radius(), "data-input": "km" });
        add(el("select", { class: this.cls.select + " notify-store", "data-input": "store",
          onchange: function (e) { c.store = e.target.value; km.placeholder = radius(); self.changed(); } },
          [el("option", { value: "", text: stores.length ? "选择门店" : "还没有门店" })].concat(stores.map(function (s) {
            return el("option", { value: String(s.id), selected: String(s.id) === c.store, text: s.name });
          }))), "周边", km, "公里内有收货地址");
        break;
      }
    }
    return wrap;
  };

  // Checkbox chips for a list of (id, name); a filter box when the list is long.
  Builder.prototype.picker = function (c, options, what) {
    var self = this;
    var chips = el("div", { class: "notify-chips" });
    var known = {};
    options.forEach(function (o) { known[o.id] = true; });
    var list = options.concat(c.ids.filter(function (id) { return !known[id]; }).map(function (id) { return { id: id, name: "#" + id + "（已删除）" }; }));
    if (!list.length) return el("span", { class: "notify-muted", text: "还没有可选的" + what });
    var count = el("span", { class: "notify-muted notify-picked" });
    var refresh = function () { count.textContent = c.ids.length ? "已选 " + c.ids.length + " 个" : ""; };
    list.forEach(function (o) {
      var on = c.ids.indexOf(o.id) >= 0;
      var box = el("input", { type: "checkbox", value: String(o.id), checked: on,
        onchange: function (e) {
          var at = c.ids.indexOf(o.id);
          if (e.target.checked && at < 0) c.ids.push(o.id);
          if (!e.target.checked && at >= 0) c.ids.splice(at, 1);
          label.classList.toggle("is-on", e.target.checked);
          refresh(); self.changed();
        } });
      var label = el("label", { class: "notify-chip" + (on ? " is-on" : ""), "data-name": o.name }, [box, el("span", { text: o.name })]);
      chips.appendChild(label);
    });
    refresh();
    var parts = [];
    if (list.length > 12) {
      parts.push(el("input", { type: "search", class: this.cls.input + " notify-small", placeholder: "搜索" + what,
        oninput: function (e) {
          var q = e.target.value.trim().toLowerCase();
          chips.querySelectorAll(".notify-chip").forEach(function (chip) { chip.hidden = q && chip.dataset.name.toLowerCase().indexOf(q) < 0; });
        } }));
      chips.classList.add("is-scroll");
    }
    parts.push(chips, count);
    return el("div", { class: "notify-picker" }, parts);
  };

  // Chosen products as named chips, and a search box asking the console for matches.
  Builder.prototype.productPicker = function (c) {
    var self = this, names = this.productNames, timer = null;
    var chosen = el("div", { class: "notify-chips" });
    var results = el("div", { class: "notify-results", hidden: true, role: "listbox" });
    var drawChosen = function () {
      chosen.textContent = "";
      c.ids.forEach(function (id, k) {
        chosen.appendChild(el("span", { class: "notify-chip is-on", "data-product": String(id) }, [
          el("span", { text: names[id] || "#" + id }),
          el("button", { type: "button", class: "notify-chip-x", "aria-label": "移除", text: "×",
            onclick: function () { c.ids.splice(k, 1); drawChosen(); self.changed(); } }),
        ]));
      });
      if (!c.ids.length) chosen.appendChild(el("span", { class: "notify-muted", text: "未选择商品" }));
    };
    var search = function (q) {
      fetch(self.root.dataset.productsUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          results.textContent = "";
          (body.items || []).forEach(function (p) {
            names[p.id] = p.name;
            var taken = c.ids.indexOf(p.id) >= 0;
            results.appendChild(el("button", { type: "button", class: "notify-result" + (taken ? " is-taken" : ""), role: "option",
              "data-product-id": String(p.id), text: p.name + "  #" + p.id,
              onmousedown: function (e) { e.preventDefault(); },
              onclick: function () { if (c.ids.indexOf(p.id) < 0) c.ids.push(p.id); drawChosen(); results.hidden = true; input.value = ""; self.changed(); } }));
          });
          if (!results.childNodes.length) results.appendChild(el("div", { class: "notify-muted notify-result", text: "没有匹配的商品" }));
          results.hidden = false;
        })
        .catch(function () { results.hidden = true; });
    };
    var input = el("input", { type: "search", class: this.cls.input + " notify-search", placeholder: "搜索商品名称或编号，点选添加", "data-input": "product-search",
      onfocus: function (e) { search(e.target.value.trim()); },
      oninput: function (e) { clearTimeout(timer); var q = e.target.value.trim(); timer = setTimeout(function () { search(q); }, 250); },
      onblur: function () { setTimeout(function () { results.hidden = true; }, 150); } });
    drawChosen();
    return el("div", { class: "notify-picker notify-products" }, [chosen, el("div", { class: "notify-search-box" }, [input, results])]);
  };

  Builder.prototype.renderAdvanced = function () {
    var self = this;
    var area = el("textarea", { class: this.cls.textarea + " notify-json", rows: "12", spellcheck: "false", "aria-label": "条件 JSON", "data-json": "1",
      oninput: function (e) { self.jsonText = e.target.value; self.changed(); } });
    area.value = this.jsonText;
    return el("div", { class: "notify-advanced" }, [
      el("div", { class: "notify-toolbar" }, [
        el("strong", { text: "高级：编辑 JSON" }),
        el("button", { type: "button", class: "notify-link", "data-action": "visual", text: "返回可视化编辑",
          onclick: function () {
            var parsed;
            try { parsed = parseRules(JSON.parse(self.jsonText || "{}")); } catch (e) { parsed = null; }
            if (!parsed) { self.advancedReason = "这组条件无法在可视化编辑器中显示（嵌套超过一层条件组或格式不认识），请继续编辑 JSON。"; self.render(); return; }
            self.state = parsed; self.advanced = false; self.render(); self.changed();
          } }),
      ]),
      this.advancedReason ? el("p", { class: "notify-notice", text: this.advancedReason }) : null,
      area,
      el("p", { class: "notify-muted", text: "格式见 jishi/notify/segments.py：{\"op\": \"and\"|\"or\", \"conditions\": [...]}；累计消费以分为单位。" }),
    ]);
  };

  // For the browser tests: rules → rows → rules must give back what was stored.
  window.JishiSegmentRules = {
    roundTrip: function (json) { var state = parseRules(json); return state ? rulesJson(state) : null; },
    problems: function (json) { var state = parseRules(json); return state ? Builder.prototype.problems.call({ state: state }) : null; },
  };

  function start() {
    document.querySelectorAll("[data-segment-builder]").forEach(function (root) {
      if (!root.dataset.ready) { root.dataset.ready = "1"; new Builder(root); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
