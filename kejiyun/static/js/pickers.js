/*
 * Pickers for forms (no inline script: this file is loaded by base.html).
 *
 * 1. Region picker (kejiyun/regions/widgets.py): a search box and a cascade of selects,
 *    city → county → township, read from /regions/children/<code>/ and /regions/search/.
 *    The server's own control (a select, or checkboxes for several regions) stays in the
 *    form and keeps the region id, so the form posts the same thing with or without script.
 * 2. Classification tree (kejiyun/talent/widgets.py): a search box over disciplines or
 *    industries by Chinese name and an expandable tree with checkboxes (several) or radios
 *    (one). The chosen nodes are ordinary inputs named after the field.
 */
(function () {
  "use strict";

  var LEVELS = ["province", "city", "county", "township"];
  var cache = {};
  var counter = 0;

  function getJSON(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        })
        .catch(function (err) { delete cache[url]; throw err; });
    }
    return cache[url];
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function labelFor(fieldId) {
    return fieldId ? document.querySelector('label[for="' + fieldId + '"]') : null;
  }

  function showResults(box, items, render) {
    box.replaceChildren();
    if (!items.length) {
      box.appendChild(el("div", { className: "list-group-item small text-body-secondary" }, "没有找到，请换个词试试"));
    } else {
      items.forEach(function (item) { box.appendChild(render(item)); });
    }
    box.hidden = false;
  }

  /* ---------------------------------------------------------------- region picker --- */

  function RegionPicker(root) {
    this.root = root;
    this.multiple = root.hasAttribute("data-multiple");
    this.childrenUrl = root.dataset.childrenUrl;
    this.searchUrl = root.dataset.searchUrl;
    this.rootCode = root.dataset.root || "";
    this.rootName = root.dataset.rootName || "";
    this.rootLevel = root.dataset.rootLevel || "";
    this.levels = (root.dataset.levels || "").split(",").filter(Boolean);
    this.prompts = JSON.parse(root.dataset.prompts || "{}");
    this.name = root.dataset.name;
    this.fieldId = root.dataset.fieldId || ("region-picker-" + (++counter));
    this.deepest = Math.max.apply(null, this.levels.map(function (l) { return LEVELS.indexOf(l); }));
    this.known = {};
    this.selects = [];
    this.build(JSON.parse(root.dataset.initial || "[]"));
  }

  RegionPicker.prototype.selectable = function (level) {
    return this.levels.indexOf(level) !== -1;
  };

  RegionPicker.prototype.build = function (initial) {
    var self = this;
    var label = labelFor(this.fieldId);
    this.label = label;
    var fieldLabel = label ? label.textContent.replace("*", "").trim() : "地区";
    this.fieldLabel = fieldLabel;
    this.fallback = this.multiple ? this.root.querySelector(".region-fallback")
                                  : this.root.querySelector("select");
    this.fallback.hidden = true;
    // A hidden control cannot take the browser's "required" prompt; the server still checks.
    this.fallback.removeAttribute("required");

    var search = el("input", {
      type: "search", className: "form-control region-search", id: this.fieldId + "_search",
      placeholder: "输入地名搜索，如 双流、简阳", autocomplete: "off",
      "aria-controls": this.fieldId + "_results"
    });
    var results = el("div", { className: "list-group region-results", id: this.fieldId + "_results" });
    results.hidden = true;
    var cascade = el("div", { className: "region-cascade d-flex flex-wrap gap-2 mt-2" });
    var hint = el("div", { className: "form-text region-hint", "aria-live": "polite" });
    this.search = search;
    this.results = results;
    this.cascade = cascade;
    this.hint = hint;
    this.root.appendChild(search);
    this.root.appendChild(results);
    this.root.appendChild(cascade);
    if (this.multiple) {
      this.addButton = el("button", { type: "button", className: "btn btn-outline-primary btn-sm mt-2" }, "添加所选地区");
      this.chips = el("ul", { className: "list-unstyled d-flex flex-wrap gap-2 mt-2 mb-0 picker-chips", "aria-label": "已选" + fieldLabel });
      this.root.appendChild(this.addButton);
      this.root.appendChild(this.chips);
      this.addButton.addEventListener("click", function () { self.addCurrent(); });
      initial.forEach(function (item) { self.addChip(item.code, item.label); });
    }
    this.root.appendChild(hint);
    if (label) { label.setAttribute("for", search.id); }

    search.addEventListener("input", debounce(function () { self.lookup(search.value); }, 250));
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var first = results.querySelector("button");
        if (first) { first.click(); }
      } else if (event.key === "Escape") {
        results.hidden = true;
      }
    });

    var start = (!this.multiple && initial.length) ? initial[0].path : [];
    if (!this.multiple && !initial.length && this.rootCode && this.fallback.value === this.rootCode) {
      start = [this.rootCode];  // a select without an empty choice shows its first region
    }
    this.addLevel(this.rootCode, 0).then(function () { return self.follow(start); });
  };

  RegionPicker.prototype.lookup = function (text) {
    var self = this;
    text = text.trim();
    if (!text) { this.results.hidden = true; return; }
    var url = this.searchUrl + "?q=" + encodeURIComponent(text) +
      (this.rootCode ? "&within=" + encodeURIComponent(this.rootCode) : "") +
      "&levels=" + encodeURIComponent(this.levels.join(","));
    getJSON(url).then(function (data) {
      if (self.search.value.trim() !== text) { return; }
      showResults(self.results, data.items, function (item) {
        var button = el("button", { type: "button", className: "list-group-item list-group-item-action" }, item.label);
        button.addEventListener("click", function () { self.choose(item); });
        return button;
      });
    }).catch(function () {
      showResults(self.results, [], null);
    });
  };

  RegionPicker.prototype.choose = function (item) {
    var self = this;
    this.results.hidden = true;
    this.search.value = "";
    this.known[item.code] = item.label;
    this.follow(item.path).then(function () {
      if (self.multiple) { self.addCurrent(); }
    });
  };

  /* Set the cascade to the codes of `path` that lie below the root. */
  RegionPicker.prototype.follow = function (path) {
    var self = this;
    var start = this.rootCode ? path.indexOf(this.rootCode) + 1 : 0;
    var codes = start > 0 || !this.rootCode ? path.slice(start) : [];
    if (!codes.length && this.rootCode && path[path.length - 1] === this.rootCode) {
      codes = [this.rootCode];  // the root itself, the first select's explicit choice
    }
    var step = Promise.resolve();
    codes.forEach(function (code, i) {
      step = step.then(function () {
        var select = self.selects[i];
        if (!select || !select.querySelector('option[value="' + code + '"]')) { return null; }
        select.value = code;
        return self.changed(i);
      });
    });
    return step.then(function () { self.sync(); });
  };

  RegionPicker.prototype.addLevel = function (parentCode, index) {
    var self = this;
    var url = this.childrenUrl + (parentCode ? parentCode + "/" : "");
    return getJSON(url).then(function (data) {
      var items = data.items.filter(function (item) {
        return LEVELS.indexOf(item.level) <= self.deepest;
      });
      if (!items.length) { return; }
      var level = items[0].level;
      var prompt = self.prompts[level] || "下一级";
      var select = el("select", {
        className: "form-select region-level", "data-level": level,
        "aria-label": self.fieldLabel + "：" + prompt
      });
      if (index === 0) {
        // Nothing chosen yet: the root itself is an explicit choice when the field takes it.
        select.appendChild(el("option", { value: "" }, "请选择" + prompt));
        if (self.rootCode && self.selectable(self.rootLevel)) {
          select.appendChild(el("option", { value: self.rootCode, "data-level": self.rootLevel, "data-leaf": "1" }, "整个" + self.rootName));
        }
      } else {
        // Below a chosen region, "no further" means that region when the field takes it.
        var parent = self.selects[index - 1].selectedOptions[0];
        var whole = self.selectable(parent.dataset.level) ? "（整个" + parent.textContent + "）" : "请选择" + prompt;
        select.appendChild(el("option", { value: "" }, whole));
      }
      items.forEach(function (item) {
        var option = el("option", { value: item.code, "data-level": item.level, "data-leaf": item.leaf ? "1" : "" }, item.name);
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        self.changed(index).then(function () { self.sync(); });
      });
      self.selects.length = index;
      self.selects.push(select);
      self.cascade.appendChild(select);
    }).catch(function () {
      self.hint.textContent = "地区列表加载失败，请刷新页面重试。";
      if (index === 0 && !self.multiple) {
        // Without the tree, the server's own select still works.
        self.fallback.hidden = false;
        self.search.hidden = true;
        if (self.label) { self.label.setAttribute("for", self.fieldId); }
      }
    });
  };

  /* The select at `index` changed: drop the levels below it and load the next one. */
  RegionPicker.prototype.changed = function (index) {
    this.selects.slice(index + 1).forEach(function (s) { s.remove(); });
    this.selects.length = index + 1;
    var option = this.selects[index].selectedOptions[0];
    if (!option || !option.value || option.dataset.leaf) { return Promise.resolve(); }
    if (LEVELS.indexOf(option.dataset.level) >= this.deepest) { return Promise.resolve(); }
    return this.addLevel(option.value, index + 1);
  };

  /* The region the cascade names now, if the field accepts it: {code, label} or null. */
  RegionPicker.prototype.current = function () {
    for (var i = this.selects.length - 1; i >= 0; i--) {
      var option = this.selects[i].selectedOptions[0];
      if (option && option.value) {
        if (!this.selectable(option.dataset.level)) { return { code: "", pending: option.dataset.level }; }
        var names = this.selects.slice(0, i + 1).map(function (s) { return s.selectedOptions[0].textContent.replace(/^整个/, ""); });
        return { code: option.value, label: names.join(" · ") };
      }
    }
    return { code: "" };
  };

  RegionPicker.prototype.sync = function () {
    var now = this.current();
    if (now.pending) {
      this.hint.textContent = "请继续选择" + (this.prompts[LEVELS[LEVELS.indexOf(now.pending) + 1]] || "下一级") + "。";
    } else {
      this.hint.textContent = "";
    }
    if (this.multiple || !this.selects.length) { return; }
    var select = this.fallback;
    if (now.code && !select.querySelector('option[value="' + now.code + '"]')) {
      select.appendChild(el("option", { value: now.code }, now.label));
    }
    if (select.value !== now.code) {
      select.value = now.code;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  };

  RegionPicker.prototype.addCurrent = function () {
    var now = this.current();
    if (!now.code) {
      this.hint.textContent = "请先在上面选择地区。";
      return;
    }
    this.addChip(now.code, now.label || this.known[now.code] || now.code);
  };

  RegionPicker.prototype.addChip = function (code, text) {
    var self = this;
    if (this.chips.querySelector('[data-code="' + code + '"]')) { return; }
    var box = this.fallback.querySelector('input[value="' + code + '"]');
    if (!box) {
      box = el("input", { type: "checkbox", name: this.name, value: code, hidden: "" });
      this.fallback.appendChild(box);
    }
    box.checked = true;
    var chip = el("li", { className: "badge rounded-pill text-bg-light border picker-chip", "data-code": code });
    chip.appendChild(el("span", {}, text));
    var remove = el("button", { type: "button", className: "btn-close ms-1", "aria-label": "移除 " + text });
    remove.addEventListener("click", function () {
      box.checked = false;
      chip.remove();
      self.search.focus();
    });
    chip.appendChild(remove);
    this.chips.appendChild(chip);
    this.hint.textContent = "";
  };

  /* ---------------------------------------------------------- classification tree --- */

  function ClassTree(root) {
    this.root = root;
    this.multiple = root.hasAttribute("data-multiple");
    this.name = root.dataset.name;
    this.childrenUrl = root.dataset.childrenUrl;
    this.searchUrl = root.dataset.searchUrl;
    this.search = root.querySelector(".tree-search");
    this.results = root.querySelector(".tree-results");
    this.chosen = root.querySelector(".tree-chosen");
    this.tree = root.querySelector(".tree-nodes");
    this.build();
  }

  ClassTree.prototype.build = function () {
    var self = this;
    this.search.hidden = false;
    this.tree.hidden = false;
    var note = this.root.querySelector(".tree-noscript");
    if (note) { note.hidden = true; }
    this.search.addEventListener("input", debounce(function () { self.lookup(self.search.value); }, 250));
    this.search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }
      if (event.key === "Escape") { self.results.hidden = true; }
    });
    this.chosen.addEventListener("change", function (event) {
      var input = event.target;
      if (input.name === self.name && !input.checked && self.multiple) {
        self.mirror(input.value, false);
        input.closest(".picker-chip").remove();
      }
    });
    this.tree.addEventListener("change", function (event) {
      var input = event.target;
      if (input.dataset.code) { self.pick(input.dataset.code, input.dataset.label, input.checked); }
    });
    if (!this.multiple) {
      this.chosen.querySelectorAll(".picker-chip").forEach(function (chip) { self.clearable(chip); });
    }
    this.loadInto(this.tree, "");
  };

  /* One choice: a radio cannot be unticked, so its chip gets a button that drops it. */
  ClassTree.prototype.clearable = function (chip) {
    var self = this;
    var input = chip.querySelector("input");
    var text = chip.textContent.trim();
    var remove = el("button", { type: "button", className: "btn-close ms-1", "aria-label": "移除 " + text });
    remove.addEventListener("click", function () {
      self.mirror(input.value, false);
      chip.remove();
      self.search.focus();
    });
    chip.appendChild(remove);
  };

  ClassTree.prototype.isChosen = function (code) {
    return !!this.chosen.querySelector('input[value="' + code + '"]:checked');
  };

  ClassTree.prototype.node = function (item) {
    var self = this;
    var type = this.multiple ? "checkbox" : "radio";
    var id = this.root.dataset.fieldId + "_node_" + item.code;
    var check = el("input", {
      type: type, className: "form-check-input", id: id,
      "data-code": item.code, "data-label": item.label
    });
    // Tree inputs carry no name: only the chosen chips are posted.
    check.checked = this.isChosen(item.code);
    var wrap = el("div", { className: "tree-node" });
    var row = el("div", { className: "tree-row d-flex align-items-baseline" });
    wrap.appendChild(row);
    if (item.leaf) {
      row.appendChild(el("span", { className: "tree-toggle-space", "aria-hidden": "true" }));
    } else {
      var toggle = el("button", {
        type: "button", className: "btn btn-link btn-sm p-0 tree-toggle",
        "aria-expanded": "false", "aria-label": "展开 " + item.name
      }, "▸");
      var children = el("div", { className: "tree-children" });
      children.hidden = true;
      toggle.addEventListener("click", function () {
        var open = children.hidden;
        children.hidden = !open;
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.setAttribute("aria-label", (open ? "收起 " : "展开 ") + item.name);
        toggle.textContent = open ? "▾" : "▸";
        if (open && !children.dataset.loaded) {
          children.dataset.loaded = "1";
          self.loadInto(children, item.code);
        }
      });
      row.appendChild(toggle);
      wrap.appendChild(children);
    }
    var line = el("div", { className: "form-check mb-0" });
    line.appendChild(check);
    line.appendChild(el("label", { className: "form-check-label", for: id }, item.name));
    row.appendChild(line);
    return wrap;
  };

  ClassTree.prototype.loadInto = function (container, code) {
    var self = this;
    var url = this.childrenUrl + (code ? "?parent=" + encodeURIComponent(code) : "");
    return getJSON(url).then(function (data) {
      data.items.forEach(function (item) { container.appendChild(self.node(item)); });
    }).catch(function () {
      container.appendChild(el("div", { className: "small text-danger" }, "加载失败，请刷新页面重试。"));
    });
  };

  ClassTree.prototype.mirror = function (code, checked) {
    this.root.querySelectorAll('input[data-code="' + code + '"]').forEach(function (box) { box.checked = checked; });
  };

  /* Choose (or drop) a node: the chosen list holds the inputs that are posted. */
  ClassTree.prototype.pick = function (code, label, checked) {
    var self = this;
    if (!this.multiple) {
      this.chosen.replaceChildren();
    }
    var existing = this.chosen.querySelector('input[value="' + code + '"]');
    if (!checked) {
      if (existing) { existing.closest(".picker-chip").remove(); }
      this.mirror(code, false);
      return;
    }
    if (!existing) {
      var id = this.root.dataset.fieldId + "_chosen_" + code;
      var chip = el("li", { className: "badge rounded-pill text-bg-light border picker-chip" });
      var input = el("input", {
        type: this.multiple ? "checkbox" : "radio", className: "form-check-input me-1",
        name: this.name, value: code, id: id
      });
      input.checked = true;
      chip.appendChild(input);
      chip.appendChild(el("label", { for: id }, label));
      this.chosen.appendChild(chip);
      if (!this.multiple) { this.clearable(chip); }
    }
    if (!this.multiple) {
      this.root.querySelectorAll("input[data-code]").forEach(function (box) { box.checked = box.dataset.code === code; });
    } else {
      this.mirror(code, true);
    }
    self.results.hidden = true;
  };

  ClassTree.prototype.lookup = function (text) {
    var self = this;
    text = text.trim();
    if (!text) { this.results.hidden = true; return; }
    getJSON(this.searchUrl + "?q=" + encodeURIComponent(text)).then(function (data) {
      if (self.search.value.trim() !== text) { return; }
      showResults(self.results, data.items, function (item) {
        var button = el("button", {
          type: "button", className: "list-group-item list-group-item-action",
          "aria-label": item.path ? item.name + "（" + item.path + "）" : item.name
        });
        button.appendChild(el("span", {}, item.name));
        if (item.path) { button.appendChild(el("small", { className: "text-body-secondary ms-2" }, item.path)); }
        button.addEventListener("click", function () {
          self.pick(item.code, item.label, true);
          self.search.value = "";
          self.search.focus();
        });
        return button;
      });
    }).catch(function () { showResults(self.results, [], null); });
  };

  /* ------------------------------------------------------------------------ start --- */

  function within(scope, selector) {
    var found = Array.prototype.slice.call(scope.querySelectorAll(selector));
    if (scope.matches && scope.matches(selector)) { found.unshift(scope); }
    return found;
  }

  function start(scope) {
    scope = scope || document;
    within(scope, "[data-region-picker]").forEach(function (node) {
      if (node.dataset.ready) { return; }
      node.dataset.ready = "1";
      new RegionPicker(node);
    });
    within(scope, "[data-class-tree]").forEach(function (node) {
      if (node.dataset.ready) { return; }
      node.dataset.ready = "1";
      new ClassTree(node);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }
  document.addEventListener("htmx:load", function (event) { start(event.target); });
}());
