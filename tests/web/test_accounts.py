"""Accounts (web.accounts) on SQLite and PostgreSQL: password hashing, roles, the sales
owner rule, duplicate names, API tokens stored hashed, and the audit log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from churnradar.exceptions import InputError
from churnradar.web import accounts
from churnradar.web.accounts import (
    authenticate,
    create_user,
    hash_password,
    hash_token,
    issue_token,
    user_for_token,
    verify_password,
)
from churnradar.web.db import session_scope
from churnradar.web.models import ApiToken, AuditLog, User

PW = "correct horse battery"


def _audit(engine) -> list[AuditLog]:
    with session_scope(engine, readonly=True) as s:
        return list(s.scalars(sa.select(AuditLog).order_by(AuditLog.id)))


# --- passwords (no database) -------------------------------------------------------
def test_password_hash_is_argon2id_and_never_the_password():
    h = hash_password(PW)
    assert h.startswith("$argon2id$") and PW not in h
    assert hash_password(PW) != h  # salted
    assert verify_password(h, PW)
    assert not verify_password(h, PW + "!")
    assert not verify_password(h, "")
    assert not verify_password("not-a-hash", PW)
    assert not accounts.needs_rehash(h)


# --- users -------------------------------------------------------------------------
def test_create_users_of_each_role(engine):
    with session_scope(engine) as s:
        admin = create_user(s, name="admin", role="admin", password=PW)
        create_user(s, name="王经理", role="manager", password=PW, actor=admin)
        create_user(s, name="li", role="sales", password=PW, owner_id=" S07 ", actor=admin)
    with session_scope(engine, readonly=True) as s:
        rows = {u.name: u for u in s.scalars(sa.select(User))}
    assert {n: u.role for n, u in rows.items()} == {"admin": "admin", "王经理": "manager",
                                                    "li": "sales"}
    assert rows["li"].owner_id == "S07" and rows["admin"].owner_id is None
    assert all(u.active and u.password_hash.startswith("$argon2id$") for u in rows.values())
    assert all(PW not in u.password_hash for u in rows.values())
    log = _audit(engine)
    assert [(a.action, a.target) for a in log] == [
        ("user.create", "user:admin"), ("user.create", "user:王经理"), ("user.create", "user:li")]
    assert log[0].user_id is None and log[1].user_id == rows["admin"].id
    assert json.loads(log[2].detail) == {"role": "sales", "owner_id": "S07"}
    assert all(PW not in a.detail for a in log)
    assert all(a.at.tzinfo is not None for a in log)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "boss"}, "the role must be one of admin, manager, sales, got 'boss'"),
    ({"role": "sales"}, "needs --owner-id"),
    ({"role": "sales", "owner_id": "  "}, "needs --owner-id"),
    ({"password": "short12"}, "at least 8 characters"),
    ({"name": ""}, "not valid"),
    ({"name": " ann"}, "not valid"),
    ({"name": "a\nb"}, "not valid"),
    ({"name": "x" * 101}, "not valid"),
])
def test_create_user_refuses_bad_input(engine, kwargs, message):
    args = {"name": "ann", "role": "manager", "password": PW, **kwargs}
    with pytest.raises(InputError, match=message), session_scope(engine) as s:
        create_user(s, **args)
    assert _audit(engine) == []


def test_duplicate_user_name_is_refused_in_both_languages(engine):
    with session_scope(engine) as s:
        create_user(s, name="ann", role="admin", password=PW)
    with pytest.raises(InputError) as info, session_scope(engine) as s:
        create_user(s, name="ann", role="sales", owner_id="S1", password=PW + "2")
    assert str(info.value) == "the user ann exists already. Suggestion: choose another name"
    assert info.value.localized("zh-CN") == "用户 ann 已存在。建议：换一个用户名"
    with session_scope(engine, readonly=True) as s:
        assert s.scalars(sa.select(User.role)).all() == ["admin"]
    assert len(_audit(engine)) == 1


def test_duplicate_found_by_the_database_too(engine, monkeypatch):
    """Two creations racing past the name check: the unique index decides, and the
    loser gets the same clear message (its transaction stays usable)."""
    with session_scope(engine) as s:
        create_user(s, name="ann", role="admin", password=PW)
    monkeypatch.setattr(accounts, "get_user", lambda session, *, name: None)
    with session_scope(engine) as s:
        with pytest.raises(InputError, match="exists already"):
            create_user(s, name="ann", role="manager", password=PW)
        s.add(AuditLog(at=accounts.utcnow(), action="still", target="usable", detail="{}"))
    assert [a.action for a in _audit(engine)] == ["user.create", "still"]


def test_authenticate(engine):
    with session_scope(engine) as s:
        create_user(s, name="ann", role="manager", password=PW)
        create_user(s, name="gone", role="manager", password=PW)
        s.scalars(sa.select(User).where(User.name == "gone")).one().active = False
    with session_scope(engine) as s:
        user = authenticate(s, name="ann", password=PW)
        assert user is not None and user.name == "ann"
        assert authenticate(s, name="ann", password=PW.upper()) is None
        assert authenticate(s, name="nobody", password=PW) is None
        assert authenticate(s, name="gone", password=PW) is None


def test_authenticate_rehashes_an_outdated_hash(engine):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PW)
    with session_scope(engine) as s:
        create_user(s, name="ann", role="manager", password=PW)
        s.scalars(sa.select(User)).one().password_hash = weak
    with session_scope(engine) as s:
        assert authenticate(s, name="ann", password=PW) is not None
    with session_scope(engine, readonly=True) as s:
        new = s.scalars(sa.select(User.password_hash)).one()
    assert new != weak and verify_password(new, PW) and not accounts.needs_rehash(new)


# --- API tokens --------------------------------------------------------------------
def test_tokens_are_stored_hashed_and_resolve_to_their_user(engine):
    with session_scope(engine) as s:
        admin = create_user(s, name="admin", role="admin", password=PW)
        create_user(s, name="li", role="sales", owner_id="S1", password=PW)
    with session_scope(engine) as s:
        token = issue_token(s, name="li", actor=admin)
        token2 = issue_token(s, name="li")
    assert token != token2 and len(token) >= 43  # 32 random bytes, base64url
    with session_scope(engine, readonly=True) as s:
        stored = s.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
    assert [r.token_hash for r in stored] == [hash_token(token), hash_token(token2)]
    assert all(token not in r.token_hash and r.last_used_at is None for r in stored)
    with session_scope(engine) as s:
        user = user_for_token(s, token=token)
        assert user is not None and user.name == "li" and user.owner_id == "S1"
        assert user_for_token(s, token=token + "x") is None
        assert user_for_token(s, token="") is None
        assert user_for_token(s, token=hash_token(token)) is None  # the hash is no token
    with session_scope(engine, readonly=True) as s:
        used = s.get(ApiToken, stored[0].id)
        assert used is not None and used.last_used_at is not None
        assert dt.datetime.now(dt.UTC) - used.last_used_at < dt.timedelta(minutes=5)
    log = [(a.action, a.target, a.user_id) for a in _audit(engine)][2:]
    assert log == [("token.issue", "user:li", admin.id), ("token.issue", "user:li", None)]
    assert all(token not in a.detail and hash_token(token) not in a.detail
               for a in _audit(engine))


def test_tokens_of_inactive_or_unknown_users(engine):
    with session_scope(engine) as s:
        create_user(s, name="ann", role="manager", password=PW)
        token = issue_token(s, name="ann")
    with pytest.raises(InputError, match="no active user named bob"), \
            session_scope(engine) as s:
        issue_token(s, name="bob")
    with session_scope(engine) as s:
        s.scalars(sa.select(User)).one().active = False
    with session_scope(engine) as s:
        assert user_for_token(s, token=token) is None
        with pytest.raises(InputError, match="no active user named ann"):
            issue_token(s, name="ann")


def test_audit_rows(engine):
    with session_scope(engine) as s:
        ann = create_user(s, name="ann", role="admin", password=PW)
        row = accounts.audit(s, user=ann, action="settings.change", target="settings:margin",
                             detail={"old": 0.05, "new": 0.04, "说明": "毛利率"})
    with session_scope(engine, readonly=True) as s:
        got = s.get(AuditLog, row.id)
    assert got is not None and got.user_id == ann.id and got.action == "settings.change"
    assert json.loads(got.detail) == {"old": 0.05, "new": 0.04, "说明": "毛利率"}
