"""The admin pages (import, settings, users, audit log) on SQLite and PostgreSQL: only
admins get in, every POST needs the CSRF token and writes an audit row, an import is the
CLI's import (same checks, same reject report; a refused one leaves the table's bytes as
they were), settings are validated as when churnradar.toml is loaded."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from churnradar.exceptions import InputError
from churnradar.schema import CONTRACTS
from churnradar.web import accounts
from churnradar.web.db import session_scope
from churnradar.web.models import AuditLog, User, WebSession
from churnradar.web.routes import admin
from churnradar.workspace import Workspace

from .conftest import PASSWORD, csrf_of, login

PAGES = ("/import", "/settings", "/users", "/audit")
POSTS = ("/import", "/settings", "/users", "/users/role", "/users/active",
         "/users/password", "/users/token")


# --- helpers -----------------------------------------------------------------------------
def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _audit(web, action: str | None = None) -> list[AuditLog]:
    with session_scope(web.app.state.engine, readonly=True) as s:
        q = sa.select(AuditLog).order_by(AuditLog.id)
        if action is not None:
            q = q.where(AuditLog.action == action)
        return list(s.scalars(q))


def _user(web, name: str) -> User:
    with session_scope(web.app.state.engine, readonly=True) as s:
        user = accounts.get_user(s, name=name)
        assert user is not None
        return user


def _signed_in(client) -> bool:
    """Whether the client's session still works (/login redirects signed-in users)."""
    return client.get("/login", follow_redirects=False).status_code == 303


def _admin(web):
    c = web.client("ada")
    return c, csrf_of(c.get("/users").text)


def _customers_csv(root, *, header_name: str = "name") -> tuple[bytes, pd.DataFrame]:
    """The customers table as a CSV of its contract columns (names changed, so the import
    is visible), with the ``name`` column under the header ``header_name``."""
    df = pd.read_parquet(root / "data" / "customers.parquet")
    cols = [c.name for c in CONTRACTS["customers"].columns if c.name in df.columns]
    df = df[cols].copy()
    df["name"] = "新名字-" + df["customer_id"].astype(str)
    out = df.rename(columns={"name": header_name})
    return out.to_csv(index=False).encode("utf-8"), df


def _upload(client, csrf: str, content: bytes, *, filename: str = "客户.csv",
            table: str = "customers", **fields):
    data = {"csrf_token": csrf, "table": table, **fields}
    return client.post("/import", data=data,
                       files={"file": (filename, io.BytesIO(content), "text/csv")})


def _text(html: str, marker: str) -> str:
    m = re.search(marker + r"[^>]*>([^<]*)<", html)
    assert m, f"no {marker} on the page"
    return m.group(1)


# --- who gets in -------------------------------------------------------------------------
def test_only_admins_see_the_admin_pages(web):
    ada, mia, sam, anon = web.client("ada"), web.client("mia"), web.client("sam"), web.client()
    for path in PAGES:
        assert ada.get(path).status_code == 200, path
        assert mia.get(path).status_code == 403, path
        assert sam.get(path).status_code == 403, path
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}", path
    assert mia.get("/import/rejects/customers-" + "a" * 22 + ".csv").status_code == 403


def test_every_post_needs_the_csrf_token_and_the_admin_role(web):
    ada, csrf = _admin(web)
    mia = web.client("mia")
    mia_csrf = _page_csrf(mia)
    table = web.root / "data" / "customers.parquet"
    settings = web.root / "churnradar.toml"
    before = (_sha(table), _sha(settings), len(_audit(web)))
    content, _ = _customers_csv(web.root)
    form = {"name": "sam", "role": "manager", "owner_id": "", "password": "x" * 12,
            "active": "false", "metrics.margin": "0.3", "table": "customers"}
    for path in POSTS:
        # an admin without the token
        r = ada.post(path, data=form, files={"file": ("c.csv", content, "text/csv")}
                     if path == "/import" else None)
        assert r.status_code == 403, path
        # a wrong token
        r = ada.post(path, data={**form, "csrf_token": "forged"})
        assert r.status_code == 403, path
        # a manager with her own valid token: the role check
        r = mia.post(path, data={**form, "csrf_token": mia_csrf})
        assert r.status_code == 403, path
        # nobody signed in
        assert web.client().post(path, data=form).status_code == 403, path
    assert (_sha(table), _sha(settings), len(_audit(web))) == before
    assert _user(web, "sam").role == "sales" and _user(web, "sam").active
    assert csrf  # the admin's own token works (the other tests)


def _page_csrf(client) -> str:
    """The CSRF token of a signed-in client's session (from any page it may see)."""
    from churnradar.web.sessions import SESSION_COOKIE

    sid = client.app.state.signer.unsign(client.cookies.get(SESSION_COOKIE))
    with session_scope(client.app.state.engine, readonly=True) as s:
        return s.get(WebSession, sid).csrf


# --- import ------------------------------------------------------------------------------
def test_a_good_csv_is_imported_like_the_cli_and_the_pages_see_it(web):
    c, csrf = _admin(web)
    content, expected = _customers_csv(web.root, header_name="客户称呼")
    r = _upload(c, csrf, content, mapping="客户称呼=name")
    assert r.status_code == 200, r.text[:2000]
    assert _text(r.text, "data-rows-imported") == f"{len(expected):,}"
    assert _text(r.text, "data-rows-rejected") == "0"
    assert "客户.csv" in r.text
    # the workspace table is the CSV
    got = pd.read_parquet(web.root / "data" / "customers.parquet")
    csv = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    assert len(got) == len(csv)
    for col in expected.columns:
        header = "客户称呼" if col == "name" else col
        left = got[col].map(_plain).tolist()
        right = csv[header].map(_plain).tolist()
        assert left == right, col
    # the store was refreshed: the pages show the new names
    cid = str(expected["customer_id"].iloc[0])
    row = web.app.state.store.current().customer(cid, owner_id=None)
    assert row is not None and row["name"] == f"新名字-{cid}"
    # the upload was removed; an audit row says who imported what
    assert not any((web.root / admin.UPLOAD_DIR).glob("import-*"))
    (log,) = _audit(web, "import")
    detail = json.loads(log.detail)
    assert log.user_id == _user(web, "ada").id and log.target == "table:customers"
    assert detail["rows"] == len(expected) and detail["rejected"] == 0
    assert detail["file"] == "客户.csv"


def test_an_excel_file_is_imported_with_its_chinese_headers(web):
    c, csrf = _admin(web)
    staff = pd.DataFrame({"员工编号": ["M900", "M901", "M902"], "姓名": ["张三", "李四", "王五"],
                          "入职日期": ["2021-03-01", "2022-07-15", "2020-01-02"]})
    buf = io.BytesIO()
    staff.to_excel(buf, index=False, sheet_name="员工")
    r = c.post("/import", data={"csrf_token": csrf, "table": "staff",
                                "mapping": "员工编号=owner_id\n姓名=name\n入职日期=hired_at"},
               files={"file": ("员工.xlsx", buf.getvalue(),
                               "application/vnd.openxmlformats-officedocument."
                               "spreadsheetml.sheet")})
    assert r.status_code == 200, r.text[:2000]
    assert _text(r.text, "data-rows-imported") == "3"
    got = pd.read_parquet(web.root / "data" / "staff.parquet")
    assert got["owner_id"].tolist() == ["M900", "M901", "M902"]
    assert got["name"].tolist() == ["张三", "李四", "王五"]
    assert [d.isoformat() for d in got["hired_at"]] == ["2021-03-01", "2022-07-15",
                                                        "2020-01-02"]
    assert json.loads(_audit(web, "import")[0].detail)["file"] == "员工.xlsx"


def _plain(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return str(v)


def test_bad_rows_skipped_are_listed_with_the_reject_report(web):
    c, csrf = _admin(web)
    content, expected = _customers_csv(web.root)
    lines = content.decode().splitlines()
    cols = lines[0].split(",")
    at = cols.index("signup_date")
    cells = lines[3].split(",")
    cells[at] = "2023-13-45"
    lines[3] = ",".join(cells)  # file row 4 (the header is row 1)
    r = _upload(c, csrf, ("\n".join(lines) + "\n").encode(), skip_bad_rows="true")
    assert r.status_code == 200, r.text[:2000]
    assert _text(r.text, "data-rows-rejected") == "1"
    assert _text(r.text, "data-rows-imported") == f"{len(expected) - 1:,}"
    assert "2023-13-45" in r.text and "signup_date" in r.text
    link = re.search(r'href="(/import/rejects/[^"]+)"', r.text).group(1)
    report = c.get(link)
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    rows = list(pd.read_csv(io.BytesIO(report.content), encoding="utf-8-sig", dtype=str)
                .itertuples(index=False))
    assert [(r.row, r.column, r.value) for r in rows] == [("4", "signup_date", "2023-13-45")]
    assert len(pd.read_parquet(web.root / "data" / "customers.parquet")) == len(expected) - 1
    assert json.loads(_audit(web, "import")[0].detail)["rejected"] == 1
    # reject reports are for admins only, and only those files
    assert web.client("mia").get(link).status_code == 403
    assert c.get("/import/rejects/..%2Fchurnradar.toml").status_code == 404
    assert c.get("/import/rejects/customers-" + "b" * 22 + ".csv").status_code == 404


def _bad_uploads(root) -> list[tuple[str, bytes, dict[str, str], list[str]]]:
    """(file name, content, form fields, words the error must contain)."""
    good, _ = _customers_csv(root)
    lines = good.decode().splitlines()
    cols = lines[0].split(",")
    at = cols.index("signup_date")
    cells = lines[2].split(",")
    cells[at] = "not-a-date"
    lines[2] = ",".join(cells)
    bad_row = ("\n".join(lines) + "\n").encode()
    no_id = "\n".join(",".join(x for i, x in enumerate(line.split(","))
                               if i != cols.index("customer_id"))
                      for line in lines[:20]).encode()
    gbk = "客户编号,客户名称\nC1,张三\n".encode("gbk") + b"\xff\xff\xff,\xfe\n"
    return [
        ("missing.csv", no_id, {}, ["missing.csv", "customer_id"]),
        ("rows.csv", bad_row, {}, ["rows.csv", "3", "signup_date", "not-a-date"]),
        ("empty.csv", b"", {}, ["empty.csv"]),
        ("乱码.csv", gbk, {}, ["乱码.csv", "3", "GB18030"]),
        ("map.csv", good, {"mapping": "nonsense"}, ["nonsense"]),
        ("map2.csv", good, {"mapping": "客户号=no_such_column"}, ["no_such_column"]),
    ]


def test_a_refused_import_names_the_problem_and_leaves_the_table_byte_for_byte(web):
    c, csrf = _admin(web)
    table = web.root / "data" / "customers.parquet"
    before = _sha(table)
    data_files = sorted(p.name for p in (web.root / "data").iterdir())
    snapshot = web.app.state.store.current()
    for lang in ("en", "zh-CN"):
        for name, content, fields, words in _bad_uploads(web.root):
            r = c.post(f"/import?lang={lang}",
                       data={"csrf_token": csrf, "table": "customers", **fields},
                       files={"file": (name, io.BytesIO(content), "text/csv")})
            assert r.status_code == 400, (name, r.text[:1000])
            error = _text(r.text, "data-import-error")
            for word in words:
                assert word in error.replace("&#39;", "'"), (name, lang, error)
            assert _sha(table) == before, name
            assert sorted(p.name for p in (web.root / "data").iterdir()) == data_files
    # a bad row in strict mode: the first problems on the page and the full report
    r = _upload(c, csrf, _bad_uploads(web.root)[1][1], filename="rows.csv")
    assert "data-rejects" in r.text and "not-a-date" in r.text
    link = re.search(r'href="(/import/rejects/[^"]+)"', r.text).group(1)
    assert "not-a-date" in c.get(link).content.decode("utf-8-sig")
    assert web.app.state.store.current() is snapshot  # nothing to refresh
    assert _sha(table) == before
    failed = _audit(web, "import.failed")
    assert len(failed) == 2 * len(_bad_uploads(web.root)) - 2 + 1  # mapping errors: no upload
    assert _audit(web, "import") == []


def test_an_upload_over_the_size_limit_is_refused(web, monkeypatch):
    monkeypatch.setattr(web.app.state, "settings",
                        web.app.state.settings.model_copy(update={"max_upload_mb": 1}))
    c, csrf = _admin(web)
    table = web.root / "data" / "customers.parquet"
    before = _sha(table)
    header = b"customer_id,name\n"
    # declared size far over the limit: refused before the body is read
    big = header + b"".join(b"C%07d,x\n" % i for i in range(400_000))
    r = _upload(c, csrf, big, filename="big.csv")
    assert r.status_code == 413 and "1 MB" in r.text
    # a little over: refused while it is copied
    mid = header + b"".join(b"C%07d,x\n" % i for i in range(150_000))
    assert 1024 * 1024 < len(mid) < 2 * 1024 * 1024
    r = _upload(c, csrf, mid, filename="mid.csv")
    assert r.status_code == 413 and "1 MB" in _text(r.text, "data-import-error")
    assert _sha(table) == before
    assert not any((web.root / admin.UPLOAD_DIR).glob("import-*"))


# --- settings ----------------------------------------------------------------------------
def test_settings_round_trip_and_audit(web):
    c, csrf = _admin(web)
    page = c.get("/settings")
    assert 'name="metrics.margin"' in page.text and 'name="safety.deviation_alert"' in page.text
    ws = Workspace.open(web.root)
    old_margin = ws.settings.metrics.margin
    form = {"csrf_token": csrf, "metrics.margin": "0.35", "retention.budget": "12000",
            "safety.deviation_warn": "0.6", "safety.deviation_alert": "0.9",
            "churn.inactivity_days": str(ws.settings.churn.inactivity_days),
            "currency": ws.settings.currency}
    r = c.post("/settings", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/settings?saved=1"
    # written where loading reads it, comments kept
    after = Workspace.open(web.root).settings
    assert after.metrics.margin == 0.35 and after.retention.budget == 12000.0
    assert (after.safety.deviation_warn, after.safety.deviation_alert) == (0.6, 0.9)
    assert "# churnradar settings" in (web.root / "churnradar.toml").read_text()
    assert 'value="0.35"' in c.get("/settings?saved=1").text
    (log,) = _audit(web, "settings.update")
    changes = json.loads(log.detail)["changes"]
    assert changes["metrics.margin"] == [old_margin, 0.35]
    assert set(changes) == {"metrics.margin", "retention.budget", "safety.deviation_warn",
                            "safety.deviation_alert"}
    assert log.user_id == _user(web, "ada").id
    # posting the same values again changes nothing and logs nothing
    r = c.post("/settings", data=form)
    assert r.status_code == 200 and len(_audit(web, "settings.update")) == 1


@pytest.mark.parametrize("field,value,word", [
    ("metrics.margin", "1.5", "margin"),
    ("churn.inactivity_days", "abc", "inactivity_days"),
    ("metrics.period", "week", "period"),
    ("churn.as_of", "2025-02-30", "as_of"),
    ("safety.deviation_warn", "0.95", "deviation_warn"),  # above the alert line
    ("language", "fr", "language"),
])
def test_a_bad_setting_is_refused_naming_the_key_and_the_file_is_unchanged(
        web, field, value, word):
    c, csrf = _admin(web)
    path = web.root / "churnradar.toml"
    before = path.read_bytes()
    r = c.post("/settings", data={"csrf_token": csrf, "metrics.margin": "0.3", field: value})
    assert r.status_code == 400
    error = _text(r.text, "data-settings-error")
    assert word in error and "churnradar.toml" in error
    assert path.read_bytes() == before
    assert _audit(web, "settings.update") == []
    assert f'value="{value}"' in r.text or value in r.text  # the form keeps what was typed


# --- users -------------------------------------------------------------------------------
def test_add_users_and_the_rules_for_them(web):
    c, csrf = _admin(web)
    r = c.post("/users", data={"csrf_token": csrf, "name": "bob", "role": "sales",
                               "owner_id": web.sue_owner, "password": "long enough"},
               follow_redirects=False)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert 'data-user="bob"' in page.text and "bob" in _text(page.text, "data-users-notice")
    bob = _user(web, "bob")
    assert (bob.role, bob.owner_id, bob.active) == ("sales", web.sue_owner, True)
    login(web.client(), "bob", "long enough")
    (log,) = [a for a in _audit(web, "user.create") if a.target == "user:bob"]
    assert log.user_id == _user(web, "ada").id
    for data, word in [
        ({"name": "kim", "role": "sales", "owner_id": "", "password": "long enough"},
         "owner_id"),
        ({"name": "kim", "role": "manager", "owner_id": "", "password": "short"}, "8"),
        ({"name": "bob", "role": "manager", "owner_id": "", "password": "long enough"},
         "bob"),
        ({"name": "kim", "role": "root", "owner_id": "", "password": "long enough"}, "root"),
    ]:
        r = c.post("/users?lang=en", data={"csrf_token": csrf, **data})
        assert r.status_code == 400 and word in _text(r.text, "data-users-error"), data
    with session_scope(web.app.state.engine, readonly=True) as s:
        assert accounts.get_user(s, name="kim") is None


def test_deactivation_signs_the_user_out_everywhere_and_reactivation_lets_them_back(web):
    c, csrf = _admin(web)
    sam = web.client("sam")
    token = web.token("sam")
    assert _signed_in(sam)
    r = c.post("/users/active", data={"csrf_token": csrf, "name": "sam", "active": "false"},
               follow_redirects=False)
    assert r.status_code == 303
    assert not _signed_in(sam)
    with session_scope(web.app.state.engine) as s:
        assert accounts.user_for_token(s, token=token) is None
        assert s.scalars(sa.select(WebSession).where(
            WebSession.user_id == _user(web, "sam").id)).all() == []
    page = web.client().get("/login")
    r = web.client().post("/login", data={"username": "sam", "password": PASSWORD,
                                          "csrf_token": csrf_of(page.text)})
    assert r.status_code in (401, 403)
    assert [a.target for a in _audit(web, "user.deactivate")] == ["user:sam"]
    # back again
    c.post("/users/active", data={"csrf_token": csrf, "name": "sam", "active": "true"})
    assert _user(web, "sam").active
    login(web.client(), "sam")
    assert [a.target for a in _audit(web, "user.activate")] == ["user:sam"]


def test_an_admin_cannot_lock_themself_or_everybody_out(web):
    c, csrf = _admin(web)
    r = c.post("/users/active?lang=en", data={"csrf_token": csrf, "name": "ada",
                                              "active": "false"})
    assert r.status_code == 400 and "own" in _text(r.text, "data-users-error")
    r = c.post("/users/role?lang=en", data={"csrf_token": csrf, "name": "ada",
                                            "role": "manager", "owner_id": ""})
    assert r.status_code == 400 and "own role" in _text(r.text, "data-users-error")
    assert _user(web, "ada").active and _user(web, "ada").role == "admin"
    assert _signed_in(c)
    # the last active admin (the command line has no actor)
    with session_scope(web.app.state.engine) as s:
        with pytest.raises(InputError, match="last active admin"):
            accounts.set_active(s, name="ada", active=False)
        with pytest.raises(InputError, match="last active admin"):
            accounts.set_role(s, name="ada", role="manager", owner_id=None)
    # with a second admin, either may go
    c.post("/users/role", data={"csrf_token": csrf, "name": "mia", "role": "admin",
                                "owner_id": ""})
    with session_scope(web.app.state.engine) as s:
        accounts.set_active(s, name="ada", active=False)
        with pytest.raises(InputError, match="last active admin"):
            accounts.set_active(s, name="mia", active=False)


def test_role_change_password_reset_and_token(web):
    c, csrf = _admin(web)
    mia, sue = web.client("mia"), web.client("sue")
    # role: mia becomes sales of sue's customers; her session ends
    r = c.post("/users/role", data={"csrf_token": csrf, "name": "mia", "role": "sales",
                                    "owner_id": web.sue_owner}, follow_redirects=False)
    assert r.status_code == 303 and not _signed_in(mia)
    assert (_user(web, "mia").role, _user(web, "mia").owner_id) == ("sales", web.sue_owner)
    (log,) = _audit(web, "user.role")
    assert json.loads(log.detail) == {"role": ["manager", "sales"],
                                      "owner_id": [None, web.sue_owner]}
    r = c.post("/users/role?lang=en", data={"csrf_token": csrf, "name": "mia",
                                            "role": "sales", "owner_id": ""})
    assert r.status_code == 400 and "owner_id" in _text(r.text, "data-users-error")
    # password: sue's old session ends, the old password stops, the new one works
    r = c.post("/users/password", data={"csrf_token": csrf, "name": "sue",
                                        "password": "a new password"}, follow_redirects=False)
    assert r.status_code == 303 and not _signed_in(sue)
    login(web.client(), "sue", "a new password")
    page = web.client().get("/login")
    assert web.client().post("/login", data={"username": "sue", "password": PASSWORD,
                                             "csrf_token": csrf_of(page.text)}
                             ).status_code in (401, 403)
    r = c.post("/users/password?lang=en", data={"csrf_token": csrf, "name": "sue",
                                                "password": "short"})
    assert r.status_code == 400
    (log,) = _audit(web, "user.password")
    assert "a new password" not in log.detail
    # token: shown once, never stored, works for the API
    r = c.post("/users/token", data={"csrf_token": csrf, "name": "sam"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = _text(r.text, "data-token-value")
    with session_scope(web.app.state.engine) as s:
        assert accounts.user_for_token(s, token=token).name == "sam"
    assert token not in c.get("/users").text
    assert all(token not in a.detail for a in _audit(web))
    assert [a.target for a in _audit(web, "token.issue")] == ["user:sam"]
    for a in _audit(web):
        if a.action in ("user.role", "user.password", "token.issue"):
            assert a.user_id == _user(web, "ada").id


def test_resetting_ones_own_password_signs_in_again(web):
    c, csrf = _admin(web)
    r = c.post("/users/password", data={"csrf_token": csrf, "name": "ada",
                                        "password": "my new password"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert not _signed_in(c)
    login(c, "ada", "my new password")


# --- audit log ---------------------------------------------------------------------------
def test_audit_log_newest_first_filtered_and_paged(web):
    c, csrf = _admin(web)
    web.client("sam")
    ada = _user(web, "ada")
    with session_scope(web.app.state.engine) as s:
        for i in range(70):
            accounts.audit(s, user=ada, action="test.bulk", target=f"n:{i:03d}")
    c.post("/users/active", data={"csrf_token": csrf, "name": "sue", "active": "false"})
    page = c.get("/audit")
    actions = re.findall(r'data-audit-row="([^"]+)"', page.text)
    assert len(actions) == admin.AUDIT_PER_PAGE and actions[0] == "user.deactivate"
    bulk = c.get("/audit?action=test.bulk")
    targets = re.findall(r"<td>(n:\d+)</td>", bulk.text)
    assert targets[:3] == ["n:069", "n:068", "n:067"] and len(targets) == 50
    assert 'href="/audit?action=test.bulk&amp;page=2"' in bulk.text
    second = c.get("/audit?action=test.bulk&page=2")
    assert re.findall(r"<td>(n:\d+)</td>", second.text) == [f"n:{i:03d}"
                                                            for i in range(19, -1, -1)]
    assert "page=3" not in second.text
    sam = c.get("/audit?user=sam")
    assert set(re.findall(r'data-audit-row="([^"]+)"', sam.text)) == {"login"}
    none = c.get("/audit?action=nothing.like.this")
    assert re.findall(r'data-audit-row="([^"]+)"', none.text) == []
    assert c.get("/audit?page=999").status_code == 200
    assert c.get("/audit?page=abc").status_code == 422


def test_the_admin_pages_render_in_both_languages(web):
    c = web.client("ada")
    words = {"zh-CN": {"/import": "数据导入", "/settings": "工作区设置", "/users": "新增用户",
                       "/audit": "审计日志"},
             "en": {"/import": "Data import", "/settings": "Workspace settings",
                    "/users": "Add a user", "/audit": "Audit log"}}
    for lang, pages in words.items():
        for path, word in pages.items():
            r = c.get(f"{path}?lang={lang}")
            assert r.status_code == 200 and word in r.text, (lang, path)
            assert f'<html lang="{lang}">' in r.text
