"""``churnradar user add`` / ``user token`` through Typer's CliRunner, in both languages,
on SQLite (the workspace's app.db) and PostgreSQL (CHURNRADAR_DATABASE_URL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from churnradar.cli import build_app
from churnradar.web.accounts import authenticate, user_for_token
from churnradar.web.db import make_engine, session_scope
from churnradar.web.models import AuditLog, User

runner = CliRunner()
PW = "s3cret-pass"


def invoke(args, lang="en", input=None):
    return runner.invoke(build_app(lang), args, input=input)


def _han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("command", [["user"], ["user", "add"], ["user", "token"]])
def test_help_in_both_languages(command):
    zh = invoke([*command, "--help"], lang="zh-CN")
    en = invoke([*command, "--help"], lang="en")
    assert zh.exit_code == 0 and en.exit_code == 0, zh.output + en.output
    assert _han(zh.stdout) and not _han(en.stdout)
    assert "user" in invoke(["--help"]).stdout


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_user_add_and_token(appdb, lang):
    root = str(appdb.root)
    r = invoke(["user", "add", root, "admin", "--role", "admin", "--password-stdin",
                "--lang", lang], lang=lang, input=PW + "\n")
    assert r.exit_code == 0, r.output
    if lang == "en":
        assert "Created user admin (role: admin)" in r.stdout
    else:
        assert "已创建用户 admin（角色：admin）" in r.stdout
    assert PW not in r.output
    r = invoke(["user", "add", root, "li", "--role", "sales", "--owner-id", "S07",
                "--password-stdin", "--lang", lang], lang=lang, input=PW)
    assert r.exit_code == 0, r.output
    assert "S07" in r.stdout

    r = invoke(["user", "token", root, "li", "--lang", lang], lang=lang)
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert len(token) >= 43 and "\n" not in token  # stdout is the token alone
    assert ("shown this once" if lang == "en" else "只显示这一次") in r.stderr

    engine = make_engine(appdb.url)
    try:
        with session_scope(engine) as s:
            assert authenticate(s, name="admin", password=PW) is not None
            li = user_for_token(s, token=token)
            assert li is not None and li.name == "li" and li.role == "sales"
            assert li.owner_id == "S07"
            actions = s.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
            assert actions == ["user.create", "user.create", "token.issue"]
            assert token not in "".join(s.scalars(sa.select(AuditLog.detail)))
    finally:
        engine.dispose()
    if appdb.backend == "sqlite":
        assert (appdb.root / "app.db").is_file()
    else:  # the PostgreSQL database holds the state; the workspace has no app.db
        assert not (appdb.root / "app.db").exists()


@pytest.mark.parametrize(("lang", "needle"), [
    ("en", "never given on the command line"), ("zh-CN", "密码不能写在命令行上")])
def test_user_add_refuses_a_password_without_stdin(appdb, lang, needle):
    r = invoke(["user", "add", str(appdb.root), "ann", "--role", "admin", "--lang", lang],
               lang=lang, input=PW)
    assert r.exit_code == 1 and needle in r.output
    assert "Traceback" not in r.output
    # a password given as an argument is not even an option
    r = invoke(["user", "add", str(appdb.root), "ann", "--role", "admin", "--password", PW],
               lang=lang)
    assert r.exit_code != 0
    _no_users(appdb)


@pytest.mark.parametrize(("args", "stdin", "en", "zh"), [
    (["--role", "boss"], PW, "the role must be one of admin, manager, sales", "角色必须是"),
    (["--role", "sales"], PW, "needs --owner-id", "需要 --owner-id"),
    (["--role", "admin"], "short", "at least 8 characters", "至少需要 8 个字符"),
    (["--role", "admin"], "\n", "no password on standard input", "标准输入里没有密码"),
])
def test_user_add_errors_in_both_languages(appdb, args, stdin, en, zh):
    for lang, needle in (("en", en), ("zh-CN", zh)):
        r = invoke(["user", "add", str(appdb.root), "ann", *args, "--password-stdin",
                    "--lang", lang], lang=lang, input=stdin)
        assert r.exit_code == 1, r.output
        assert needle in r.output and "Traceback" not in r.output
    _no_users(appdb)


def test_duplicate_user_and_unknown_token_user(appdb):
    root = str(appdb.root)
    ok = invoke(["user", "add", root, "ann", "--role", "manager", "--password-stdin"],
                input=PW)
    assert ok.exit_code == 0, ok.output
    again = invoke(["user", "add", root, "ann", "--role", "admin", "--password-stdin",
                    "--lang", "zh-CN"], lang="zh-CN", input=PW)
    assert again.exit_code == 1 and "用户 ann 已存在" in again.output
    r = invoke(["user", "token", root, "bob"])
    assert r.exit_code == 1 and "no active user named bob" in r.output


def test_user_commands_need_a_workspace(tmp_path):
    r = invoke(["user", "token", str(tmp_path / "none"), "ann"])
    assert r.exit_code == 1 and "not a churnradar workspace" in r.output


def _no_users(appdb) -> None:
    engine = make_engine(appdb.url)
    try:
        with engine.connect() as conn:
            if sa.inspect(conn).has_table("users"):
                with session_scope(engine, readonly=True) as s:
                    assert s.scalars(sa.select(User)).all() == []
    finally:
        engine.dispose()
