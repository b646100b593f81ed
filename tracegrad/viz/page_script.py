"""The step-through page's own script (embedded in every page; no network, no eval).

The page holds one drawing of the graph; each frame lists the elements whose look changes, as
the SVG attributes and texts to set (:mod:`tracegrad.viz.page_data`), and the script sets them on
that drawing. It fills the panel from the page's JSON, keeps the current step in view (see
:mod:`tracegrad.viz.viewer` for pan and zoom), asks practice mode's questions and checks the
answers against the numbers in the JSON, and shows a node's gradient as its chain-rule sum when
the node is clicked. Text reaches the page only through ``textContent``: a label such as
``</script>`` stays text.
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var frames = data.frames;
  var stage = document.getElementById("stage");
  var viewer = makeViewer(stage, data.readable, data.smallestFont);
  var parts = {};   // the SVG groups of nodes and edges, by id
  var points = {};  // each edge's arrowhead as drawn
  var shown = {};   // what each group shows now: [look, texts...]
  var all = stage.querySelectorAll("g.node, g.edge");
  for (var a = 0; a < all.length; a++) {
    parts[all[a].id] = all[a];
    var head = all[a].getAttribute("class") === "edge" ? all[a].querySelector("polygon") : null;
    if (head) { points[all[a].id] = head.getAttribute("points"); }
  }
  var $ = function (id) { return document.getElementById(id); };
  var slider = $("slider"), prev = $("prev"), next = $("next"), play = $("play");
  var current = 0, timer = null, inspected = null;
  var answered = {};  // practice: frame -> true (right) / false (wrong)

  function text(id, value) { $(id).textContent = value; }
  function asking(i) {
    var step = frames[i].step;
    return data.practice && step && step.question && !Object.prototype.hasOwnProperty.call(answered, i);
  }

  function fillNumbers(step, hide) {
    var body = $("numbers");
    body.textContent = "";
    if (!step) { body.parentNode.hidden = true; return; }
    body.parentNode.hidden = false;
    ["local", "upstream", "contribution", "total"].forEach(function (key) {
      var row = document.createElement("tr");
      var name = document.createElement("th");
      name.textContent = data.captions[key];
      var cell = document.createElement("td");
      var secret = hide && key !== "upstream";
      cell.className = "num";
      cell.id = "step-" + key;
      cell.textContent = secret ? "?" : step.shown[key];
      cell.setAttribute("data-exact", secret ? "" : String(step[key]));
      row.appendChild(name);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  var rows = document.querySelectorAll("#grads tr[data-number]");
  function fillGrads(frame, hidden) {
    for (var i = 0; i < rows.length; i++) {
      var n = rows[i].getAttribute("data-number");
      var cell = rows[i].querySelector("td.grad");
      var known = Object.prototype.hasOwnProperty.call(gradsAt, n) && n !== hidden;
      var value = known ? shownGradsAt[n] : "?";
      if (cell.textContent !== value) { cell.textContent = value; }
      cell.setAttribute("data-exact", known ? String(gradsAt[n]) : "");
      rows[i].className = frame.focus.indexOf(n) >= 0 ? "current" : "";
    }
  }

  // every frame holds what changes from the frame before: replay up to frame i
  var at = -1, paintAt = {}, gradsAt = {}, shownGradsAt = {};
  function replay(i) {
    if (i < at) { at = -1; paintAt = {}; gradsAt = {}; shownGradsAt = {}; }
    for (var k = at + 1; k <= i; k++) {
      var f = frames[k], id;
      for (id in f.paint) { paintAt[id] = f.paint[id]; }
      for (id in f.grads) { gradsAt[id] = f.grads[id]; shownGradsAt[id] = f.shownGrads[id]; }
    }
    at = i;
  }

  function setAll(el, attrs) {
    if (!attrs) { return; }
    for (var name in attrs) {
      if (attrs[name] === null) { el.removeAttribute(name); } else { el.setAttribute(name, attrs[name]); }
    }
  }

  function paint(id, entry) {
    // set the look's attributes on each part of the group, and its changing texts (the last ones)
    var g = parts[id], look = data.looks[entry[0]], edge = g.getAttribute("class") === "edge", texts = [];
    for (var c = g.firstElementChild; c; c = c.nextElementSibling) {
      var tag = c.tagName.toLowerCase();
      if (tag === "text") { texts.push(c); setAll(c, look.text); }
      else if (tag === "polyline") { setAll(c, look.line); }
      else if (tag === "path") { setAll(c, look.path); }
      else if (tag === "polygon" && edge) {
        setAll(c, look.head);
        if (points[id]) { c.setAttribute("points", (look.head["stroke-width"] && data.heads[id]) || points[id]); }
      } else if (tag === "polygon" || tag === "ellipse") { setAll(c, look.shape); }
    }
    var given = entry.length - 1;
    for (var k = 0; k < given && k < texts.length; k++) { texts[texts.length - given + k].textContent = entry[1 + k]; }
    shown[id] = entry;
  }

  function same(a, b) {
    if (!a || !b || a.length !== b.length) { return false; }
    for (var k = 0; k < a.length; k++) { if (a[k] !== b[k]) { return false; } }
    return true;
  }

  function draw(i, q) {
    replay(i);
    var want = paintAt;
    if (q) {  // a question hides numbers of the picture: the edge's label, the receiving box's gradient
      want = Object.create(paintAt);
      if (paintAt[q.edge]) { want[q.edge] = [paintAt[q.edge][0], q.edgeText]; }
      var box = paintAt[q.node];
      if (box) { want[q.node] = box.slice(0, box.length - 1).concat(["grad ?"]); }
    }
    for (var id in parts) {
      if (want[id] && !same(shown[id], want[id])) { paint(id, want[id]); }
    }
  }

  function focusOf(frame) {
    var found = [];
    frame.focus.forEach(function (n) { if (parts["g_v" + n]) { found.push(parts["g_v" + n]); } });
    return found;
  }

  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    var frame = frames[i];
    var q = asking(i) ? frame.step.question : null;
    draw(i, q);
    current = i;
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", frame.title);
    text("title", frame.title);
    text("equation", q ? q.text : frame.text);
    text("words", frame.words);
    text("counter", (i + 1) + " / " + frames.length);
    fillNumbers(frame.step, !!q);
    fillGrads(frame, q ? q.number : null);
    $("practice").hidden = !q;
    var fb = $("feedback");
    fb.className = "";
    if (q) { $("answer").value = ""; text("feedback", ""); }
    else if (data.practice && frame.step && frame.step.question) {
      text("feedback", feedback(i));
      fb.className = answered[i] ? "right" : "wrong";
    } else { text("feedback", ""); }
    (frame.edges || []).forEach(function (id) {  // the step's edge over the boxes: its label stays readable
      if (parts[id]) { parts[id].parentNode.appendChild(parts[id]); }
    });
    viewer.follow(focusOf(frame), (frame.edges || []).map(function (id) {
      return parts[id] ? parts[id].querySelector("path") : null;
    }).filter(function (path) { return path !== null; }));
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
    document.body.setAttribute("data-frame", String(i));
    if (inspected !== null) { inspect(inspected); }
  }

  // --- practice: the learner gives each step's contribution (or its sign) before it is shown

  function score() {
    var right = 0, total = 0;
    for (var k in answered) { total += 1; if (answered[k]) { right += 1; } }
    text("score", "Score: " + right + " right of " + total + " answered");
    $("score").setAttribute("data-right", String(right));
    $("score").setAttribute("data-answered", String(total));
  }

  function feedback(i) {
    var verdict = answered[i] ? "Right! " : "Not quite. The step is: ";
    return verdict + frames[i].text;
  }

  function parse(typed) {
    var t = typed.trim().replace(/\u2212/g, "-").replace(/\s+/g, "");
    if ($("sign-only").checked) {
      var signs = { "+": 1, "positive": 1, "-": -1, "negative": -1, "0": 0, "zero": 0 };
      return Object.prototype.hasOwnProperty.call(signs, t.toLowerCase()) ? signs[t.toLowerCase()] : null;
    }
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) { return null; }
    return parseFloat(t);
  }

  function check() {
    var i = current;
    if (!asking(i)) { return; }
    var q = frames[i].step.question;
    var typed = parse($("answer").value);
    if (typed === null) {
      text("feedback", $("sign-only").checked ? "Type +, - or 0." : "Type a number, e.g. -1.5 or 0.25.");
      return;
    }
    var right;
    if ($("sign-only").checked) {
      right = typed === q.sign;
    } else {
      var answer = Number(q.answer);
      right = Math.abs(typed - answer) <= data.tolerance * Math.abs(answer) + 1e-9;
    }
    answered[i] = right;
    score();
    show(i);
    if (!right) {
      text("feedback", "Not quite: you gave " + $("answer").value.trim() + ". The step is: " + frames[i].text);
    }
  }

  // --- the node inspector: a node's gradient as the sum of one chain-rule term per user

  function inspect(n) {
    inspected = n;
    var info = data.inspect[n];
    var body = $("inspect-body");
    body.textContent = "";
    if (!info) { return; }
    var head = document.createElement("p");
    head.className = "sum-head";
    var reached = info.terms.filter(function (t) { return t.frame <= current && !asking(t.frame); });
    if (info.seed !== undefined) {
      head.textContent = info.seed;
      body.appendChild(head);
      return;
    }
    var users = info.terms.length;
    head.textContent = info.head + " = the sum over the " + users +
      (users === 1 ? " node that uses " : " nodes that use ") + info.name + ", one chain-rule term each:";
    body.appendChild(head);
    var list = document.createElement("ol");
    list.className = "terms";
    info.terms.forEach(function (t) {
      var item = document.createElement("li");
      var done = t.frame <= current && !asking(t.frame);
      item.textContent = (done ? t.chain + " = " + t.numbers + " = " + t.value
        : t.chain + " = ? (backward step " + t.step + ")") + "  (through " + t.user + ")";
      item.className = done ? "done" : "waiting";
      list.appendChild(item);
    });
    body.appendChild(list);
    var total = document.createElement("p");
    total.className = "sum-total";
    total.textContent = reached.length === users ? info.head + " = " + info.total
      : info.head + ": " + reached.length + " of " + users + " terms added so far";
    if (reached.length === users) { total.setAttribute("data-exact", String(info.exact)); }
    body.appendChild(total);
    if (users > 1) {
      var why = document.createElement("p");
      why.className = "hint";
      why.textContent = "Each path back from " + data.root + " adds its own term: that is why backward uses += .";
      body.appendChild(why);
    }
  }

  stage.addEventListener("click", function (event) {
    var g = event.target.closest ? event.target.closest("g.node") : null;
    if (!g) { return; }
    var m = /^g_[vo](\d+)$/.exec(g.id);
    if (m) { inspect(m[1]); }
  });
  var pick = document.querySelectorAll("#grads button[data-number]");
  for (var p = 0; p < pick.length; p++) {
    pick[p].addEventListener("click", function (event) { inspect(event.currentTarget.getAttribute("data-number")); });
  }

  // --- moving through the frames

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.setAttribute("aria-pressed", "false");
    text("play-icon", "\u25B6");
  }

  function toggle() {
    if (timer !== null) { stop(); return; }
    if (current === frames.length - 1) { show(0); }
    play.setAttribute("aria-pressed", "true");
    text("play-icon", "\u275A\u275A");
    timer = setInterval(function () {
      if (current >= frames.length - 1 || asking(current)) { stop(); return; }
      show(current + 1);
    }, data.interval);
  }

  prev.addEventListener("click", function () { stop(); show(current - 1); });
  next.addEventListener("click", function () { stop(); show(current + 1); });
  play.addEventListener("click", toggle);
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  $("check").addEventListener("click", check);
  $("answer").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); check(); }
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && target.tagName === "INPUT") { return; }  // the slider moves itself; the answer box types
    var moves = { ArrowLeft: -1, ArrowRight: 1 };
    if (event.key in moves) {
      event.preventDefault(); stop(); show(current + moves[event.key]);
    } else if (event.key === "Home") {
      event.preventDefault(); stop(); show(0);
    } else if (event.key === "End") {
      event.preventDefault(); stop(); show(frames.length - 1);
    } else if (event.key === " " && !(target && target.tagName === "BUTTON")) {
      event.preventDefault(); toggle();
    }
  });
  if (data.practice) { score(); }
  show(data.start);
})();
"""
