// Jishi product editor: specs → SKU matrix (price/stock/barcode per row, bulk fill), image order and preview.
(function () {
  var form = document.getElementById("product-editor");
  if (!form) return;
  var text = JSON.parse(document.getElementById("editor-text").textContent);
  var specsInput = form.querySelector("[name=specs_json]");
  var skusInput = form.querySelector("[name=skus_json]");
  var specList = document.getElementById("spec-list");
  var matrix = document.getElementById("sku-matrix");
  var hasStock = matrix.dataset.hasStock === "1";
  var rows = {};  // spec key → row values typed so far

  function parse(input, fallback) { try { return JSON.parse(input.value || "") || fallback; } catch (e) { return fallback; } }
  function keyOf(specs) { return JSON.stringify(Object.keys(specs).sort().map(function (k) { return [k, specs[k]]; })); }
  function splitValues(raw) {
    var seen = {}, out = [];
    raw.split(/[,，、;；\s]+/).forEach(function (v) { v = v.trim(); if (v && !seen[v]) { seen[v] = 1; out.push(v); } });
    return out;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function addSpec(spec) {
    var row = el("div", { "class": "jishi-spec-row" });
    var name = el("input", { type: "text", placeholder: text.specName, "class": "spec-name", maxlength: "20" });
    var values = el("input", { type: "text", placeholder: text.specValues, "class": "spec-values" });
    var remove = el("button", { type: "button", "class": "jishi-btn is-small is-danger", text: text.remove });
    name.value = spec ? spec.name : "";
    values.value = spec ? spec.values.join(", ") : "";
    remove.addEventListener("click", function () { row.remove(); render(); });
    [name, values].forEach(function (i) { i.addEventListener("input", render); });
    row.appendChild(name); row.appendChild(values); row.appendChild(remove);
    specList.appendChild(row);
    document.getElementById("add-spec").disabled = specList.children.length >= 3;
  }

  function specs() {
    return Array.prototype.map.call(specList.querySelectorAll(".jishi-spec-row"), function (r) {
      return { name: r.querySelector(".spec-name").value.trim(), values: splitValues(r.querySelector(".spec-values").value) };
    }).filter(function (s) { return s.name && s.values.length; });
  }

  function combinations(list) {
    var out = [{}];
    list.forEach(function (spec) {
      var next = [];
      out.forEach(function (partial) {
        spec.values.forEach(function (v) { var c = Object.assign({}, partial); c[spec.name] = v; next.push(c); });
      });
      out = next;
    });
    return out;
  }

  function capture() {
    matrix.querySelectorAll("tbody tr").forEach(function (tr) {
      var values = rows[tr.dataset.key] || {};
      tr.querySelectorAll("input").forEach(function (i) { values[i.name] = i.value; });
      rows[tr.dataset.key] = values;
    });
  }

  var columns = [["price", text.price], ["original_price", text.original]]
    .concat(hasStock ? [["stock", text.stock]] : [])
    .concat([["barcode", text.barcode], ["weight_g", text.weight]]);

  function render() {
    capture();
    var list = specs();
    var head = el("tr", {}, list.map(function (s) { return el("th", { text: s.name }); }));
    if (!list.length) head.appendChild(el("th", { text: text.single }));
    columns.forEach(function (c) { head.appendChild(el("th", { text: c[1] })); });
    matrix.tHead.replaceChildren(head);
    var body = matrix.tBodies[0];
    body.replaceChildren();
    combinations(list).forEach(function (combo) {
      var key = keyOf(combo);
      var values = rows[key] || {};
      var tr = el("tr", { "data-key": key });
      tr._specs = combo;
      if (list.length) list.forEach(function (s) { tr.appendChild(el("td", { "class": "jishi-spec-cell", text: combo[s.name] })); });
      else tr.appendChild(el("td", { "class": "jishi-spec-cell", text: text.single }));
      columns.forEach(function (c) {
        var input = el("input", { type: "text", name: c[0], inputmode: c[0] === "barcode" ? "text" : "decimal" });
        input.value = values[c[0]] === undefined || values[c[0]] === null ? "" : values[c[0]];
        tr.appendChild(el("td", {}, [input]));
      });
      body.appendChild(tr);
    });
  }

  document.getElementById("add-spec").addEventListener("click", function () { addSpec(null); render(); });
  document.getElementById("bulk-apply").addEventListener("click", function () {
    var fills = { price: "bulk-price", original_price: "bulk-original", stock: "bulk-stock" };
    var prefix = document.getElementById("bulk-barcode").value.trim();
    matrix.querySelectorAll("tbody tr").forEach(function (tr, index) {
      Object.keys(fills).forEach(function (name) {
        var source = document.getElementById(fills[name]);
        var input = tr.querySelector("input[name=" + name + "]");
        if (source && input && source.value.trim()) input.value = source.value.trim();
      });
      if (prefix) tr.querySelector("input[name=barcode]").value = prefix + String(index + 1).padStart(3, "0");
    });
  });

  // Initial state: the saved (or re-posted) specs and rows.
  parse(skusInput, []).forEach(function (row) { rows[keyOf(row.specs || {})] = row; });
  parse(specsInput, []).forEach(addSpec);
  render();

  // Images: drag or ‹ › to reorder, remove, preview new files.
  var imageList = document.getElementById("image-list");
  var removed = [];
  var dragging = null;
  imageList.addEventListener("click", function (event) {
    var tile = event.target.closest(".jishi-image");
    if (!tile) return;
    if (event.target.hasAttribute("data-remove")) {
      if (tile.dataset.id) removed.push(tile.dataset.id);
      tile.remove();
    } else if (event.target.dataset.move) {
      var sibling = event.target.dataset.move === "-1" ? tile.previousElementSibling : tile.nextElementSibling;
      if (sibling && sibling.classList.contains("jishi-image") && sibling.dataset.id) {
        if (event.target.dataset.move === "-1") imageList.insertBefore(tile, sibling); else imageList.insertBefore(sibling, tile);
      }
    }
  });
  imageList.addEventListener("dragstart", function (event) {
    dragging = event.target.closest(".jishi-image[data-id]");
    if (dragging) dragging.classList.add("is-dragging");
  });
  imageList.addEventListener("dragend", function () { if (dragging) dragging.classList.remove("is-dragging"); dragging = null; });
  imageList.addEventListener("dragover", function (event) {
    var over = event.target.closest(".jishi-image[data-id]");
    if (!dragging || !over || over === dragging) return;
    event.preventDefault();
    var box = over.getBoundingClientRect();
    imageList.insertBefore(dragging, event.clientX < box.left + box.width / 2 ? over : over.nextSibling);
  });
  var fileInput = document.getElementById("image-input");
  fileInput.addEventListener("change", function () {
    imageList.querySelectorAll(".jishi-image.is-new").forEach(function (t) { t.remove(); });
    Array.prototype.forEach.call(fileInput.files, function (file) {
      var tile = el("div", { "class": "jishi-image is-new" }, [el("img", { src: URL.createObjectURL(file), alt: file.name })]);
      imageList.insertBefore(tile, document.getElementById("image-drop"));
    });
  });

  form.addEventListener("submit", function () {
    capture();
    specsInput.value = JSON.stringify(specs());
    skusInput.value = JSON.stringify(Array.prototype.map.call(matrix.querySelectorAll("tbody tr"), function (tr) {
      var row = { specs: tr._specs };
      tr.querySelectorAll("input").forEach(function (i) { row[i.name] = i.value.trim(); });
      return row;
    }));
    form.querySelector("[name=image_order]").value = Array.prototype.map.call(
      imageList.querySelectorAll(".jishi-image[data-id]"), function (t) { return t.dataset.id; }).join(",");
    form.querySelector("[name=remove_images]").value = removed.join(",");
  });
})();
