"""The training page's own style sheet and script, embedded in every page (no network).

The script only shows what Python computed: it swaps images, paths and texts per snapshot, and
turns a weight's value (already text) into an edge's width and colour.
"""

CSS = """
:root { --ink: #222; --muted: #666; --line: #ddd; --blue: #0877bd; --orange: #f59322; --wrong: #d0021b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: var(--ink); background: #fafafa; }
header { padding: 12px 20px 2px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 2px 0 0; color: var(--muted); }
#controls { position: sticky; top: 0; z-index: 3; display: flex; gap: 8px; align-items: center; padding: 8px 20px;
  background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
#controls button { font: inherit; padding: 4px 12px; border: 1px solid #bbb; border-radius: 6px; background: #fff;
  cursor: pointer; min-width: 2.6em; }
#controls button:disabled { opacity: 0.4; cursor: default; }
button:focus-visible, input:focus-visible, [tabindex]:focus-visible {
  outline: 2px solid var(--blue); outline-offset: 2px; }
#slider { flex: 1; min-width: 160px; }
#where { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 15em; text-align: right; }
.runs { display: grid; gap: 14px; padding: 12px 20px 0; }
.runs.single { grid-template-columns: minmax(0, 1fr); }
.runs.compare { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.run, .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.run h2, .panel h2 { margin: 0 0 4px; font-size: 16px; }
.readout { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; margin-bottom: 6px; }
.readout .figure { font: 600 17px/1.3 ui-monospace, Menlo, Consolas, monospace; font-variant-numeric: tabular-nums; }
.readout .what { color: var(--muted); font-size: 13px; margin-right: 4px; }
.readout .status { color: var(--muted); font-size: 13px; }
.note { color: #a61b1b; margin: 2px 0 6px; font-size: 14px; }
.note:empty { display: none; }
.figures { display: grid; grid-template-columns: minmax(0, 1.05fr) minmax(0, 1fr); gap: 12px; }
.compare .figures { grid-template-columns: minmax(0, 1fr); }
@media (max-width: 820px) { .figures { grid-template-columns: minmax(0, 1fr); } }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 13px; margin: 0 0 4px; }
svg.view, svg.curves { width: 100%; height: auto; display: block; max-width: 520px; }
svg.network { width: 100%; height: auto; display: block; max-width: 900px; margin: 0 auto; }
.frame { fill: none; stroke: #999; stroke-width: 1; }
.tick { stroke: #999; }
.tick-label { font-size: 11px; fill: #555; }
.axis-title { font-size: 12px; fill: #333; }
.unit-label { font-size: 12px; fill: #333; }
.model-line { fill: none; stroke: #222; stroke-width: 2; }
.threshold { stroke: #444; stroke-width: 1.5; stroke-dasharray: 5 4; }
circle.point { stroke: #fff; stroke-width: 1; }
circle.point.pick { stroke: #333; stroke-width: 1.3; cursor: pointer; }
circle.point.pick.every { stroke: #fff; stroke-width: 1; }
circle.point.wrong { stroke: var(--wrong); stroke-width: 2.6; }
circle.point.picked { stroke: #000; stroke-width: 3.2; }
path.loss { fill: none; stroke: #333; stroke-width: 1.8; }
path.loss.faint { stroke: #bbb; stroke-width: 1; }
path.accuracy { fill: none; stroke: #2a8a3a; stroke-width: 1.8; }
.marker { stroke: #e69138; stroke-width: 1.5; }
.marker-dot { fill: #e69138; stroke: #fff; stroke-width: 1.5; }
.stopped-mark { fill: var(--wrong); font-size: 16px; font-weight: 700; }
line.w { stroke-linecap: round; opacity: 0.6; pointer-events: none; }
line.hit { stroke: transparent; stroke-width: 9; cursor: pointer; }
line.w.chosen { opacity: 1; stroke: #000 !important; }
circle.input { fill: #fff; stroke: #555; stroke-width: 1.5; }
.unit { cursor: pointer; }
.unit-box:not([fill]) { fill: #fff; }
.unit-frame { fill: none; stroke: #555; stroke-width: 1.2; }
.unit-kind { font-size: 8px; fill: #555; pointer-events: none; }
.unit.chosen .unit-frame { stroke: #000; stroke-width: 2.5; }
.legend { color: var(--muted); font-size: 13px; margin-top: 4px; }
.key { margin-right: 14px; white-space: nowrap; }
.hint { display: block; margin-top: 2px; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
.wrong-dot { background: #fff; border: 2.5px solid var(--wrong); }
.bar { display: inline-block; width: 18px; height: 3px; background: #222; margin-right: 4px; vertical-align: 3px; }
#weight-info { min-height: 1.5em; font-variant-numeric: tabular-nums; margin: 4px 0 0; font-size: 14px; }
.panel { margin: 14px 20px 0; }
#graph-stage { overflow: auto; max-height: 78vh; border-top: 1px solid #eee; margin-top: 6px; }
#graph-stage svg { display: block; margin: 0 auto; height: auto; max-width: none; }
#graph-stage.fit svg { width: 100%; }
#graph-head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
#graph-head button { font: inherit; font-size: 13px; padding: 2px 10px; border: 1px solid #bbb; border-radius: 6px;
  background: #fff; cursor: pointer; }
footer { padding: 12px 20px 18px; color: var(--muted); font-size: 13px; }
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("learning-data").textContent);
  var runs = data.runs, timeline = data.timeline, last = timeline.length - 1;
  var slider = byId("slider"), play = byId("play"), prev = byId("prev"), next = byId("next");
  var position = 0, timer = null, picked = null, chosen = null;

  function byId(id) { return document.getElementById(id); }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function setText(id, text) { var el = byId(id); if (el) { el.textContent = text; } }

  runs.forEach(function (run, r) {
    var box = document.querySelector('.run[data-run="' + r + '"]');
    run.el = { regions: byId("regions-" + r), line: byId("line-" + r), points: all("circle.point", box),
      marker: byId("marker-" + r), lossDot: byId("marker-loss-" + r), accLine: byId("marker-acc-line-" + r),
      accDot: byId("marker-acc-" + r) };
    run.shown = -1;
  });
  var net = runs[0].network, edges = all("line.w"), heats = all("image.heat");

  function showRun(r, s) {
    var run = runs[r], f = run.frames, el = run.el, text = run.readouts[s];
    if (run.shown === s) { return; }
    run.shown = s;
    setText("status-" + r, text.status);
    setText("loss-" + r, text.loss);
    setText("accuracy-" + r, text.accuracy);
    setText("epoch-loss-" + r, text.epochLoss);
    var epochBox = byId("epoch-box-" + r);
    if (epochBox) { epochBox.hidden = !text.epochLoss; }
    setText("note-" + r, text.note);
    if (el.regions) {
      var image = f.images[f.imageAt[s]];
      if (image) { el.regions.setAttribute("href", image); el.regions.style.display = ""; }
      else { el.regions.style.display = "none"; }
    }
    if (el.line) { el.line.setAttribute("d", f.lines[s]); }
    var wrong = f.wrong[s], moves = f.moves.length ? f.moves[s] : null;
    el.points.forEach(function (c, i) {
      c.classList.toggle("wrong", wrong.charAt(i) === "1");
      if (moves && moves.length) { c.setAttribute(f.moveAttr, moves[i]); }
    });
    var m = run.marks[s];
    if (el.marker) { el.marker.setAttribute("x1", m[0]); el.marker.setAttribute("x2", m[0]); }
    if (el.lossDot) { el.lossDot.setAttribute("cx", m[0]); el.lossDot.setAttribute("cy", m[1]); }
    if (el.accLine) { el.accLine.setAttribute("x1", m[0]); el.accLine.setAttribute("x2", m[0]); }
    if (el.accDot) { el.accDot.setAttribute("cx", m[0]); el.accDot.setAttribute("cy", m[2]); }
  }

  function width(value) {
    var v = Math.abs(value);
    if (!isFinite(v)) { return 5; }
    return 0.3 + 3.7 * Math.min(1, v / net.scale);
  }

  function showNetwork(s) {
    if (!net) { return; }
    var w = net.w[s].split(" ");
    edges.forEach(function (line) {
      var v = parseFloat(w[+line.getAttribute("data-k")]);
      line.setAttribute("stroke", v >= 0 ? data.positive : data.negative);
      line.setAttribute("stroke-width", width(v).toFixed(2));
    });
    var sprite = net.heat.length ? net.heat[net.heatAt[s]] : "";
    heats.forEach(function (img) { if (sprite) { img.setAttribute("href", sprite); } });
    if (chosen !== null) { describe(chosen); }
  }

  function describe(k) {
    var s = timeline[position][0];
    var w = net.w[s].split(" "), g = net.g[s].split(" ");
    setText("weight-info", net.names[k] + ": value " + w[k] + ", gradient " + g[k] + " at " +
      runs[0].readouts[s].status);
  }

  function choose(k, element) {
    chosen = k;
    all(".chosen").forEach(function (el) { el.classList.remove("chosen"); });
    if (element) { element.classList.add("chosen"); }
    describe(k);
  }

  function showGraph() {
    var graph = runs[0].graph;
    if (!graph || picked === null) { return; }
    var point = graph.points[String(picked)];
    var s = timeline[position][0];
    all(".point-graph").forEach(function (div) { div.hidden = true; });
    if (!point) { setText("graph-title", data.graphHint); return; }
    byId("graph-" + point.structure).hidden = false;
    byId("graph-stage").hidden = false;
    var numbers = point.numbers[s] ? point.numbers[s].split(" ") : [];
    graph.structures[point.structure].boxes.forEach(function (id, b) {
      var texts = all("text", byId(id)), n = texts.length;
      if (n < 2) { return; }
      texts[n - 2].textContent = "data " + (numbers[2 * b] || "?");
      texts[n - 1].textContent = "grad " + (numbers[2 * b + 1] || "?");
    });
    autoFit();
    setText("graph-title", point.title);
    setText("graph-when", "at " + runs[0].readouts[s].status + (numbers.length ? "" : " (not computable here)"));
  }

  function show(p) {
    position = Math.max(0, Math.min(last, p));
    timeline[position].forEach(function (s, r) { showRun(r, s); });
    showNetwork(timeline[position][0]);
    showGraph();
    slider.value = String(position);
    setText("where", data.where[position]);
    prev.disabled = position === 0;
    next.disabled = position === last;
    document.body.setAttribute("data-position", String(position));
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\u25B6 Play";
    play.setAttribute("aria-label", "Play");
  }

  function toggle() {
    if (timer !== null) { stop(); return; }
    if (position === last) { show(0); }
    play.textContent = "\u275A\u275A Pause";
    play.setAttribute("aria-label", "Pause");
    timer = setInterval(function () {
      if (position >= last) { stop(); return; }
      show(position + 1);
    }, data.interval);
  }

  function pick(circle) {
    picked = +circle.getAttribute("data-i");
    all("circle.picked").forEach(function (c) { c.classList.remove("picked"); });
    all('circle.point[data-i="' + picked + '"]').forEach(function (c) { c.classList.add("picked"); });
    showGraph();
  }

  play.addEventListener("click", toggle);
  prev.addEventListener("click", function () { stop(); show(position - 1); });
  next.addEventListener("click", function () { stop(); show(position + 1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  all("circle.point").forEach(function (c) {
    c.addEventListener("click", function () { pick(c); });
    c.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(c); }
    });
  });
  if (net) {
    all("line.hit").forEach(function (line) {
      var k = +line.getAttribute("data-k");
      var twin = document.querySelector('line.w[data-k="' + k + '"]');
      line.addEventListener("mouseenter", function () { choose(k, twin); });
      line.addEventListener("click", function () { choose(k, twin); });
    });
    all("g.unit").forEach(function (unit) {
      var k = +unit.getAttribute("data-k");
      unit.addEventListener("mouseenter", function () { choose(k, unit); });
      unit.addEventListener("click", function () { choose(k, unit); });
      unit.addEventListener("focus", function () { choose(k, unit); });
    });
  }
  var fit = byId("fit"), stage = byId("graph-stage"), fitted = false;
  function setFit(on) {
    stage.classList.toggle("fit", on);
    fit.textContent = on ? "Actual size" : "Fit to width";
  }
  function autoFit() {
    // the first time a graph shows: fit it to the width unless that would shrink it below half
    if (fitted || !stage || stage.hidden) { return; }
    var svg = stage.querySelector(".point-graph:not([hidden]) svg");
    if (!svg) { return; }
    fitted = true;
    setFit(svg.getBoundingClientRect().width <= 2 * stage.clientWidth);
  }
  if (fit && stage) { fit.addEventListener("click", function () { setFit(!stage.classList.contains("fit")); }); }
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (tag === "INPUT") { return; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault(); stop(); show(position + (event.key === "ArrowRight" ? 1 : -1));
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault(); stop(); show(event.key === "Home" ? 0 : last);
    } else if (event.key === " " && tag !== "BUTTON" && !(event.target && event.target.getAttribute &&
               event.target.getAttribute("role") === "button")) {
      event.preventDefault(); toggle();
    }
  });
  show(data.start);
})();
"""
