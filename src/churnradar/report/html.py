"""The self-contained HTML report: one file, plotly.js inlined, opens offline."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from churnradar.exceptions import InputError
from churnradar.fsutil import atomic_path
from churnradar.i18n import check_language, t
from churnradar.metrics.result import MetricsResult
from churnradar.report.charts import FONT_FAMILY
from churnradar.report.formatting import business_label, fmt_value, period_label
from churnradar.report.sections import BUILTIN_SECTIONS, ReportContext, Section
from churnradar.report.templating import read_static, render


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the plotly package (no CDN, ~4.8 MB)."""
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # pragma: no cover - would end the inline <script> early
        raise RuntimeError("the plotly.js bundle contains '</script' and cannot be inlined")
    return js


def _version() -> str:
    from churnradar import __version__

    return __version__


def assemble_sections(builtin: Sequence[Section], extra: Sequence[Section]) -> list[Section]:
    """Built-in sections with the extra ones inserted (before completeness, or ``after``).

    Raises
    ------
    InputError
        Two sections share an id, or ``after`` names no section.
    """
    out = list(builtin)
    for sec in extra:
        ids = [s.id for s in out]
        if sec.id in ids:
            raise InputError(f"report section id {sec.id!r} is used twice; choose another id")
        if sec.after is not None:
            if sec.after not in ids:
                raise InputError(
                    f"report section {sec.id!r} should follow {sec.after!r}, which is not in "
                    f"the report. Sections: {', '.join(ids)}"
                )
            pos = ids.index(sec.after) + 1
        else:
            pos = ids.index("completeness") if "completeness" in ids else len(out)
        out.insert(pos, sec)
    return out


def _meta(result: MetricsResult, lang: str, workspace: str | None,
          generated_at: dt.datetime) -> list[dict[str, str]]:
    items = []
    if workspace:
        items.append({"label": t("report_meta_workspace", lang), "value": workspace})
    items += [
        {"label": t("report_meta_as_of", lang), "value": fmt_value(result.as_of, "date", lang)},
        {"label": t("report_meta_period", lang), "value": period_label(result.period, lang)},
        {"label": t("report_meta_business", lang),
         "value": business_label(result.business, lang)},
        {"label": t("report_meta_currency", lang), "value": result.currency},
        {"label": t("report_meta_margin", lang),
         "value": fmt_value(result.margin, "pct", lang, digits=1)},
        {"label": t("report_meta_generated", lang),
         "value": f"{fmt_value(generated_at.date(), 'date', lang)} "
                  f"{generated_at.strftime('%H:%M')}"},
    ]
    return items


def render_html_report(
    result: MetricsResult,
    *,
    lang: str = "zh-CN",
    title: str | None = None,
    workspace: str | None = None,
    extra_sections: Sequence[Section] = (),
    generated_at: dt.datetime | None = None,
) -> str:
    """The report as one HTML document (a string of ~5 MB: plotly.js is inlined).

    Parameters
    ----------
    result
        The metrics to show.
    lang
        ``"zh-CN"`` or ``"en"``.
    title
        Page title; default "客户流失分析报告" / "Customer churn report".
    workspace
        Name of the workspace, shown in the header line.
    extra_sections
        Sections built by other modules, inserted before the completeness check (or after
        the section named by ``Section.after``).
    generated_at
        Time stamp shown in the header (default: now); fix it for reproducible files.

    Returns
    -------
    str
    """
    lang = check_language(lang)
    generated_at = generated_at or dt.datetime.now()
    ctx = ReportContext.build(result, lang)
    builtin = [s for s in (build(ctx) for build in BUILTIN_SECTIONS) if s is not None]
    sections = assemble_sections(builtin, extra_sections)
    title = title or t("report_title", lang)
    context: dict[str, Any] = {
        "lang": lang,
        "title": title,
        "version": _version(),
        "font_family": Markup(FONT_FAMILY),
        "css": Markup(read_static("report.css")),
        "plotly_js": Markup(plotly_js()),
        "meta": _meta(result, lang, workspace, generated_at),
        "toc_title": t("report_toc", lang),
        "sections": [{"id": s.id, "title": s.title, "html": Markup(s.html)} for s in sections],
        "footer": t("report_footer", lang, version=_version()),
    }
    return str(render("report.html.j2", **context))


def write_html_report(
    result: MetricsResult,
    path: str | Path,
    *,
    lang: str = "zh-CN",
    title: str | None = None,
    workspace: str | None = None,
    extra_sections: Sequence[Section] = (),
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the self-contained HTML report to ``path`` atomically.

    Parameters are those of :func:`render_html_report`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> write_html_report(result, "report.html", lang="en")  # doctest: +SKIP
    """
    path = Path(path)
    text = render_html_report(result, lang=lang, title=title, workspace=workspace,
                              extra_sections=extra_sections, generated_at=generated_at)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        make_shareable(tmp)
    return path


def make_shareable(path: Path) -> None:
    """rw-r--r--: a report is meant to be read by others (temp files start as rw-------)."""
    with contextlib.suppress(OSError):
        path.chmod(0o644)
