// The explainer page's script: draws the graph from the data Python computed (positions
// included) and walks its steps. It reads only the JSON in #explain-data and asks for
// nothing over the network. Layout, folding and every number are decided in Python
// (tinygrad_lite/tools/explain/); this file only draws and moves.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("explain-data").textContent);
  const steps = data.steps;
  const nodes = data.nodes;
  const edges = data.edges;
  const arrays = data.arrays;
  const views = data.views;
  const SVG = "http://www.w3.org/2000/svg";
  const PREVIEW_ROWS = 4; // rows of an array shown before "show all"
  const MARGIN = 24;

  const svg = document.getElementById("explain-graph");
  const panel = document.getElementById("explain-step");
  const counter = document.getElementById("explain-counter");
  const phaseLine = document.getElementById("explain-phase");
  const crumbs = document.getElementById("explain-crumbs");

  let current = 0; // index of the step shown
  let view = 0; // index of the picture shown

  // ------------------------------------------------------------------ numbers

  // 8 significant digits, trailing zeros dropped: Python's "%.8g".
  function fmt(v) {
    if (typeof v === "string") return v; // "inf", "-inf", "nan"
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const exponent = Math.floor(Math.log10(Math.abs(v)));
    let text;
    if (exponent < -4 || exponent >= 8) {
      const [mantissa, power] = v.toExponential(7).split("e");
      const sign = power[0] === "-" ? "-" : "+";
      const digits = power.replace(/^[+-]/, "").padStart(2, "0");
      text = trimZeros(mantissa) + "e" + sign + digits;
    } else {
      text = trimZeros(v.toFixed(Math.max(0, 7 - exponent)));
    }
    return text;
  }

  function trimZeros(text) {
    return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
  }

  function shapeText(shape) {
    return "(" + shape.join(", ") + (shape.length === 1 ? "," : "") + ")";
  }

  // ---------------------------------------------------------------- elements

  function make(tag, attributes, text) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function draw(tag, attributes, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // An array as a table: the first rows, then all the rows the page keeps, on request.
  function arrayTable(index) {
    const a = arrays[index];
    const box = make("div", { class: "array" });
    const rows = a.rows;
    const total = a.total_rows;
    let caption = shapeText(a.shape);
    if (a.shape.length > 0 && total * a.total_columns > 1) caption += ", norm " + fmt(a.norm);
    box.appendChild(make("div", { class: "shape" }, caption));
    box.appendChild(table(index, rows.slice(0, PREVIEW_ROWS), 0));
    if (rows.length > PREVIEW_ROWS) {
      const more = make("details");
      more.appendChild(make("summary", {}, "show all " + rows.length + " rows"));
      more.appendChild(table(index, rows.slice(PREVIEW_ROWS), PREVIEW_ROWS));
      box.appendChild(more);
    }
    if (rows.length < total || (rows.length && rows[0].length < a.total_columns)) {
      box.appendChild(
        make(
          "div",
          { class: "note" },
          "the page keeps the first " + rows.length + " of " + total + " rows" +
            (rows.length && rows[0].length < a.total_columns
              ? " and " + rows[0].length + " of " + a.total_columns + " columns"
              : "") +
            " (tl.viz.explain(..., max_elements=) keeps more)"
        )
      );
    }
    return box;
  }

  function table(index, rows, first) {
    const t = make("table", { "data-array": String(index), "data-first-row": String(first) });
    for (const row of rows) {
      const tr = make("tr");
      for (const v of row) tr.appendChild(make("td", {}, fmt(v)));
      t.appendChild(tr);
    }
    return t;
  }

  // ------------------------------------------------------------------ picture

  function ancestors(v) {
    const chain = [];
    for (let at = v; at >= 0; at = views[at].parent) chain.push(at);
    return chain;
  }

  function drawView() {
    const v = views[view];
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = v.width + 2 * MARGIN + 40;
    const height = v.height + 2 * MARGIN;
    // A picture a little wider than its pane is shrunk to fit (to 0.6 at most); a wider
    // one scrolls.
    const room = (svg.parentNode.clientWidth || width) - 4;
    const scale = Math.max(0.6, Math.min(1, room / width));
    svg.setAttribute("width", width * scale);
    svg.setAttribute("height", height * scale);
    svg.setAttribute("viewBox", -MARGIN + " " + -MARGIN + " " + width + " " + height);
    svg.setAttribute("aria-label", "graph: " + (v.title || "the whole computation"));
    const defs = draw("defs");
    const marker = draw("marker", {
      id: "arrow", viewBox: "0 0 8 8", refX: "8", refY: "4", markerUnits: "userSpaceOnUse",
      markerWidth: "8", markerHeight: "8", orient: "auto",
    });
    marker.appendChild(draw("path", { d: "M0,0 L8,4 L0,8 z", class: "arrowhead" }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    for (const f of v.frames) {
      svg.appendChild(draw("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 6, class: "frame" }));
      svg.appendChild(draw("text", { x: f.x + 8, y: f.y + 14, class: "frame-title" }, f.title));
    }
    for (const e of v.edges) {
      const path = draw("path", { d: curve(e.points), class: "edge" });
      if (e.arrow) path.setAttribute("marker-end", "url(#arrow)");
      path.dataset.edges = e.ids.join(" ");
      svg.appendChild(path);
      const label = edges[e.ids[0]].label;
      if (label && e.arrow && e.ids.length === 1) {
        const end = e.points[e.points.length - 1];
        svg.appendChild(draw("text", { x: end[0] - 9, y: end[1] - 2, class: "edge-label", "text-anchor": "end" }, label));
      }
    }
    for (const p of v.ports) {
      svg.appendChild(draw("circle", { cx: p.x, cy: p.y, r: 3, class: "port" }));
      const text = (p.side === "in" ? "from " : "to ") + nodes[p.node].label +
        (p.uses ? ", used by " + p.uses + " ops" : "");
      const x = p.side === "in" ? p.x - 6 : p.x + 6;
      svg.appendChild(
        draw("text", { x: x, y: p.y - 6, class: "port-label", "text-anchor": p.side === "in" ? "end" : "start" }, text)
      );
    }
    for (const b of v.boxes) svg.appendChild(boxElement(b));
    for (const n of v.nodes) svg.appendChild(nodeElement(n));
  }

  // A smooth path through the points, leaving and arriving horizontally.
  function curve(points) {
    let d = "M" + points[0][0] + "," + points[0][1];
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      const bend = Math.max(12, (x1 - x0) / 2);
      d += " C" + (x0 + bend) + "," + y0 + " " + (x1 - bend) + "," + y1 + " " + x1 + "," + y1;
    }
    return d;
  }

  function nodeElement(placed) {
    const n = nodes[placed.node];
    const g = draw("g", {
      class: "node " + n.kind, tabindex: "0", role: "button",
      "aria-label": n.kind + " " + n.label + " " + shapeText(n.shape) + ": go to its step",
    });
    g.dataset.node = n.node;
    const shape = n.kind === "op"
      ? draw("rect", { x: placed.x, y: placed.y, width: placed.w, height: placed.h, rx: placed.h / 2 })
      : draw("rect", { x: placed.x, y: placed.y, width: placed.w, height: placed.h, rx: 2 });
    shape.setAttribute("class", "outline");
    g.appendChild(shape);
    const top = placed.y + placed.h / 2 - 7.5 * n.lines.length + 12; // the lines, centred
    n.lines.forEach(function (line, i) {
      g.appendChild(
        draw("text", { x: placed.x + placed.w / 2, y: top + 15 * i, "text-anchor": "middle", class: i ? "detail" : "name" }, line)
      );
    });
    g.appendChild(draw("text", { x: placed.x - 4, y: placed.y + placed.h / 2 + 5, class: "marker", "text-anchor": "end" }, "\u25B6"));
    g.appendChild(draw("text", { x: placed.x + placed.w + 3, y: placed.y + 4, class: "grad-mark" }, "\u2202"));
    if (placed.uses) { // shared by many ops: drawn once, without its edges
      g.appendChild(draw("text", { x: placed.x + placed.w / 2, y: placed.y + placed.h + 11, "text-anchor": "middle", class: "uses" }, "used by " + placed.uses + " ops"));
    }
    g.addEventListener("click", function () { go(stepOf(n.node)); });
    g.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); go(stepOf(n.node)); }
    });
    return g;
  }

  function boxElement(b) {
    const g = draw("g", { class: "box", tabindex: "0", role: "button", "aria-label": "module " + b.title + " (" + b.summary + "): open it" });
    g.dataset.opens = b.opens;
    g.appendChild(draw("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 4, class: "outline" }));
    g.appendChild(draw("rect", { x: b.x + 3, y: b.y + 3, width: b.w - 6, height: b.h - 6, rx: 3, class: "inner" }));
    g.appendChild(draw("text", { x: b.x + b.w / 2, y: b.y + 16, "text-anchor": "middle", class: "name" }, b.title));
    g.appendChild(draw("text", { x: b.x + b.w / 2, y: b.y + 30, "text-anchor": "middle", class: "detail" }, b.summary + " \u25B8"));
    g.appendChild(draw("text", { x: b.x - 4, y: b.y + b.h / 2 + 5, class: "marker", "text-anchor": "end" }, "\u25B6"));
    g.addEventListener("click", function () { openView(b.opens); });
    g.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openView(b.opens); }
    });
    return g;
  }

  function openView(v) {
    view = v;
    drawView();
    update();
  }

  function drawCrumbs() {
    while (crumbs.firstChild) crumbs.removeChild(crumbs.firstChild);
    if (views.length < 2) return;
    const chain = ancestors(view).reverse();
    chain.forEach(function (v, i) {
      if (i) crumbs.appendChild(document.createTextNode(" \u203A "));
      const label = views[v].title || "the whole graph";
      if (v === view) {
        crumbs.appendChild(make("strong", {}, label));
      } else {
        const button = make("button", { type: "button", class: "crumb" }, label);
        button.addEventListener("click", function () { openView(v); });
        crumbs.appendChild(button);
      }
    });
    crumbs.appendChild(make("span", { class: "hint" }, "  (Escape: up one level)"));
  }

  // The step a click on a node goes to: its step in the phase shown, else its first one.
  function stepOf(id) {
    const n = nodes[id];
    const phase = steps[current].phase;
    const order = phase === "forward"
      ? [n.forward_step, firstUse(id), n.backward_step, n.grad_step]
      : phase === "backward"
        ? [n.backward_step, n.grad_step, n.gradient_step, n.forward_step, firstUse(id)]
        : [n.update_step, n.gradient_step, n.backward_step, n.forward_step, firstUse(id)];
    for (const s of order) if (s) return s - 1;
    return current;
  }

  function firstUse(id) {
    let first = 0;
    for (const e of edges) {
      const s = nodes[e.to].forward_step;
      if (e.from === id && s && (!first || s < first)) first = s;
    }
    return first;
  }

  // ---------------------------------------------------------------- the step

  function update() {
    const s = steps[current];
    const at = s.number;
    const backwardStarted = s.phase !== "forward";
    const target = nodes[s.node];
    // Which element stands for the step's node here: itself, or the box that holds it.
    const chain = ancestors(target.view);
    let boxView = -1;
    for (const v of chain) if (views[v].parent === view) boxView = v;
    for (const g of svg.querySelectorAll(".node")) {
      const n = nodes[Number(g.dataset.node)];
      const pending = n.kind === "op" && n.forward_step > at;
      const known = backwardStarted && n.grad_step && n.grad_step <= at;
      g.classList.toggle("current", n.node === s.node);
      g.classList.toggle("pending", pending);
      g.classList.toggle("has-grad", Boolean(known));
      g.classList.toggle("updated", Boolean(n.update_step && n.update_step <= at));
    }
    for (const g of svg.querySelectorAll(".box")) {
      g.classList.toggle("current", target.view !== view && Number(g.dataset.opens) === boxView);
    }
    for (const path of svg.querySelectorAll(".edge")) {
      const ids = path.dataset.edges.split(" ").map(Number);
      const carried = backwardStarted && ids.some(function (i) {
        return edges[i].carried_step && edges[i].carried_step <= at;
      });
      const feeding = s.phase === "forward" && ids.some(function (i) { return edges[i].to === s.node; });
      path.classList.toggle("carried", carried);
      path.classList.toggle("feeding", feeding);
    }
    phaseLine.textContent = phaseText(s);
    counter.textContent = "step " + at + " of " + steps.length + " \u00B7 " + s.phase;
    document.getElementById("explain-prev").disabled = current === 0;
    document.getElementById("explain-next").disabled = current === steps.length - 1;
    drawCrumbs();
    const shown = svg.querySelector(".node.current, .box.current");
    if (shown && shown.scrollIntoView) shown.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function phaseText(s) {
    if (s.phase === "forward") {
      return "FORWARD: values flow from the inputs to the loss. No gradient yet: backward has not run.";
    }
    if (s.phase === "backward") {
      return "BACKWARD: gradients flow from the loss back to the inputs; \u2202 marks the tensors whose gradient is complete.";
    }
    return "UPDATE: the optimizer moves each parameter against its gradient.";
  }

  function renderStep() {
    const s = steps[current];
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    panel.appendChild(make("p", { class: "phase-name" }, s.phase.toUpperCase() + " \u00B7 step " + s.number + " of " + steps.length));
    panel.appendChild(make("h2", {}, s.title));
    const where = nodes[s.node];
    let place = (s.kind === "op" ? "op " : "tensor ") + where.label;
    if (s.module) place += ", in " + s.module;
    panel.appendChild(make("p", { class: "where" }, place));
    if (s.rule) {
      const rule = make("p", { class: "rule" });
      rule.appendChild(make("span", {}, s.phase === "forward" ? "computes " : "rule "));
      rule.appendChild(make("code", {}, s.rule));
      panel.appendChild(rule);
    }
    for (const h of s.hand_written || []) panel.appendChild(handWritten(h));
    for (const item of s.items) {
      const block = make("div", { class: item.contribution ? "item contribution" : "item" });
      block.appendChild(make("div", { class: "label" }, item.label));
      block.appendChild(arrayTable(item.array));
      if (item.note) block.appendChild(make("div", { class: "note" }, item.note));
      panel.appendChild(block);
    }
    if (s.check) panel.appendChild(checkTable(s.check, s));
    for (const note of s.notes || []) panel.appendChild(make("p", { class: "note" }, note));
  }

  function checkTable(check, s) {
    const box = make("div", { class: "item check" });
    box.appendChild(make("div", { class: "label" },
      "central differences, (L(w + eps) - L(w - eps)) / 2eps with eps = " + check.eps +
      ", computed when the page was made" + (check.all ? "" : " (" + check.indices.length + " elements spread over the parameter)")));
    const t = make("table", { "data-check": String(s.number) });
    const head = make("tr");
    for (const name of ["element", "backward()", "central difference", "|difference|"]) head.appendChild(make("th", {}, name));
    t.appendChild(head);
    check.indices.forEach(function (index, i) {
      const tr = make("tr");
      tr.appendChild(make("td", {}, "(" + index.join(", ") + ")"));
      const a = check.backward[i];
      const n = check.numeric[i];
      for (const v of [a, n, typeof a === "number" && typeof n === "number" ? Math.abs(a - n) : "nan"]) tr.appendChild(make("td", {}, fmt(v)));
      t.appendChild(tr);
    });
    box.appendChild(t);
    box.appendChild(make("div", { class: "note" }, "largest |difference|: " + fmt(check.max_abs_difference)));
    return box;
  }

  function handWritten(h) {
    const box = make("div", { class: "item seed" });
    const line = make("div", { class: "label" }, "hand-written: ");
    line.appendChild(make("code", {}, h.line));
    box.appendChild(line);
    const pair = make("div", { class: "pair" });
    const ours = make("div");
    ours.appendChild(make("div", { class: "label" }, "autodiff: " + h.ours));
    ours.appendChild(arrayTable(h.ours_array));
    const seed = make("div");
    seed.appendChild(make("div", { class: "label" }, "hand-written value"));
    seed.appendChild(arrayTable(h.seed_array));
    pair.appendChild(ours);
    pair.appendChild(seed);
    box.appendChild(pair);
    box.appendChild(
      make("p", { class: "verdict" },
        h.equal
          ? "equal bit for bit: yes"
          : "equal bit for bit: NO" + (h.max_abs_difference === null ? " (shapes differ)" : ", largest |difference| " + fmt(h.max_abs_difference)))
    );
    return box;
  }

  // ---------------------------------------------------------------- moving

  function go(index) {
    current = Math.max(0, Math.min(steps.length - 1, index));
    const target = nodes[steps[current].node];
    const chain = ancestors(target.view);
    let v = view;
    while (chain.indexOf(v) < 0) v = views[v].parent; // up until the node is in sight
    if (v !== view) { view = v; drawView(); }
    renderStep();
    update();
    const address = "#step-" + steps[current].number;
    if (location.hash !== address) {
      try {
        history.replaceState(null, "", address);
      } catch (error) {
        location.hash = address; // a sandboxed frame may refuse replaceState
      }
    }
  }

  function fromAddress() {
    const match = /^#step-(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) - 1 : 0;
  }

  document.getElementById("explain-prev").addEventListener("click", function () { go(current - 1); });
  document.getElementById("explain-next").addEventListener("click", function () { go(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowRight") { event.preventDefault(); go(current + 1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); go(current - 1); }
    else if (event.key === "Home") { event.preventDefault(); go(0); }
    else if (event.key === "End") { event.preventDefault(); go(steps.length - 1); }
    else if (event.key === "Escape" && views[view].parent >= 0) { openView(views[view].parent); }
  });
  window.addEventListener("hashchange", function () { go(fromAddress()); });

  drawView();
  go(fromAddress());
})();
