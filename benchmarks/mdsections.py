"""BENCHMARKS.md as independent sections, each rewritten only by its own runner.

A section is the text between ``<!-- section:NAME -->`` and ``<!-- /section:NAME -->``;
it starts with its own ``## Heading``. :func:`replace_section` rewrites one section (or
appends it when missing), keeps every other byte of the file, rebuilds the index at the
top (the title and one line per section, between ``<!-- index -->`` and
``<!-- /index -->``) and writes the file atomically (temporary file + rename), under a
lock on the file's folder so that two runners finishing together do not lose a section.

Standard library only: benchmarks/run.py imports it and must stay small.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TITLE = "# churnradar benchmarks"
INTRO = ("Each section below is written by its own runner, which rewrites that section "
         "only; the index is kept by `benchmarks/mdsections.py`.")
INDEX_START, INDEX_END = "<!-- index -->", "<!-- /index -->"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SECTION = re.compile(r"<!-- section:([a-z0-9_-]+) -->\n(.*?)<!-- /section:\1 -->\n?",
                      re.S)
_SUMMARY = re.compile(r"^<!-- summary: (.*?) -->$", re.M)
_HEADING = re.compile(r"^## +(.+?)\s*$", re.M)


def _check(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"section name must match {_NAME.pattern}, got {name!r}")
    return name


def sections(text: str) -> dict[str, str]:
    """The sections of a file's text, in file order: name -> content (without markers)."""
    return {m.group(1): m.group(2) for m in _SECTION.finditer(text)}


def read_section(path: str | Path, name: str) -> str | None:
    """The content of section ``name`` of ``path`` (None when the file or section is
    missing)."""
    p = Path(path)
    if not p.is_file():
        return None
    return sections(p.read_text(encoding="utf-8")).get(_check(name))


def history_lines(text: str) -> list[str]:
    """The ``- `` lines under a ``History`` heading of a section's markdown: the earlier
    runs a benchmark keeps when it rewrites its section."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("#"):
            inside = line.lstrip("#").strip().lower() == "history"
            continue
        if inside and line.startswith("- "):
            lines.append(line)
    return lines


def old_history(path: str | Path, name: str) -> list[str]:
    """:func:`history_lines` of section ``name`` of the file at ``path`` (none yet: [])."""
    return history_lines(read_section(path, name) or "")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to ``-``."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _index(text: str) -> str:
    lines = [INDEX_START, TITLE, "", INTRO, ""]
    for name, body in sections(text).items():
        head = _HEADING.search(body)
        title = head.group(1) if head else name
        summary = _SUMMARY.search(body)
        line = f"- [{title}](#{slug(title)})" if head else f"- {name}"
        lines.append(line + (f" — {summary.group(1)}" if summary else "")
                     + f" (section `{name}`)")
    lines.append(INDEX_END)
    return "\n".join(lines) + "\n"


def _with_index(text: str) -> str:
    start, end = text.find(INDEX_START), text.find(INDEX_END)
    if start != -1 and end > start:
        after = end + len(INDEX_END)
        if text[after:after + 1] == "\n":
            after += 1
        return text[:start] + _index(text) + text[after:]
    return _index(text) + "\n" + text.lstrip("\n")


def set_section(text: str, name: str, markdown: str, *, summary: str | None = None) -> str:
    """``text`` with section ``name`` replaced by ``markdown`` (appended when missing) and
    the index rebuilt."""
    _check(name)
    body = markdown.strip("\n") + "\n"
    if summary:
        body = f"<!-- summary: {' '.join(summary.split())} -->\n" + body
    block = f"<!-- section:{name} -->\n{body}<!-- /section:{name} -->\n"
    found = [m for m in _SECTION.finditer(text) if m.group(1) == name]
    if found:
        m = found[0]
        text = text[:m.start()] + block + text[m.end():]
    else:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + block
    return _with_index(text)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def replace_section(path: str | Path, name: str, markdown: str, *,
                    summary: str | None = None) -> None:
    """Rewrite section ``name`` of the file at ``path`` with ``markdown`` (appended when
    missing; the file is created when missing) and rebuild the index; atomic.

    ``summary`` (one line) follows the section's title in the index.
    """
    p = Path(path).resolve()
    p.parent.mkdir(parents=True, exist_ok=True)
    with _locked(p.parent):
        old = p.read_text(encoding="utf-8") if p.is_file() else ""
        new = set_section(old, name, markdown, summary=summary)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(new)
            if p.is_file():
                os.chmod(tmp, p.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
