"""Accounts: users and their roles, passwords, API tokens and the audit log.

Data-access functions, keyword-only and HTTP-free (style.md §6): each takes a
:class:`~sqlalchemy.orm.Session`, adds or changes rows and flushes; the caller commits
(:func:`churnradar.web.db.session_scope`). Every change writes an :class:`AuditLog` row.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's low-memory
profile); a hash made with older parameters is replaced at the next successful sign-in.
API tokens are 256-bit random strings shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from churnradar.exceptions import InputError
from churnradar.web.models import ROLES, ApiToken, AuditLog, User, utcnow

MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 100
#: a token's last_used_at is written at most this often (a read stays a read)
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)

_hasher = PasswordHasher()
#: verified against when the user does not exist, so that the answer takes as long
_DUMMY_HASH = _hasher.hash("churnradar-no-such-user")


# --- passwords -------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (``$argon2id$v=19$m=...``)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def hash_token(token: str) -> str:
    """SHA-256 (hex) of an API token: what is stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- audit -----------------------------------------------------------------------------
def audit(session: Session, *, user: User | None, action: str, target: str,
          detail: dict[str, Any] | None = None) -> AuditLog:
    """Record that ``user`` (None: the command line or the system) did ``action`` to
    ``target``; ``detail`` is kept as JSON. Never put a secret in ``detail``."""
    row = AuditLog(at=utcnow(), user_id=None if user is None else user.id, action=action,
                   target=target,
                   detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True,
                                     default=str))
    session.add(row)
    session.flush()
    return row


# --- users -----------------------------------------------------------------------------
def get_user(session: Session, *, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def _check_user(*, name: str, role: str, password: str, owner_id: str | None) -> None:
    if (not name or len(name) > MAX_NAME_LENGTH or name != name.strip()
            or not all(ch.isprintable() for ch in name)):
        raise InputError(key="web_err_user_name", name=name, max=MAX_NAME_LENGTH)
    if role not in ROLES:
        raise InputError(key="web_err_role", role=role, choices=", ".join(ROLES))
    if role == "sales" and not owner_id:
        raise InputError(key="web_err_sales_owner", name=name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(key="web_err_password_short", min=MIN_PASSWORD_LENGTH)


def create_user(session: Session, *, name: str, role: str, password: str,
                owner_id: str | None = None, actor: User | None = None) -> User:
    """Add a user.

    Raises
    ------
    InputError
        Unknown role; a ``sales`` user without ``owner_id`` (it decides which customers
        they see); a password shorter than 8 characters; an empty or overlong name; a
        name that is taken.
    """
    owner_id = owner_id.strip() if owner_id else None
    _check_user(name=name, role=role, password=password, owner_id=owner_id)
    if get_user(session, name=name) is not None:
        raise InputError(key="web_err_user_exists", name=name)
    user = User(name=name, role=role, owner_id=owner_id, password_hash=hash_password(password),
                active=True, created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # created by someone else since the check above
        raise InputError(key="web_err_user_exists", name=name) from None
    audit(session, user=actor, action="user.create", target=f"user:{name}",
          detail={"role": role, "owner_id": owner_id})
    return user


def authenticate(session: Session, *, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None (same time either
    way). A hash made with older parameters is replaced by a new one."""
    user = get_user(session, name=name)
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


# --- API tokens ------------------------------------------------------------------------
def issue_token(session: Session, *, name: str, actor: User | None = None) -> str:
    """A new API token for the active user ``name``. Only its hash is stored: the
    returned token cannot be shown again."""
    user = get_user(session, name=name)
    if user is None or not user.active:
        raise InputError(key="web_err_no_user", name=name)
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=utcnow())
    session.add(row)
    session.flush()
    audit(session, user=actor, action="token.issue", target=f"user:{name}",
          detail={"token_id": row.id})
    return token


def token_holder(session: Session, *, token: str) -> tuple[ApiToken, User] | None:
    """The token row and its active user, else None; reads only (no write lock)."""
    if not token:
        return None
    found = session.execute(  # one query (it runs on every API call)
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token))).one_or_none()
    if found is None:
        return None
    row, user = found
    if not user.active:
        return None
    return row, user


def token_touch_due(row: ApiToken) -> bool:
    """Whether the token's last use is older than :data:`TOKEN_TOUCH_INTERVAL`."""
    return row.last_used_at is None or utcnow() - row.last_used_at >= TOKEN_TOUCH_INTERVAL


def touch_token(session: Session, *, token_id: int) -> None:
    """Note that the token was used now."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()
        session.flush()


def user_for_token(session: Session, *, token: str) -> User | None:
    """The active user holding ``token``, else None; notes when it was last used."""
    found = token_holder(session, token=token)
    if found is None:
        return None
    row, user = found
    if token_touch_due(row):
        touch_token(session, token_id=row.id)
    return user


# --- user administration (the admin pages) ----------------------------------------------
def list_users(session: Session) -> list[User]:
    """Every user, active or not, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def _existing_user(session: Session, name: str) -> User:
    user = get_user(session, name=name)
    if user is None:
        raise InputError(key="web_ad_err_no_user", name=name)
    return user


def _other_active_admins(session: Session, user: User) -> int:
    """Active admins other than ``user``, their rows locked (PostgreSQL) so that two
    concurrent changes cannot both remove "the other" admin."""
    rows = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                 User.id != user.id).with_for_update())
    return len(list(rows))


def _sign_out(session: Session, user: User) -> None:
    from churnradar.web.sessions import end_user_sessions  # sessions imports this module

    end_user_sessions(session, user_id=user.id)


def set_role(session: Session, *, name: str, role: str, owner_id: str | None,
             actor: User | None = None) -> User:
    """Change the role and ``owner_id`` of user ``name``. Their sessions end (their
    rights changed: they sign in again). No change, no audit row.

    Raises
    ------
    InputError
        No such user; an unknown role; ``sales`` without ``owner_id``; an admin changing
        their own role; the last active admin losing the role.
    """
    user = _existing_user(session, name)
    owner_id = owner_id.strip() if owner_id else None
    if role not in ROLES:
        raise InputError(key="web_err_role", role=role, choices=", ".join(ROLES))
    if role == "sales" and not owner_id:
        raise InputError(key="web_ad_err_sales_owner", name=name)
    if owner_id is not None and len(owner_id) > MAX_NAME_LENGTH:
        raise InputError(key="web_ad_err_owner_id", max=MAX_NAME_LENGTH)
    if role == user.role and owner_id == user.owner_id:
        return user
    if role != user.role:
        if actor is not None and actor.id == user.id:
            raise InputError(key="web_ad_err_own_role")
        if user.role == "admin" and user.active and _other_active_admins(session, user) == 0:
            raise InputError(key="web_ad_err_last_admin", name=name)
    detail = {"role": [user.role, role], "owner_id": [user.owner_id, owner_id]}
    user.role, user.owner_id = role, owner_id
    session.flush()
    _sign_out(session, user)
    audit(session, user=actor, action="user.role", target=f"user:{name}", detail=detail)
    return user


def set_active(session: Session, *, name: str, active: bool,
               actor: User | None = None) -> User:
    """Deactivate (``active=False``: signed out everywhere, API tokens stop working, the
    password no longer signs in) or reactivate user ``name``.

    Raises
    ------
    InputError
        No such user; an admin deactivating themself; the last active admin.
    """
    user = _existing_user(session, name)
    if user.active == active:
        return user
    if not active:
        if actor is not None and actor.id == user.id:
            raise InputError(key="web_ad_err_self_deactivate")
        if user.role == "admin" and _other_active_admins(session, user) == 0:
            raise InputError(key="web_ad_err_last_admin", name=name)
    user.active = active
    session.flush()
    if not active:
        _sign_out(session, user)
    audit(session, user=actor, action="user.activate" if active else "user.deactivate",
          target=f"user:{name}")
    return user


def set_password(session: Session, *, name: str, password: str,
                 actor: User | None = None) -> User:
    """Give user ``name`` a new password; their sessions end (they sign in again).

    Raises
    ------
    InputError
        No such user; a password shorter than 8 characters.
    """
    user = _existing_user(session, name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(key="web_err_password_short", min=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(password)
    session.flush()
    _sign_out(session, user)
    audit(session, user=actor, action="user.password", target=f"user:{name}")
    return user


# --- reading the audit log ----------------------------------------------------------------
@dataclass
class AuditEntry:
    """One audit row with the name of who did it (None: the command line or the system)."""

    id: int
    at: dt.datetime
    user: str | None
    action: str
    target: str
    detail: dict[str, Any]


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_audit(session: Session, *, action: str | None = None, user: str | None = None,
               page: int = 1, per_page: int = 50) -> AuditPage:
    """The audit log, newest first, one page; ``action`` and ``user`` (a user name)
    filter it."""
    page, per_page = max(1, page), min(max(1, per_page), 500)
    where = []
    if action:
        where.append(AuditLog.action == action)
    if user:
        where.append(User.name == user)
    base = select(AuditLog, User.name).outerjoin(User, User.id == AuditLog.user_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    result = session.execute(base.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                             .offset((page - 1) * per_page).limit(per_page))
    rows = []
    for log, who in result:
        try:
            detail = json.loads(log.detail or "{}")
        except ValueError:
            detail = {"text": log.detail}
        rows.append(AuditEntry(id=log.id, at=log.at, user=who, action=log.action,
                               target=log.target,
                               detail=detail if isinstance(detail, dict) else {"value": detail}))
    return AuditPage(rows=rows, total=int(total), page=page, per_page=per_page)


def audit_actions(session: Session) -> list[str]:
    """The actions found in the audit log (for the filter)."""
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
