"""Driving pages in a headless Chromium with the network blocked (shared by the browser tests)."""

from __future__ import annotations

from typing import Any, Iterator, List, Tuple

import needs

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def launch() -> Iterator[Any]:
    """A headless Chromium (Debian's), or skip saying how to get it and Playwright."""
    path = needs.chromium()
    sync_api = needs.playwright()
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def offline_tab(browser: Any, url: str, width: int = 1280, height: int = 800,
                clock: bool = False) -> Tuple[Any, Any, List[str], List[str]]:
    """``(context, tab, requests, problems)``: ``url`` opened with every non-file request aborted
    (and recorded) and every console error or warning recorded; with ``clock``, the page's time
    (timers, animation frames) is Playwright's, paused once the page is loaded: a test moves it
    on with ``tab.clock.run_for(ms)``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    requests: List[str] = []
    problems: List[str] = []

    def only_files(route: Any) -> None:
        if route.request.url.startswith(("file://", "about:", "data:")):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    if clock:
        tab.clock.install(time=0)
    tab.goto(url)
    if clock:
        tab.clock.pause_at(1000)
    return context, tab, requests, problems


FONT_SIZES = """() => {
  // every text of the picture that is on screen: its rendered size in CSS pixels
  const stage = document.querySelector('#stage');
  const box = stage.getBoundingClientRect();
  const sizes = [];
  for (const t of stage.querySelectorAll('g.node text, g.edge text')) {
    if (!t.textContent.trim()) continue;
    const r = t.getBoundingClientRect();
    if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) continue;
    const scale = t.getScreenCTM().a;
    sizes.push(parseFloat(t.getAttribute('font-size')) * scale);
  }
  return sizes;
}"""

IN_VIEW = """(ids) => {
  const box = document.querySelector('#stage').getBoundingClientRect();
  return ids.map((id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  });
}"""
