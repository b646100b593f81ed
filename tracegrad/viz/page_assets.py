"""The step-through page's own style sheet and script, embedded in every page (no network)."""

CSS = """
:root { --ink: #222; --muted: #666; --line: #ddd; --accent: #e69138; --blue: #3d85c6; }
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: var(--ink);
  background: #fafafa;
}
header { padding: 12px 20px 4px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 2px 0 0; color: var(--muted); }
#controls {
  position: sticky;
  top: 0;
  z-index: 2;
  display: flex;
  gap: 8px;
  align-items: center;
  padding: 8px 20px;
  background: #fff;
  border-bottom: 1px solid var(--line);
  flex-wrap: wrap;
}
#controls button {
  font: inherit;
  padding: 4px 12px;
  border: 1px solid #bbb;
  border-radius: 6px;
  background: #fff;
  cursor: pointer;
}
#controls button:disabled { opacity: 0.4; cursor: default; }
#controls button:focus-visible, #slider:focus-visible {
  outline: 2px solid var(--blue);
  outline-offset: 2px;
}
#slider { flex: 1; min-width: 160px; }
#counter {
  min-width: 6em;
  text-align: right;
  color: var(--muted);
  font-variant-numeric: tabular-nums;
}
#stage {
  background: #fff;
  border: 1px solid var(--line);
  border-radius: 8px;
  padding: 8px;
  overflow: auto;
  max-height: 62vh;
  margin: 12px 20px 0;
}
#stage svg { display: block; margin: 0 auto; }
#stage.fit svg { width: 100%; height: auto; }
#layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; padding: 12px 20px; }
@media (max-width: 900px) { #layout { grid-template-columns: 1fr; } }
#table { max-height: 40vh; overflow: auto; }
#panel, #table { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
#panel h2, #table h2 { margin: 0 0 6px; font-size: 16px; }
#equation {
  font: 15px/1.5 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: #fff8ef;
  border-left: 3px solid var(--accent);
  padding: 6px 8px;
  margin: 0 0 8px;
  overflow-wrap: anywhere;
}
#words { margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
tr.current td { background: #fff2cc; }
#legend { padding: 0 20px 16px; color: var(--muted); font-size: 13px; }
.swatch {
  display: inline-block;
  width: 12px;
  height: 12px;
  border: 2px solid #999;
  vertical-align: -2px;
  margin: 0 4px 0 12px;
}
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var frames = data.frames;
  var parts = {};  // the SVG groups of nodes and edges, by id
  var base = {};   // each group's markup in the first frame
  var now = {};    // the frame whose markup each group shows
  var all = document.querySelectorAll("#stage g.node, #stage g.edge");
  for (var a = 0; a < all.length; a++) {
    parts[all[a].id] = all[a];
    base[all[a].id] = all[a].innerHTML;
    now[all[a].id] = 0;
  }
  var slider = document.getElementById("slider");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var play = document.getElementById("play");
  var current = 0;
  var timer = null;

  function text(id, value) { document.getElementById(id).textContent = value; }

  function fillNumbers(step) {
    var body = document.getElementById("numbers");
    body.textContent = "";
    if (!step) { body.parentNode.hidden = true; return; }
    body.parentNode.hidden = false;
    ["local", "upstream", "contribution", "total"].forEach(function (key) {
      var row = document.createElement("tr");
      var name = document.createElement("th");
      name.textContent = data.captions[key];
      var cell = document.createElement("td");
      cell.className = "num";
      cell.id = "step-" + key;
      cell.textContent = step.shown[key];
      cell.setAttribute("data-exact", String(step[key]));
      cell.title = String(step[key]);
      row.appendChild(name);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function fillGrads(frame) {
    var rows = document.querySelectorAll("#grads tr[data-number]");
    for (var i = 0; i < rows.length; i++) {
      var n = rows[i].getAttribute("data-number");
      var cell = rows[i].querySelector("td.grad");
      var known = Object.prototype.hasOwnProperty.call(frame.grads, n);
      cell.textContent = known ? frame.shownGrads[n] : "?";
      cell.setAttribute("data-exact", known ? String(frame.grads[n]) : "");
      cell.title = known ? String(frame.grads[n]) : "not known yet";
      rows[i].className = String(frame.focus).indexOf("," + n + ",") >= 0 ? "current" : "";
    }
  }

  function draw(i) {
    // each frame stores what changed since the one before: replay up to frame i
    var source = {};
    for (var k = 1; k <= i; k++) {
      for (var id in frames[k].delta) { source[id] = k; }
    }
    for (var gid in parts) {
      var from = source[gid] || 0;
      if (now[gid] !== from) {
        parts[gid].innerHTML = from === 0 ? base[gid] : frames[from].delta[gid];
        now[gid] = from;
      }
    }
  }

  var stage = document.getElementById("stage");
  var fit = document.getElementById("fit");
  var svg = stage.querySelector("svg");
  if (svg && svg.getBoundingClientRect().width <= 2 * stage.clientWidth) { stage.classList.add("fit"); }
  function setFit() { fit.textContent = stage.classList.contains("fit") ? "Actual size" : "Fit to width"; }
  setFit();
  fit.addEventListener("click", function () { stage.classList.toggle("fit"); setFit(); follow(data.frames[current]); });

  function follow(frame) {
    // keep the nodes of the step in view when the picture is larger than its box
    var box = null;
    String(frame.focus).split(",").filter(Boolean).forEach(function (n) {
      var el = parts["g_v" + n];
      if (!el) { return; }
      var r = el.getBoundingClientRect();
      box = box === null ? { left: r.left, right: r.right, top: r.top, bottom: r.bottom } : {
        left: Math.min(box.left, r.left), right: Math.max(box.right, r.right),
        top: Math.min(box.top, r.top), bottom: Math.max(box.bottom, r.bottom)
      };
    });
    if (box === null) { return; }
    var view = stage.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right) {
      stage.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
    if (box.top < view.top || box.bottom > view.bottom) {
      stage.scrollTop += (box.top + box.bottom) / 2 - (view.top + view.bottom) / 2;
    }
  }

  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    draw(i);
    current = i;
    slider.value = String(i);
    var frame = data.frames[i];
    text("title", frame.title);
    text("equation", frame.text);
    text("words", frame.words);
    text("counter", (i + 1) + " / " + frames.length);
    fillNumbers(frame.step);
    fillGrads(frame);
    follow(frame);
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
    document.body.setAttribute("data-frame", String(i));
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\u25B6 Play";
  }

  function toggle() {
    if (timer !== null) { stop(); return; }
    if (current === frames.length - 1) { show(0); }
    play.textContent = "\u275A\u275A Pause";
    timer = setInterval(function () {
      if (current >= frames.length - 1) { stop(); return; }
      show(current + 1);
    }, data.interval);
  }

  prev.addEventListener("click", function () { stop(); show(current - 1); });
  next.addEventListener("click", function () { stop(); show(current + 1); });
  play.addEventListener("click", toggle);
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT") { return; }  // the slider moves itself
    var moves = { ArrowLeft: -1, ArrowRight: 1 };
    if (event.key in moves) {
      event.preventDefault(); stop(); show(current + moves[event.key]);
    } else if (event.key === "Home") {
      event.preventDefault(); stop(); show(0);
    } else if (event.key === "End") {
      event.preventDefault(); stop(); show(frames.length - 1);
    } else if (event.key === " " && !(event.target && event.target.tagName === "BUTTON")) {
      event.preventDefault(); toggle();
    }
  });
  show(data.start);
})();
"""
