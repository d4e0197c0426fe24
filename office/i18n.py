"""Kazakh and Russian strings of the pages (``office/data/strings.toml``: one table per key, ``kk`` and ``ru``).

The language comes from ``?lang=kk|ru`` (which also sets the ``lang`` cookie), else the cookie, else
Kazakh. Code, logs and docs stay in English; every text a person reads on a page comes from here.
"""

from __future__ import annotations

import functools
import tomllib

from .. import package_path
from .errors import OfficeError

LANGS = ("kk", "ru")
DEFAULT = "kk"


@functools.lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    path = package_path("office", "data", "strings.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key, v in data.items():
        if not isinstance(v, dict) or set(LANGS) - set(v):
            raise OfficeError(f"{path}: string {key!r} needs both kk and ru")
    return data


def t(key: str, lang: str) -> str:
    """The string ``key`` in ``lang`` (the key itself when missing, so a gap shows and a test catches it)."""
    return strings().get(key, {}).get(lang, key)


def pick(request) -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("lang")
    return c if c in LANGS else DEFAULT
