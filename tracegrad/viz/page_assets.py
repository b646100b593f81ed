"""The step-through page's own style sheet, embedded in every page (no network)."""

from .viewer import VIEWER_CSS

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
body.embedded header { padding: 4px 12px 0; }
body.embedded header h1 { font-size: 16px; }
body.embedded header p { display: none; }
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
body.embedded #controls { padding: 6px 12px; }
button, .link {
  font: inherit;
  padding: 4px 12px;
  border: 1px solid #bbb;
  border-radius: 6px;
  background: #fff;
  cursor: pointer;
  color: inherit;
}
button:disabled { opacity: 0.4; cursor: default; }
button:focus-visible, input:focus-visible { outline: 2px solid var(--blue); outline-offset: 2px; }
button[aria-pressed="true"] { background: #fff2cc; }
#slider { flex: 1; min-width: 140px; }
#counter { min-width: 6em; text-align: right; color: var(--muted); font-variant-numeric: tabular-nums; }
#stage { margin: 12px 20px 0; height: 56vh; min-height: 260px; }
body.embedded #stage { margin: 8px 12px 0; }
#stage g.node { cursor: pointer; }
#stage g.edge text { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
#layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; padding: 12px 20px; }
body.embedded #layout { padding: 8px 12px; gap: 10px; }
@media (max-width: 760px) { #layout { grid-template-columns: 1fr; } }
#side { display: grid; gap: 12px; align-content: start; }
#table { max-height: 36vh; overflow: auto; }
#panel, #table, #inspect, #nudge {
  background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
}
h2 { margin: 0 0 6px; font-size: 16px; }
#equation {
  font: 15px/1.5 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  background: #fff8ef;
  border-left: 3px solid var(--accent);
  padding: 6px 8px;
  margin: 0 0 8px;
  overflow-wrap: anywhere;
}
#words { margin: 0 0 10px; }
#practice { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0 0 8px; }
#practice[hidden] { display: none; }
#answer { font: inherit; width: 9em; padding: 3px 6px; }
#feedback { margin: 0 0 8px; font-weight: 600; overflow-wrap: anywhere; }
#feedback.right { color: #2f7d32; }
#feedback.wrong { color: #b3261e; }
#score { margin: 0; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
tr.current td { background: #fff2cc; }
.link { border: 0; padding: 0; background: none; text-decoration: underline dotted; text-align: left; }
.terms { margin: 4px 0; padding-left: 1.6em; font-family: ui-monospace, Menlo, Consolas, monospace; }
.terms li.waiting { color: var(--muted); }
.sum-head, .sum-total { margin: 4px 0; overflow-wrap: anywhere; }
.sum-total { font-weight: 600; }
.hint { color: var(--muted); margin: 4px 0 0; font-size: 14px; }
#legend { padding: 0 20px 16px; color: var(--muted); font-size: 13px; }
.swatch {
  display: inline-block;
  width: 12px;
  height: 12px;
  border: 2px solid #999;
  vertical-align: -2px;
  margin: 0 4px 0 12px;
}
""" + VIEWER_CSS
