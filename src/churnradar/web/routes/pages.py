"""The read-only analysis pages: overview, segments, reasons and the retention plan.

Thin shells (style.md §6): each route takes the signed-in user, calls one data function
of :mod:`churnradar.web.analyses` with the caller's owner scope, and renders.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from churnradar.web import analyses
from churnradar.web.charts import CHART_SCRIPT
from churnradar.web.deps import Lang, PageAuth
from churnradar.web.render import render

router = APIRouter(include_in_schema=False)

@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, auth: PageAuth, lang: Lang) -> HTMLResponse:
    st = request.app.state
    data = analyses.overview_page(ws=st.ws, snapshot=st.store.current(), lang=lang,
                                  currency=st.currency, owner_scope=auth.owner_scope)
    return render(request, "overview.html", {**data, "chart_script": CHART_SCRIPT},
                  auth=auth)


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, auth: PageAuth, lang: Lang) -> HTMLResponse:
    st = request.app.state
    data = analyses.segments_page(ws=st.ws, snapshot=st.store.current(), lang=lang,
                                  currency=st.currency, owner_scope=auth.owner_scope)
    return render(request, "segments.html", {**data, "chart_script": CHART_SCRIPT},
                  auth=auth)


@router.get("/reasons", response_class=HTMLResponse)
def reasons(request: Request, auth: PageAuth, lang: Lang) -> HTMLResponse:
    st = request.app.state
    data = analyses.reasons_page(ws=st.ws, snapshot=st.store.current(), lang=lang,
                                 currency=st.currency,
                                 show_departures=auth.sees_all)
    return render(request, "reasons.html", {**data, "chart_script": CHART_SCRIPT},
                  auth=auth)


@router.get("/plan", response_class=HTMLResponse)
def plan(request: Request, auth: PageAuth, lang: Lang, page: int = 1,
         per_page: int = 50) -> HTMLResponse:
    st = request.app.state
    data = analyses.plan_page(ws=st.ws, snapshot=st.store.current(), lang=lang,
                              currency=st.currency, owner_scope=auth.owner_scope,
                              page=page, per_page=per_page)
    return render(request, "plan.html",
                  {**data, "chart_script": CHART_SCRIPT,
                   "can_create_tasks": auth.sees_all},
                  auth=auth)
