"""The web app (design.md, ``web``): its own state in ``app.db`` (users, API tokens,
retention tasks, audit log) and, on top, the FastAPI pages and JSON API.

So far: storage (:mod:`churnradar.web.db`, :mod:`churnradar.web.models`, Alembic
migrations in ``migrations/``) and accounts (:mod:`churnradar.web.accounts`). Nothing in
here imports FastAPI, so ``churnradar user ...`` runs without the ``web`` extra.
"""
