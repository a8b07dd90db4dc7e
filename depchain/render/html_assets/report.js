/* depchain HTML report: draws the dependency graph that depchain laid out.
 * Copyright the depchain authors. Licensed under the Apache License, Version 2.0
 * (https://www.apache.org/licenses/LICENSE-2.0). No framework, no network.
 *
 * Everything it shows came from the scanned files: it only ever sets text
 * (textContent) and attributes (setAttribute), never markup. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var source = document.getElementById("depchain-data");
  var canvas = document.getElementById("canvas");
  if (!source || !canvas) return;
  var data = JSON.parse(source.textContent);
  var nodes = data.nodes, edges = data.edges, N = nodes.length;
  var outs = [], ins = [], byId = {}, i;
  for (i = 0; i < N; i++) { outs.push([]); ins.push([]); byId[nodes[i].id] = i; }
  edges.forEach(function (e, j) { outs[e[0]].push(j); ins[e[1]].push(j); });

  function svgEl(tag, attrs, parent) {
    var el = document.createElementNS(NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) el.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(el);
    return el;
  }
  function el(tag, text, cls, parent) {
    var e = document.createElement(tag);
    if (text !== null && text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  function rr(w, h, r) {
    return "M" + r + ",0H" + (w - r) + "A" + r + "," + r + " 0 0 1 " + w + "," + r + "V" + (h - r) +
      "A" + r + "," + r + " 0 0 1 " + (w - r) + "," + h + "H" + r + "A" + r + "," + r + " 0 0 1 0," +
      (h - r) + "V" + r + "A" + r + "," + r + " 0 0 1 " + r + ",0Z";
  }
  function shapePath(shape, w, h) {
    var m = h / 2, c = Math.min(8, h / 3);
    switch (shape) {
      case "project": return rr(w, h, Math.min(10, m)) + "M4,4H" + (w - 4) + "V" + (h - 4) + "H4Z"; // a double outline
      case "python": return rr(w, h, Math.min(6, m));
      case "package": return "M" + c + ",0H" + (w - c) + "L" + w + "," + c + "V" + (h - c) + "L" + (w - c) + "," + h +
        "H" + c + "L0," + (h - c) + "V" + c + "Z";
      case "native": return "M" + c + ",0H" + (w - c) + "L" + w + "," + m + "L" + (w - c) + "," + h + "H" + c + "L0," + m + "Z";
      case "os-package": return "M0,0H" + w + "V" + h + "H0Z";
      case "image": return "M0,0H" + w + "V" + h + "H0ZM0," + Math.min(6, h / 4) + "H" + w;
      case "action": return "M0,0H" + (w - c) + "L" + w + "," + m + "L" + (w - c) + "," + h + "H0Z";
      case "service": return rr(w, h, m);
      case "group": return "M4,-4H" + (w + 4) + "V" + (h - 4) + "H" + w + "V0H4Z" + rr(w, h, Math.min(4, m));
      default: return "M0,0H" + w + "V" + h + "H0Z";
    }
  }
  function colour(n) { return data.colours[n.prov] || "#868e96"; }
  var tints = {};
  function tint(hex) { // the colour at 13% over white, opaque: edges do not show through
    if (!tints[hex]) {
      var v = parseInt(hex.slice(1), 16), c = [(v >> 16) & 255, (v >> 8) & 255, v & 255];
      tints[hex] = "rgb(" + c.map(function (x) { return Math.round(255 - (255 - x) * 0.13); }).join(",") + ")";
    }
    return tints[hex];
  }
  function soft(scope) { return scope === "optional" || scope === "dev"; }

  // -- the drawing ------------------------------------------------------------------
  var svg = svgEl("svg", { "role": "img", "aria-label": "dependency graph of " + data.title });
  var defs = svgEl("defs", {}, svg);
  var marker = svgEl("marker", { id: "arr", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8,
    markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs); // one size for every line width
  svgEl("path", { d: "M0,1L9,5L0,9Z", fill: "#6e7781" }, marker);
  var view = svgEl("g", {}, svg);
  var regionLayer = svgEl("g", {}, view), edgeLayer = svgEl("g", {}, view), nodeLayer = svgEl("g", {}, view);
  data.regions.forEach(function (r) {
    var g = svgEl("g", { "class": "region b-" + String(r.boundary) }, regionLayer);
    svgEl("rect", { x: r.x, y: r.y, width: r.w, height: r.h, rx: 10 }, g);
    svgEl("text", { x: r.x + 12, y: r.y + 17 }, g).textContent = r.label;
  });
  var edgeEls = edges.map(function (e) {
    var s = nodes[e[0]], t = nodes[e[1]];
    var x1 = s.x + s.w, y1 = s.y + s.h / 2, y2 = t.y + t.h / 2, x2, d;
    if (t.x > x1) { // forward: into the target's left side
      x2 = t.x - 2;
      var dx = Math.max(40, (x2 - x1) / 2);
      d = "C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + x2 + "," + y2;
    } else { // back to an earlier or the same column: a loop into the target's right side
      x2 = t.x + t.w + 2;
      var out = 50 + Math.min(120, Math.abs(y2 - y1) / 4);
      d = "C" + (x1 + out) + "," + y1 + " " + (x2 + out) + "," + y2 + " " + x2 + "," + y2;
    }
    var p = svgEl("path", {
      "class": "edge k-" + e[2] + (soft(e[3]) ? " soft" : ""),
      d: "M" + x1 + "," + y1 + d,
      "marker-end": "url(#arr)"
    }, edgeLayer);
    return p;
  });
  var nodeEls = nodes.map(function (n, idx) {
    var g = svgEl("g", { "class": "node p-" + n.prov, transform: "translate(" + n.x + "," + n.y + ")",
      "data-i": idx, "data-id": n.id }, nodeLayer);
    svgEl("title", {}, g).textContent = n.label + (n.version ? " " + n.version : "") + " \u2014 " +
      (data.provenance[n.prov] || n.prov);
    svgEl("path", { "class": "sh", d: shapePath(n.shape, n.w, n.h), fill: tint(colour(n)),
      stroke: colour(n), "stroke-width": n.prov === "gap" || n.shape === "project" ? 2.4 : 1.4 }, g);
    svgEl("text", { "class": "nm", x: 10, y: 14 }, g).textContent = n.name;
    svgEl("text", { "class": "sb", x: 10, y: 27 }, g).textContent = n.sub;
    if (n.findings) {
      svgEl("circle", { "class": "badge", cx: n.w - 1, cy: 1, r: 7.5 }, g);
      svgEl("text", { "class": "bt", x: n.w - 1, y: 4, "text-anchor": "middle" }, g).textContent =
        n.findings.length > 9 ? "9+" : n.findings.length;
    }
    return g;
  });
  canvas.appendChild(svg);
  document.querySelectorAll("svg.shp[data-shape]").forEach(function (s) {
    var g = svgEl("g", { transform: "translate(2,4)" }, s);
    svgEl("path", { d: shapePath(s.getAttribute("data-shape"), 24, 10), fill: "#868e96", "fill-opacity": 0.15,
      stroke: "#59636e", "stroke-width": 1.2 }, g);
  });

  // -- pan and zoom -----------------------------------------------------------------
  var k = 1, tx = 0, ty = 0;
  function apply() {
    view.setAttribute("transform", "translate(" + tx.toFixed(1) + "," + ty.toFixed(1) + ") scale(" + k.toFixed(4) + ")");
    svg.classList.toggle("far", k < 0.5);
  }
  function zoomAt(f, cx, cy) {
    var nk = Math.min(4, Math.max(0.01, k * f));
    tx = cx - (cx - tx) * nk / k; ty = cy - (cy - ty) * nk / k; k = nk; apply();
  }
  function size() { return { w: canvas.clientWidth || 800, h: canvas.clientHeight || 500 }; }
  var visible = new Uint8Array(N);
  function fit() {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, any = false;
    for (var j = 0; j < N; j++) {
      if (!visible[j]) continue;
      var n = nodes[j]; any = true;
      x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y - 6); x1 = Math.max(x1, n.x + n.w + 6); y1 = Math.max(y1, n.y + n.h);
    }
    if (!any) { x0 = 0; y0 = 0; x1 = data.width || 1; y1 = data.height || 1; }
    data.regions.forEach(function (r) { if (any) { x1 = Math.max(x1, r.x + r.w); } });
    var s = size(), pad = 24;
    k = Math.min(1.2, (s.w - 2 * pad) / Math.max(1, x1 - x0), (s.h - 2 * pad) / Math.max(1, y1 - y0));
    k = Math.max(k, 0.01);
    tx = (s.w - (x1 - x0) * k) / 2 - x0 * k; ty = (s.h - (y1 - y0) * k) / 2 - y0 * k; apply();
  }
  function centre(idx) {
    var n = nodes[idx], s = size();
    k = Math.max(k, 0.9);
    tx = s.w / 2 - (n.x + n.w / 2) * k; ty = s.h / 2 - (n.y + n.h / 2) * k; apply();
  }
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  var drag = null;
  canvas.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) return;
    var hit = e.target.closest ? e.target.closest(".node") : null;
    drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty, moved: false, node: hit, id: e.pointerId };
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drag || drag.id !== e.pointerId) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && dx * dx + dy * dy < 16) return;
    if (!drag.moved) { drag.moved = true; canvas.classList.add("dragging"); canvas.setPointerCapture(e.pointerId); }
    tx = drag.tx + dx; ty = drag.ty + dy; apply();
  });
  function endDrag(e) {
    if (!drag || drag.id !== e.pointerId) return;
    var d = drag; drag = null; canvas.classList.remove("dragging");
    if (d.moved) { if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId); return; }
    if (e.type !== "pointerup") return;
    if (d.node) select(Number(d.node.getAttribute("data-i"))); else select(-1);
  }
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("keydown", function (e) {
    var s = size();
    if (e.key === "+" || e.key === "=") zoomAt(1.25, s.w / 2, s.h / 2);
    else if (e.key === "-") zoomAt(0.8, s.w / 2, s.h / 2);
    else if (e.key === "Escape") select(-1);
    else if (e.key.indexOf("Arrow") === 0) {
      tx += e.key === "ArrowLeft" ? 60 : e.key === "ArrowRight" ? -60 : 0;
      ty += e.key === "ArrowUp" ? 60 : e.key === "ArrowDown" ? -60 : 0; apply();
    } else return;
    e.preventDefault();
  });
  function button(id, f) { var b = document.getElementById(id); if (b) b.addEventListener("click", f); }
  button("zin", function () { var s = size(); zoomAt(1.3, s.w / 2, s.h / 2); });
  button("zout", function () { var s = size(); zoomAt(1 / 1.3, s.w / 2, s.h / 2); });
  button("fit", fit);

  // -- filters: by kind (what the project reaches through edges of those kinds), by provenance
  function checked(name) {
    var on = {};
    document.querySelectorAll("input[name=" + name + "]").forEach(function (c) { on[c.value] = c.checked; });
    return on;
  }
  var shownCount = 0;
  function refilter() {
    var kinds = checked("kind"), provs = checked("prov");
    var seen = new Uint8Array(N), stack = [], j;
    for (j = 0; j < N; j++) {
      if (nodes[j].depth === undefined || nodes[j].depth === 0) { seen[j] = 1; stack.push(j); }
    }
    while (stack.length) {
      var at = stack.pop();
      outs[at].forEach(function (ei) {
        var e = edges[ei];
        if (kinds[e[2]] !== false && !seen[e[1]]) { seen[e[1]] = 1; stack.push(e[1]); }
      });
    }
    shownCount = 0;
    for (j = 0; j < N; j++) {
      visible[j] = seen[j] && provs[nodes[j].prov] !== false ? 1 : 0;
      shownCount += visible[j];
      nodeEls[j].classList.toggle("hid", !visible[j]);
    }
    edges.forEach(function (e, ei) {
      edgeEls[ei].classList.toggle("hid", !(kinds[e[2]] !== false && visible[e[0]] && visible[e[1]]));
    });
    if (selected >= 0 && !visible[selected]) select(-1);
    search();
  }
  document.querySelectorAll("input[name=kind], input[name=prov]").forEach(function (c) {
    c.addEventListener("change", refilter);
  });

  // -- search ------------------------------------------------------------------------
  var q = document.getElementById("q"), hits = document.getElementById("hits"), found = [], cursor = -1;
  function search() {
    var text = q ? q.value.trim().toLowerCase() : "";
    found = []; cursor = -1;
    for (var j = 0; j < N; j++) {
      var n = nodes[j], hit = false;
      if (text && visible[j]) {
        hit = [n.label, n.id, n.purl, n.owner, n.version].some(function (v) {
          return typeof v === "string" && v.toLowerCase().indexOf(text) >= 0;
        });
      }
      nodeEls[j].classList.toggle("match", hit);
      if (hit) found.push(j);
    }
    svg.classList.toggle("searching", !!text);
    if (hits) hits.textContent = text ? found.length + " found" : shownCount + " of " + N + " shown";
  }
  if (q) {
    q.addEventListener("input", search);
    q.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && found.length) {
        cursor = (cursor + 1) % found.length; select(found[cursor]); centre(found[cursor]);
      } else if (e.key === "Escape") { q.value = ""; search(); }
    });
  }

  // -- selection and details ---------------------------------------------------------
  var details = document.getElementById("details"), selected = -1, lit = [];
  function clear() {
    lit.forEach(function (x) { x.classList.remove("near", "hot", "sel"); });
    lit = [];
  }
  function dl(parent, pairs) {
    var d = el("dl", null, null, parent);
    pairs.forEach(function (p) { if (p[1] === undefined || p[1] === null || p[1] === "") return; el("dt", p[0], null, d); el("dd", p[1], null, d); });
    return d;
  }
  function list(title, items, parent, most) {
    if (!items || !items.length) return;
    el("h4", title + " (" + items.length + ")", null, parent);
    var ul = el("ul", null, null, parent);
    items.slice(0, most || 200).forEach(function (x) {
      if (typeof x === "function") x(el("li", null, null, ul)); else el("li", x, null, ul);
    });
    if (items.length > (most || 200)) el("li", "\u2026and " + (items.length - (most || 200)) + " more", "meta", ul);
  }
  function edgeRow(ei, other) {
    return function (li) {
      var e = edges[ei], n = nodes[other];
      li.className = "edge-row";
      var a = el("a", n.label + (n.version ? " " + n.version : ""), null, li);
      a.setAttribute("href", "#graph");
      a.addEventListener("click", function (ev) { ev.preventDefault(); select(other); centre(other); });
      el("div", [e[2], e[3], e[4]].join(" \u00b7 ") + (e[6] > 1 ? " \u00b7 \u00d7" + e[6] : ""), "meta", li);
      if (e[5].length) el("div", e[5].join(", "), "meta", li);
    };
  }
  function select(idx) {
    clear();
    selected = idx;
    svg.classList.toggle("focus", idx >= 0);
    while (details.firstChild) details.removeChild(details.firstChild);
    if (idx < 0) {
      el("p", "Click a node to see its version, owner, evidence and edges.", "hint", details);
      return;
    }
    var n = nodes[idx];
    nodeEls[idx].classList.add("sel"); lit.push(nodeEls[idx]);
    outs[idx].concat(ins[idx]).forEach(function (ei) {
      var e = edges[ei];
      edgeEls[ei].classList.add("hot"); lit.push(edgeEls[ei]);
      [e[0], e[1]].forEach(function (m) { nodeEls[m].classList.add("near"); lit.push(nodeEls[m]); });
    });
    el("h3", n.label, null, details);
    var pill = el("div", null, "pill", details);
    var sw = svgEl("svg", { width: 14, height: 14, "class": "sw" }, pill);
    svgEl("rect", { x: 1, y: 1, width: 12, height: 12, rx: 3, fill: colour(n), "fill-opacity": 0.18, stroke: colour(n), "stroke-width": 2 }, sw);
    el("span", data.provenance[n.prov] || n.prov, null, pill);
    var boundary = n.boundary === true ? "yes" : n.boundary === false ? "no" : undefined;
    if (n.shape === "service" && boundary === undefined) boundary = "not known";
    dl(details, [
      ["what", data.shapes[n.shape] || n.shape],
      ["version", n.version || (n.shape === "service" || n.shape === "group" ? "" : "no exact version")],
      ["owner", n.owner || (n.shape === "project" ? "" : "unknown")],
      ["ecosystem", n.ecosystem],
      ["purl", n.purl],
      ["id", n.purl === n.id ? "" : n.id],
      ["depth", n.depth === undefined ? "not reached from the project" : n.depth === 0 ? "" : n.depth + (n.depth === 1 ? " edge" : " edges") + " from the project"],
      ["across a trust boundary", boundary]
    ]);
    if (n.facts) { el("h4", "provenance and ownership", null, details); dl(details, n.facts); }
    list("trust gaps", (n.findings || []).map(function (f) { return f[0] + " " + f[1] + ": " + f[2]; }), details);
    list("evidence", n.evidence, details);
    list("endpoints", n.endpoints, details);
    list("members", n.members, details);
    list("depends on", outs[idx].map(function (ei) { return edgeRow(ei, edges[ei][1]); }), details, 150);
    list("depended on by", ins[idx].map(function (ei) { return edgeRow(ei, edges[ei][0]); }), details, 150);
  }

  document.querySelectorAll("a.node-link[data-node]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var idx = byId[a.getAttribute("data-node")];
      if (idx === undefined) {
        if (q) { q.value = a.getAttribute("data-name") || ""; search(); }
        return;
      }
      e.preventDefault();
      document.getElementById("graph").scrollIntoView();
      select(idx); centre(idx);
    });
  });

  window.addEventListener("resize", function () { if (selected < 0) fit(); });
  refilter();
  fit();
})();
