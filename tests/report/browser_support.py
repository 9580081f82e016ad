"""Headless Chromium for tests: find it (or skip; fail under CI=true) and check glyphs.

The skip-or-fail rule is :func:`tests.requirements.require`.

Reusable by any browser test (report, web app)::

    from tests.report.browser_support import require_browser, launch_chromium, glyph_problems

    def test_page(tmp_path):
        require_browser()                      # skip locally, fail when CI=true
        with sync_playwright() as p:
            browser = launch_chromium(p)
            ...
            assert glyph_problems(page) == []

``glyph_problems`` asks Chromium (DevTools protocol: ``CSS.getPlatformFontsForNode``)
which installed fonts drew each visible text element, then checks with fontconfig's
character sets that those fonts really contain every character — a character no font has
is drawn as a missing-glyph box ("tofu") although Chromium still reports a font for it.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from tests.requirements import require

CHROMIUM = Path(os.environ.get("CHURNRADAR_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS: list[str] = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: Family names of fonts that cover Simplified Chinese.
CJK_FAMILY = re.compile(r"wenquanyi|noto (sans|serif) cjk|source han|droid sans fallback|"
                        r"ar pl|unifont", re.IGNORECASE)
#: Fonts that only exist to draw "this character is missing".
FALLBACK_FAMILY = re.compile(r"lastresort|last resort|\.notdef", re.IGNORECASE)


def _parse_charset(text: str) -> list[tuple[int, int]]:
    ranges = []
    for token in text.split():
        lo, _, hi = token.partition("-")
        try:
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        except ValueError:
            continue
    return sorted(ranges)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@cache
def installed_fonts() -> dict[str, list[tuple[int, int]]]:
    """Family name (every alias fontconfig lists) -> covered code-point ranges."""
    if shutil.which("fc-list") is None:
        return {}
    out = subprocess.run(["fc-list", "--format", "%{family}\t%{charset}\n"],
                         capture_output=True, text=True, check=False).stdout
    fonts: dict[str, list[tuple[int, int]]] = {}
    for line in out.splitlines():
        families, _, charset = line.partition("\t")
        ranges = _parse_charset(charset)
        for family in families.split(","):
            family = family.strip()
            if family:
                fonts.setdefault(family, []).extend(ranges)
    return {k: _merge(v) for k, v in fonts.items()}


def covers(ranges: list[tuple[int, int]], codepoint: int) -> bool:
    i = bisect.bisect_right(ranges, (codepoint, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= codepoint <= ranges[i][1]


def cjk_fonts() -> list[str]:
    """Installed families that cover Chinese (checked on 中文 and 流失率)."""
    return [name for name, ranges in installed_fonts().items()
            if CJK_FAMILY.search(name) and all(covers(ranges, ord(c)) for c in "中文流失率")]


def require_browser() -> None:
    """Skip (or fail under CI=true) unless Playwright, Chromium and a CJK font exist."""
    try:
        import playwright.sync_api  # noqa: F401

        has_playwright = True
    except ImportError:
        has_playwright = False
    require(has_playwright, "the playwright Python package (pip install -e '.[test]')")
    require(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
            f"Chromium at {CHROMIUM} (Debian package: chromium)")
    require(bool(installed_fonts()), "fontconfig's fc-list (Debian package: fontconfig)")
    require(bool(cjk_fonts()),
            "a CJK font (Debian package: fonts-wqy-microhei or fonts-noto-cjk)")


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's Chromium headless with the flags of design.md."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


_MARK_TEXT = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE']);
  const visible = (el) => {
    if (!el || skip.has(el.tagName) || !el.getClientRects().length) return false;
    const st = getComputedStyle(el);
    return st.visibility !== 'hidden' && st.display !== 'none';
  };
  const seen = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.nodeValue || !node.nodeValue.trim() || !visible(node.parentElement)) continue;
    const el = node.parentElement;
    if (!seen.has(el)) {
      const id = 'g' + seen.size;
      el.setAttribute('data-glyph-check', id);
      seen.set(el, id);
    }
  }
  const out = [];
  for (const [el, id] of seen) {
    // getPlatformFontsForNode counts the glyphs of the element's whole subtree
    let text = '';
    const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (w.nextNode()) if (visible(w.currentNode.parentElement)) text += w.currentNode.nodeValue;
    out.push({id, text, tag: el.tagName});
  }
  return out;
}"""


def glyph_problems(page: Any) -> list[str]:
    """Visible text that is not fully drawn by real installed fonts ([] when all is well).

    For every visible element holding text, Chromium reports the platform fonts used and
    how many glyphs each drew. A problem is reported when: no font is reported; a font is
    not an installed one or is a last-resort fallback; fewer glyphs than non-blank
    characters were drawn; or a character is in none of the reported fonts' character
    sets (it would show as a missing-glyph box).
    """
    elements = {e["id"]: e for e in page.evaluate(_MARK_TEXT)}
    fonts = installed_fonts()
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node_ids = cdp.send("DOM.querySelectorAll",
                        {"nodeId": root, "selector": "[data-glyph-check]"})["nodeIds"]
    problems: list[str] = []
    if len(node_ids) != len(elements):
        problems.append(f"found {len(node_ids)} marked nodes for {len(elements)} elements")
    for node_id in node_ids:
        attrs = cdp.send("DOM.getAttributes", {"nodeId": node_id})["attributes"]
        mark = dict(zip(attrs[::2], attrs[1::2], strict=True)).get("data-glyph-check")
        element = elements.get(mark or "")
        if element is None:
            continue
        text = element["text"]
        chars = [c for c in text if not c.isspace()]
        used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        where = f"<{element['tag'].lower()}> {text.strip()[:60]!r}"
        if not used:
            problems.append(f"{where}: no font reported")
            continue
        glyphs = sum(int(f.get("glyphCount", 0)) for f in used)
        if glyphs < len(chars):
            problems.append(f"{where}: {glyphs} glyphs for {len(chars)} characters")
        ranges: list[tuple[int, int]] = []
        for f in used:
            family = f.get("familyName", "")
            if not family or FALLBACK_FAMILY.search(family) or family not in fonts:
                problems.append(f"{where}: drawn with {family!r}, not a real installed font")
                continue
            ranges = _merge(ranges + fonts[family])
        missing = sorted({c for c in chars if not covers(ranges, ord(c))})
        if missing:
            shown = "".join(missing[:10])
            problems.append(f"{where}: no installed font has {shown!r} "
                            f"(drawn as missing-glyph boxes by "
                            f"{[f.get('familyName') for f in used]})")
    cdp.detach()
    return problems
