"""Open a built book in headless Chromium and report what a reader would see broken.

Used by tests/test_browser.py; also runnable by hand: ``python tests/browser.py _build/html``.
"""
from __future__ import annotations

import functools
import html as html_lib
import http.server
import os
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlparse

def find_chromium() -> str:
    """The browser to drive: ``$BOOK_CHROMIUM``, else the first Chromium or Chrome on the PATH, else Debian's path.

    A missing browser is an error with instructions, never a skipped test."""
    named = os.environ.get("BOOK_CHROMIUM")
    found = named or next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
                          "/usr/bin/chromium")
    if not Path(found).is_file():
        raise FileNotFoundError(
            f"no browser at {found}: install Debian's Chromium (`sudo apt-get install chromium`), or on Ubuntu "
            "`sudo snap install chromium`, or point BOOK_CHROMIUM at any Chrome or Chromium binary "
            "(e.g. `make test BOOK_CHROMIUM=/snap/bin/chromium`).")
    return found


# Chromium on a closed network: no background connections, no sandbox as root, a throwaway profile.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on a free localhost port; yield its base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


MATH_SPAN = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', re.S)
TEXT_COMMAND = re.compile(r"\\(?:text\w*|math\w+|operatorname|label|tag)\{[^{}]*\}")
PROSE_RUN = re.compile(r"(?:\b[A-Za-z]{2,}\b[\s,;.]+){4,}")


def prose_in_math(page_html: str) -> list[str]:
    """Math spans whose TeX source holds a run of four or more plain words: prose that a stray ``$``
    turned into one long formula (MathJax typesets it without complaint)."""
    found = []
    for _, tex in MATH_SPAN.findall(page_html):
        tex = html_lib.unescape(tex)
        bare = TEXT_COMMAND.sub(" ", tex)
        bare = re.sub(r"\\[A-Za-z]+", " ", bare)
        if PROSE_RUN.search(bare):
            found.append(tex.strip()[:80])
    return found


def real_alt(alt: str) -> bool:
    """Alt text a screen reader can use: present, and not the file's name (what Sphinx writes when none is given)."""
    alt = alt.strip()
    return bool(alt) and not re.search(r"\.(png|jpe?g|svg|gif)$", alt)


# An exercise (sphinx-exercise) and the collapsed solution that names it: after sphinx-togglebutton has run,
# everything of the solution but its title takes no space on the page.
EXERCISES_JS = """() => {
  const solutions = [...document.querySelectorAll('article .solution')].map(s => ({
    target: (s.querySelector('.admonition-title a') || {hash: ''}).hash.slice(1),
    hidden: s.classList.contains('dropdown') && [...s.children]
      .filter(c => !c.classList.contains('admonition-title')).every(c => c.offsetHeight === 0)}));
  return [...document.querySelectorAll('article .exercise')].map(e => [e.id,
    solutions.some(s => s.target === e.id && s.hidden)]);
}"""


def unsolved_exercises(page) -> list[str]:
    """Ids of the page's exercises without a solution that is there and collapsed."""
    return [label for label, solved in page.evaluate(EXERCISES_JS) if not solved]


MAX_CELL_LINES = 4
# The Scoreboard's tables (its summary, its detail tables, a chapter's own rows): lines of text per cell.
CELL_LINES_JS = """els => els.map(td => {
  const s = getComputedStyle(td);
  const line = parseFloat(s.lineHeight) || 1.2 * parseFloat(s.fontSize);
  const range = document.createRange();
  range.selectNodeContents(td);                          // the text's own height, not the row's
  const height = range.getBoundingClientRect().height;
  return [Math.round(height / line), td.innerText.slice(0, 60)];
})"""


def wrapped_cells(page) -> list[tuple[int, str]]:
    """(lines, start of text) of every cell of the page's claim tables, at the page's current width."""
    return page.eval_on_selector_all("table.scoreboard td, table.scoreboard-summary td", CELL_LINES_JS)


def is_local(url: str) -> bool:
    return urlparse(url).hostname in {"127.0.0.1", "localhost"}


def check_page(page, url: str) -> dict:
    """Load ``url``; return its problems and facts (images, math, local links).

    Resources of other hosts (CDNs) cannot load on a closed network such as CI's: their failures
    are listed apart, in ``external_failures``, and are not problems of the book.
    """
    errors: list[str] = []
    external_failures: list[str] = []

    def on_console(msg) -> None:
        # "Failed to load resource" repeats a network event, which is recorded below with its URL
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console error: {msg.text}")

    def on_response(response) -> None:
        if response.status >= 400:
            (errors if is_local(response.url) else external_failures).append(f"HTTP {response.status} {response.url}")

    def on_failed(request) -> None:
        (errors if is_local(request.url) else external_failures).append(f"failed to load {request.url}")

    def on_page_error(exc) -> None:
        errors.append(f"script error: {exc}")

    handlers = {"console": on_console, "response": on_response, "requestfailed": on_failed,
                "pageerror": on_page_error}
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)
        images = page.eval_on_selector_all(
            "main img, article img",
            "els => els.map(e => [e.currentSrc, e.naturalWidth, e.naturalHeight, e.getAttribute('alt') || ''])")
        errors += [f"broken image {src}" for src, w, h, _ in images if not (w > 0 and h > 0)]
        errors += [f"a figure without alt text: {src}" for src, _, _, alt in images if not real_alt(alt)]
        errors += [f"exercise {e} has no collapsed solution" for e in unsolved_exercises(page)]
        errors += [f"a table cell wraps to {n} lines (at most {MAX_CELL_LINES}): {text!r}"
                   for n, text in wrapped_cells(page) if n > MAX_CELL_LINES]
        has_math_source = page.eval_on_selector_all("div.math, span.math", "els => els.length") > 0
        if has_math_source:
            try:
                page.wait_for_selector("mjx-container", state="attached", timeout=10_000)  # may sit in a folded cell
            except Exception:
                errors.append("math did not render (no mjx-container)")
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)
    local_links = sorted({link.split("#")[0] for link in links if is_local(link) and link.split("#")[0]})
    return {"url": url, "errors": errors, "external_failures": external_failures, "images": len(images),
            "math": has_math_source, "links": local_links}


def check_book(html: Path, pages: list[str], screenshot: Path | None = None) -> list[dict]:
    """Check each page (paths relative to ``html``) and every local link they contain."""
    from playwright.sync_api import sync_playwright

    results = []
    with serve(html) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for rel in pages:
            result = check_page(page, urljoin(base, rel))
            local = html / urlparse(result["url"]).path.lstrip("/")
            if local.is_file():
                result["errors"] += [f"prose typeset as math: {t!r}"
                                     for t in prose_in_math(local.read_text(encoding="utf-8"))]
            for link in result["links"]:
                path = html / urlparse(link).path.lstrip("/")
                if not (path.is_file() or (path / "index.html").is_file()):
                    result["errors"].append(f"dead link {link}")
            results.append(result)
            if screenshot is not None and rel == pages[-1]:
                page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    return results


if __name__ == "__main__":
    root = Path(sys.argv[1])
    found = [str(p.relative_to(root)) for p in sorted(root.rglob("*.html")) if "_static" not in p.parts]
    for r in check_book(root, found):
        print(r["url"], "OK" if not r["errors"] else r["errors"])
