"""Demo users for ``qamtu demo``: one account per role in the demo's store, marked DEMO, with a
generated password that is printed once (only its argon2id hash is stored)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from . import auth


def create_demo_users(db: Path | str) -> list[dict[str, Any]]:
    """``[{"name", "role", "password"}]`` for ``demo-<role>`` users created now (``password`` None for
    one that existed already: its password was printed when it was made)."""
    from ..store import open_store

    out = []
    with open_store(db, create=True) as store:
        have = {u["name"] for u in auth.users(store)}
        for role in auth.ROLES:
            name = f"demo-{role}"
            if name in have:
                out.append({"name": name, "role": role, "password": None})
                continue
            password = secrets.token_urlsafe(12)
            auth.add_user(store, name, role, password, by="qamtu demo", demo=True)
            out.append({"name": name, "role": role, "password": password})
    return out


def office_command(db: Path | str) -> str:
    return f"qamtu office serve --db {db}"
