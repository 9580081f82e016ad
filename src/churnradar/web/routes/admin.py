"""The admin pages: data import, workspace settings, users and the audit log.

Admins only (``require_role("admin")``: 403 for the other roles, the sign-in page for
anonymous visitors). Every POST checks the CSRF token and writes an audit row. The work
is done by HTTP-free functions: :func:`churnradar.io.import_table` (the same validation
and reject report as ``churnradar import``), :meth:`Workspace.set_settings` (the same
validation as loading ``churnradar.toml``) and :mod:`churnradar.web.accounts`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, RedirectResponse, Response

from churnradar import settings as S
from churnradar.exceptions import ChurnRadarError, InputError, SettingsError
from churnradar.i18n import t
from churnradar.schema import TABLES
from churnradar.web import accounts
from churnradar.web.deps import Auth, CsrfChecked, Lang, ReadSession, WriteSession, require_role
from churnradar.web.models import ROLES
from churnradar.web.render import render
from churnradar.web.store import plain
from churnradar.workspace import Workspace

router = APIRouter(include_in_schema=False)

Admin = Annotated[Auth, require_role("admin")]

#: where uploads wait for their import, and reject reports for download (in the workspace)
UPLOAD_DIR = ".web-uploads"
REJECTS_SUBDIR = "rejects"
#: reject rows shown on the page (the full report is a download)
REJECTS_SHOWN = 20
#: reject reports kept for download (older ones are removed at the next import)
REJECTS_KEPT = 50
AUDIT_PER_PAGE = 50
#: one import at a time in this process: an import sweeps the temp files another one of
#: the same table would still be writing
_IMPORTING = threading.Lock()
_REJECTS_NAME = re.compile(r"^[a-z_]{1,40}-[A-Za-z0-9_-]{16,64}\.csv$")


# --- import ------------------------------------------------------------------------------
def _upload_limit(request: Request) -> int:
    return int(request.app.state.settings.max_upload_mb) * 1024 * 1024


def upload_size_check(request: Request) -> None:
    """Refuse (413) an upload whose declared size is over the limit before its body is
    read (runs before the CSRF check, which parses the form)."""
    limit = _upload_limit(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 1024 * 1024:  # + the form fields
        lang = _request_lang(request)
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            t("web_ad_err_too_large", lang, mb=limit // (1024 * 1024)))


def _request_lang(request: Request) -> str:
    from churnradar.web.deps import request_lang

    return request_lang(request)


class UploadTooLarge(Exception):
    pass


def _safe_name(filename: str | None) -> str:
    """The uploaded file's own name without folders or control characters (its suffix
    decides how it is read; the import's messages name it)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 150:
        suffix = PurePosixPath(name).suffix[:20]
        name = name[:150 - len(suffix)] + suffix
    if not name or name.startswith("."):
        name = "upload" + PurePosixPath(name).suffix[:20]
    return name


def _save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Copy the upload into ``folder`` under its own name, at most ``limit`` bytes."""
    path = folder / _safe_name(upload.filename)
    size = 0
    with open(path, "wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge()
            out.write(chunk)
    return path


def _parse_mapping(text: str, lang: str) -> dict[str, str]:
    """``客户编号=customer_id`` lines (or separated by commas/semicolons)."""
    mapping: dict[str, str] = {}
    for item in re.split(r"[\r\n;,]+", text or ""):
        item = item.strip()
        if not item:
            continue
        src, sep, dst = item.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise InputError(t("web_ad_err_bad_map", lang, item=item))
        mapping[src.strip()] = dst.strip()
    return mapping


def _prune_rejects(folder: Path) -> None:
    def age(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:  # removed meanwhile by another request
            return 0.0

    files = sorted(folder.glob("*.csv"), key=age, reverse=True)
    for old in files[REJECTS_KEPT:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _tables_info(ws: Workspace) -> list[dict[str, Any]]:
    out = []
    for table in TABLES:
        info: dict[str, Any] = {"table": table, "rows": None, "imported_at": None,
                                "source": None}
        if ws.has_table(table):
            with contextlib.suppress(Exception):  # an unreadable table is still listed
                info.update(ws.table_info(table))
        out.append(info)
    return out


def _import_page(request: Request, auth: Auth, *, status_code: int = 200,
                 **context: Any) -> Response:
    ws: Workspace = request.app.state.ws
    ctx = {"tables": TABLES, "info": _tables_info(ws),
           "max_mb": _upload_limit(request) // (1024 * 1024), "form": {}, **context}
    return render(request, "import.html", ctx, auth=auth, status_code=status_code)


@router.get("/import")
def import_form(request: Request, auth: Admin) -> Response:
    return _import_page(request, auth)


@router.post("/import", dependencies=[Depends(upload_size_check), CsrfChecked])
def import_upload(request: Request, auth: Admin, db: WriteSession, lang: Lang,
                  table: Annotated[str, Form()] = "",
                  file: Annotated[UploadFile | None, File()] = None,
                  mapping: Annotated[str, Form()] = "",
                  sheet: Annotated[str, Form()] = "",
                  encoding: Annotated[str, Form()] = "",
                  skip_bad_rows: Annotated[bool, Form()] = False,
                  append: Annotated[bool, Form()] = False) -> Response:
    """Import an uploaded CSV/XLSX into a workspace table, exactly as
    ``churnradar import`` does; a refused import leaves the table as it was."""
    from churnradar.io import ImportRejected, import_table, read_rejects

    ws: Workspace = request.app.state.ws
    form = {"table": table, "mapping": mapping, "sheet": sheet, "encoding": encoding,
            "skip_bad_rows": skip_bad_rows, "append": append}

    def refuse(message: str, *, status_code: int = 400, **extra: Any) -> Response:
        return _import_page(request, auth, status_code=status_code, form=form,
                            error=message, **extra)

    if table not in TABLES:
        return refuse(t("err_unknown_table", lang, table=table, tables=", ".join(TABLES)))
    try:
        columns = _parse_mapping(mapping, lang)
    except InputError as exc:
        return refuse(exc.localized(lang))
    if file is None or not file.filename:
        return refuse(t("web_ad_err_no_file", lang))

    limit = _upload_limit(request)
    uploads = ws.root / UPLOAD_DIR
    rejects_dir = uploads / REJECTS_SUBDIR
    rejects_dir.mkdir(parents=True, exist_ok=True)
    rejects_name = f"{table}-{secrets.token_urlsafe(16)}.csv"
    rejects_path = rejects_dir / rejects_name
    name = _safe_name(file.filename)
    work = Path(tempfile.mkdtemp(prefix="import-", dir=uploads))
    try:
        try:
            path = _save_upload(file, work, limit)
        except UploadTooLarge:
            return refuse(t("web_ad_err_too_large", lang, mb=limit // (1024 * 1024)),
                          status_code=status.HTTP_413_CONTENT_TOO_LARGE)
        try:
            with _IMPORTING:
                result = import_table(ws, table, path, mapping=columns or None,
                                      sheet=sheet.strip() or None,
                                      encoding=encoding.strip() or None,
                                      strict=not skip_bad_rows, append=append,
                                      reject_file=rejects_path, lang=lang)
        except ChurnRadarError as exc:
            message = exc.localized(lang)
            rejected = exc.rows_rejected if isinstance(exc, ImportRejected) else None
            accounts.audit(db, user=auth.user, action="import.failed", target=f"table:{table}",
                           detail={"file": name, "rejected": rejected,
                                   "error": message[:500]})
            have = rejects_path.is_file()
            return refuse(message, rejected=rejected,
                          rejects=read_rejects(rejects_path)[:REJECTS_SHOWN] if have else [],
                          rejects_name=rejects_name if have else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _prune_rejects(rejects_dir)

    warnings = list(result.warnings)
    try:
        request.app.state.store.refresh()
    except ChurnRadarError as exc:  # the import stands; the pages show the old snapshot
        warnings.append(t("web_ad_refresh_failed", lang, error=exc.localized(lang)))
    accounts.audit(db, user=auth.user, action="import", target=f"table:{table}",
                   detail={"file": name, "rows": result.rows_imported,
                           "rejected": result.rows_rejected,
                           "total": result.total_rows_in_table,
                           "mode": "append" if append else "replace",
                           "strict": not skip_bad_rows, "encoding": result.encoding})
    have = result.rows_rejected > 0 and rejects_path.is_file()
    return _import_page(
        request, auth, form=form, result=result, file_name=name, warnings=warnings,
        mapped={k: v for k, v in result.mapping.items() if k != v},
        rejects=read_rejects(rejects_path)[:REJECTS_SHOWN] if have else [],
        rejects_name=rejects_name if have else None)


@router.get("/import/rejects/{name}")
def import_rejects(request: Request, auth: Admin, name: str) -> Response:
    """A reject report of an import made on this page (CSV, UTF-8 with BOM)."""
    ws: Workspace = request.app.state.ws
    path = ws.root / UPLOAD_DIR / REJECTS_SUBDIR / name
    if not _REJECTS_NAME.match(name) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    table = name.rsplit("-", 1)[0]
    return FileResponse(path, media_type="text/csv; charset=utf-8",
                        filename=f"rejects-{table}.csv",
                        headers={"Cache-Control": "no-store"})


# --- settings ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SettingField:
    """One key of churnradar.toml on the settings form."""

    section: str | None
    key: str
    choices: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key

    def value(self, settings: S.Settings) -> Any:
        holder = settings if self.section is None else getattr(settings, self.section)
        return getattr(holder, self.key)

    @property
    def kind(self) -> str:
        if self.key == "as_of":
            return "date"
        if self.choices:
            return "choice"
        default = self.value(S.Settings())
        if isinstance(default, bool):
            return "bool"
        if isinstance(default, int):
            return "int"
        if isinstance(default, float):
            return "float"
        return "text"

    def parse(self, raw: str) -> Any:
        """The typed value of the form text; text that does not parse is passed on as
        it is, for the settings validation to refuse naming the key."""
        raw = raw.strip()
        kind = self.kind
        try:
            if kind == "date":
                return dt.date.fromisoformat(raw) if raw else None
            if kind == "int":
                return int(raw)
            if kind == "float":
                return float(raw)
        except ValueError:
            return raw
        if kind == "bool":
            return raw.lower() in ("1", "true", "on", "yes")
        return raw


def _section_fields(section: str, cls: type, keys: tuple[str, ...] | None = None
                    ) -> tuple[SettingField, ...]:
    names = keys if keys is not None else tuple(f.name for f in fields(cls))
    choices = {"business": S.BUSINESSES, "period": S.PERIODS, "basis": S.BASES}
    return tuple(SettingField(section, k, choices.get(k, ())) for k in names)


#: the settings shown on the form, by group (the other keys are edited in the file)
SETTINGS_FORM: tuple[tuple[str, tuple[SettingField, ...]], ...] = (
    ("general", (SettingField(None, "language", S.LANGUAGES), SettingField(None, "currency"))),
    ("churn", _section_fields("churn", S.ChurnSettings)),
    ("metrics", _section_fields("metrics", S.MetricsSettings,
                                ("period", "basis", "margin", "min_segment_size",
                                 "confidence", "new_customer_months"))),
    ("safety", _section_fields("safety", S.SafetySettings)),
    ("retention", _section_fields("retention", S.RetentionSettings,
                                  ("budget", "capacity", "control_share"))),
)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _settings_page(request: Request, auth: Auth, *, values: dict[str, str] | None = None,
                   status_code: int = 200, **context: Any) -> Response:
    ws: Workspace = request.app.state.ws
    load_error = None
    if values is None:
        try:
            current = S.load_settings(ws.settings_path)
        except SettingsError as exc:
            current, load_error = ws.settings, exc.localized(_request_lang(request))
        values = {f.name: _shown(f.value(current)) for _, group in SETTINGS_FORM
                  for f in group}
    return render(request, "settings.html",
                  {"groups": SETTINGS_FORM, "values": values, "load_error": load_error,
                   **context},
                  auth=auth, status_code=status_code)


@router.get("/settings")
def settings_form(request: Request, auth: Admin, saved: int = 0) -> Response:
    return _settings_page(request, auth, saved=bool(saved))


@router.post("/settings", dependencies=[CsrfChecked])
async def settings_update(request: Request, auth: Admin, db: WriteSession,
                          lang: Lang) -> Response:
    """Write the changed keys to churnradar.toml, validated together as when the file
    is loaded; on a :class:`SettingsError` the file is left as it was."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    posted = {f.name: str(form[f.name]) for _, group in SETTINGS_FORM for f in group
              if isinstance(form.get(f.name), str)}
    return await run_in_threadpool(_apply_settings, request, auth, db, lang, posted)


def _apply_settings(request: Request, auth: Auth, db: Any, lang: str,
                    posted: dict[str, str]) -> Response:
    ws: Workspace = request.app.state.ws
    try:
        current = S.load_settings(ws.settings_path)
    except SettingsError:
        current = ws.settings
    changes: dict[tuple[str | None, str], Any] = {}
    diff: dict[str, list[Any]] = {}
    for _, group in SETTINGS_FORM:
        for f in group:
            if f.name not in posted:
                continue
            new, old = f.parse(posted[f.name]), f.value(current)
            if new == old and isinstance(new, str) == isinstance(old, str):
                continue
            changes[(f.section, f.key)] = "" if new is None else new
            diff[f.name] = [plain(old), plain(new)]
    if not changes:
        return _settings_page(request, auth, values=posted,
                              notice=t("web_ad_settings_same", lang))
    try:
        ws.set_settings(changes)
    except SettingsError as exc:
        return _settings_page(request, auth, values=posted, status_code=400,
                              error=t("web_ad_settings_refused", lang,
                                      error=exc.localized(lang)))
    request.app.state.default_lang = ws.settings.language
    request.app.state.currency = ws.settings.currency
    accounts.audit(db, user=auth.user, action="settings.update", target="churnradar.toml",
                   detail={"changes": diff})
    return RedirectResponse("/settings?saved=1", status_code=303)


# --- users -------------------------------------------------------------------------------
#: notices after a change (?done=...)
_DONE = {"created": "web_ad_user_created", "role": "web_ad_user_role_saved",
         "deactivated": "web_ad_user_deactivated", "activated": "web_ad_user_activated",
         "password": "web_ad_user_password_saved"}


def _users_page(request: Request, auth: Auth, db: Any, *, status_code: int = 200,
                **context: Any) -> Response:
    return render(request, "users.html",
                  {"users": accounts.list_users(db), "roles": ROLES,
                   "min_password": accounts.MIN_PASSWORD_LENGTH, **context},
                  auth=auth, status_code=status_code)


def _user_error(exc: InputError, lang: str) -> str:
    if exc.key == "web_err_sales_owner":  # the CLI's text names --owner-id
        return t("web_ad_err_sales_owner", lang, **exc.params)
    return exc.localized(lang)


def _done(what: str, name: str) -> RedirectResponse:
    return RedirectResponse("/users?" + urlencode({"done": what, "name": name}),
                            status_code=303)


@router.get("/users")
def users_list(request: Request, auth: Admin, db: ReadSession, lang: Lang,
               done: str = "", name: str = "") -> Response:
    notice = t(_DONE[done], lang, name=name) if done in _DONE else None
    return _users_page(request, auth, db, notice=notice)


@router.post("/users", dependencies=[CsrfChecked])
def user_create(request: Request, auth: Admin, db: WriteSession, lang: Lang,
                name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                owner_id: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "") -> Response:
    try:
        accounts.create_user(db, name=name.strip(), role=role, password=password,
                             owner_id=owner_id or None, actor=auth.user)
    except InputError as exc:
        db.rollback()
        return _users_page(request, auth, db, status_code=400, error=_user_error(exc, lang),
                           new={"name": name, "role": role, "owner_id": owner_id})
    return _done("created", name.strip())


@router.post("/users/role", dependencies=[CsrfChecked])
def user_role(request: Request, auth: Admin, db: WriteSession, lang: Lang,
              name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
              owner_id: Annotated[str, Form()] = "") -> Response:
    try:
        accounts.set_role(db, name=name, role=role, owner_id=owner_id or None,
                          actor=auth.user)
    except InputError as exc:
        db.rollback()
        return _users_page(request, auth, db, status_code=400, error=_user_error(exc, lang))
    return _done("role", name)


@router.post("/users/active", dependencies=[CsrfChecked])
def user_active(request: Request, auth: Admin, db: WriteSession, lang: Lang,
                name: Annotated[str, Form()] = "",
                active: Annotated[bool, Form()] = False) -> Response:
    try:
        accounts.set_active(db, name=name, active=active, actor=auth.user)
    except InputError as exc:
        db.rollback()
        return _users_page(request, auth, db, status_code=400, error=_user_error(exc, lang))
    return _done("activated" if active else "deactivated", name)


@router.post("/users/password", dependencies=[CsrfChecked])
def user_password(request: Request, auth: Admin, db: WriteSession, lang: Lang,
                  name: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "") -> Response:
    try:
        user = accounts.set_password(db, name=name, password=password, actor=auth.user)
    except InputError as exc:
        db.rollback()
        return _users_page(request, auth, db, status_code=400, error=_user_error(exc, lang))
    if user.id == auth.user.id:  # their own sessions ended too: sign in again
        return RedirectResponse("/login?next=/users", status_code=303)
    return _done("password", name)


@router.post("/users/token", dependencies=[CsrfChecked])
def user_token(request: Request, auth: Admin, db: WriteSession, lang: Lang,
               name: Annotated[str, Form()] = "") -> Response:
    """A new API token for ``name``, shown on this answer only (never stored)."""
    try:
        token = accounts.issue_token(db, name=name, actor=auth.user)
    except InputError as exc:
        db.rollback()
        return _users_page(request, auth, db, status_code=400, error=_user_error(exc, lang))
    response = _users_page(request, auth, db, token=token, token_user=name)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- audit log ---------------------------------------------------------------------------
@router.get("/audit")
def audit_log(request: Request, auth: Admin, db: ReadSession, action: str = "",
              user: str = "", page: int = 1) -> Response:
    found = accounts.list_audit(db, action=action or None, user=user or None,
                                page=max(1, page), per_page=AUDIT_PER_PAGE)

    def link(p: int) -> str:
        query = {k: v for k, v in (("action", action), ("user", user)) if v}
        return "/audit?" + urlencode({**query, "page": p})

    rows = [{"entry": e, "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
             "detail": [(k, _detail_text(v)) for k, v in e.detail.items()]}
            for e in found.rows]
    return render(request, "audit.html",
                  {"log": found, "rows": rows, "actions": accounts.audit_actions(db),
                   "users": [u.name for u in accounts.list_users(db)],
                   "action": action, "who": user,
                   "prev_url": link(found.page - 1) if found.page > 1 else None,
                   "next_url": link(found.page + 1) if found.page < found.pages else None},
                  auth=auth)


def _detail_text(value: Any) -> str:
    """An audit detail value as text: ``[old, new]`` pairs as ``old → new``."""
    if isinstance(value, str):
        return value
    if value is None:
        return "–"
    if isinstance(value, list) and len(value) == 2:
        return f"{_detail_text(value[0])} → {_detail_text(value[1])}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_detail_text(v)}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False)
