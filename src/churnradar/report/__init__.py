"""The report: a self-contained HTML file (charts drawn offline) and an Excel workbook.

``churnradar report DIR [--lang zh-CN|en] [--out FILE] [--excel FILE]`` computes the
metrics of a workspace and calls :func:`write_html_report` and :func:`write_excel_report`.
Later analyses add their own sections to the HTML report through :class:`Section`, built
with :func:`render_table` and :func:`figure_html` so that they look like the rest.

Examples
--------
>>> from churnradar.report import write_html_report, write_excel_report
>>> write_html_report(result, "report.html", lang="zh-CN")  # doctest: +SKIP
>>> write_excel_report(result, "report.xlsx", lang="zh-CN")  # doctest: +SKIP
"""

from churnradar.report.charts import FONT_FAMILY, PLOTLY_CONFIG, base_layout, figure_html
from churnradar.report.excel import write_excel_report
from churnradar.report.html import plotly_js, render_html_report, write_html_report
from churnradar.report.sections import ReportContext, Section
from churnradar.report.tables import Column, columns_for, render_table

__all__ = [
    "FONT_FAMILY", "PLOTLY_CONFIG", "Column", "ReportContext", "Section", "base_layout",
    "columns_for", "figure_html", "plotly_js", "render_html_report", "render_table",
    "write_excel_report", "write_html_report",
]
