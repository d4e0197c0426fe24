"""Finished public answers kept in memory (qamtu.office.public_cache): the cache itself (freshness,
stale-while-rebuilding with its bound, one rebuild per key, refusals not kept, memory bound, gzip,
ETag) and, over real HTTP on loopback, the settlement page and Open311 GET requests served from it:
keyed by language, dropped at once by a registration through the app, a change behind the app's
back shown within the stated time, signed-in pages never kept, no personal data in what is kept."""

from __future__ import annotations

import asyncio
import gzip
import re
import threading
import time

import httpx
import pytest
from conftest import settlement_feature
from office_support import PASSWORD, app_for, csrf_of, running, signed_in
from starlette.requests import Request

from qamtu.cases import records
from qamtu.cases.models import Applicant, ComplaintFacts
from qamtu.cases.registers import appeals
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.office import auth
from qamtu.office.public_cache import Answer, PublicCache
from qamtu.office.public_data import today_kz
from qamtu.store import open_store

KATO = "611010000"
PERSON = {"name": "Кешбаева Айжамал Нурланкызы", "postal_address": "ул. Единственная 8123, кв. 7",
          "phone": "+77017654321"}


# ------------------------------------------------------------------------------ the cache alone
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _request(**headers: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/x", "query_string": b"",
                    "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]})


def _builder(texts: list[str], delay: float = 0.0):
    calls = []

    def build() -> Answer:
        calls.append(threading.get_ident())
        time.sleep(delay)
        return Answer((texts[min(len(calls), len(texts)) - 1] * 200).encode(), "text/plain")

    return build, calls


def test_fresh_answers_are_kept_then_served_stale_while_one_rebuild_runs_then_waited_for():
    clock = Clock()
    cache = PublicCache(ttl=10, max_stale=30, clock=clock)
    build, calls = _builder(["one", "two", "three"])

    async def go():
        body = lambda r: r.body[:3]  # noqa: E731
        assert body(await cache.serve(_request(), "k", build, "public")) == b"one"
        clock.now += 9.9
        assert body(await cache.serve(_request(), "k", build, "public")) == b"one" and len(calls) == 1
        clock.now += 0.2   # past the ttl: the old answer now, one rebuild in the background
        assert body(await cache.serve(_request(), "k", build, "public")) == b"one"
        assert body(await cache.serve(_request(), "k", build, "public")) == b"one"
        for _ in range(100):
            await asyncio.sleep(0.01)
            if cache.stats["built"] == 2:
                break
        assert len(calls) == 2
        assert body(await cache.serve(_request(), "k", build, "public")) == b"two"
        clock.now += 10 + 30 + 1   # past ttl + max_stale: never served that old; the request waits
        assert body(await cache.serve(_request(), "k", build, "public")) == b"thr"
        assert len(calls) == 3 and cache.stats["stale"] == 2

    asyncio.run(go())


def test_a_cold_key_is_built_once_for_all_who_ask_at_the_same_time():
    cache = PublicCache()
    build, calls = _builder(["slow"], delay=0.2)

    async def go():
        return await asyncio.gather(*(cache.serve(_request(), "k", build, "public") for _ in range(12)))

    answers = asyncio.run(go())
    assert len(calls) == 1 and {a.body for a in answers} == {b"slow" * 200}


def test_refusals_are_answered_not_kept_and_errors_reach_every_waiter():
    cache = PublicCache()
    n = []

    def refuse() -> Answer:
        n.append(1)
        return Answer(b"no", "text/plain", status=404, keep=False)

    def broken() -> Answer:
        raise RuntimeError("bug")

    async def go():
        for _ in range(3):
            assert (await cache.serve(_request(), "r", refuse, "public")).status_code == 404
        with pytest.raises(RuntimeError):
            await cache.serve(_request(), "b", broken, "public")

    asyncio.run(go())
    assert len(n) == 3 and len(cache) == 0


def test_clear_drops_everything_and_an_answer_built_across_a_clear_is_not_kept():
    cache = PublicCache()
    started, release = threading.Event(), threading.Event()

    def slow() -> Answer:
        started.set()
        release.wait(5)
        return Answer(b"old data", "text/plain")

    async def go():
        task = asyncio.ensure_future(cache.serve(_request(), "k", slow, "public"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        cache.clear()   # a registration lands while the answer is being built from the old data
        later = await cache.serve(_request(), "k", lambda: Answer(b"new data", "text/plain"), "public")
        assert later.body == b"new data"   # who asks after the clear does not wait for the old build
        release.set()
        assert (await task).body == b"old data"   # the one who asked before gets it ...
        assert cache._entries["k"].answer.body == b"new data"   # ... but it is not kept over the new one

    asyncio.run(go())


def test_memory_is_bounded_oldest_answers_dropped_first():
    cache = PublicCache(max_bytes=10_000)

    async def go():
        for i in range(10):
            await cache.serve(_request(), i, lambda: Answer(bytes(range(256)) * 8, "application/octet-stream"), "p")

    asyncio.run(go())
    assert 0 < len(cache) <= 4 and cache._bytes <= 10_000
    assert list(cache._entries) == list(range(10 - len(cache), 10))


def test_gzip_only_when_accepted_and_etag_gives_304():
    cache = PublicCache()
    text = ("Сайрам ауылы " * 300).encode()

    async def go():
        build = lambda: Answer(text, "text/html; charset=utf-8", headers={"Vary": "Cookie"})  # noqa: E731
        plain = await cache.serve(_request(), "k", build, "public, max-age=60")
        zipped = await cache.serve(_request(accept_encoding="br, gzip;q=0.8"), "k", build, "public, max-age=60")
        refused = await cache.serve(_request(accept_encoding="gzip;q=0"), "k", build, "public, max-age=60")
        etag = plain.headers["etag"]
        again = await cache.serve(_request(if_none_match=f'W/"x", {etag}'), "k", build, "public, max-age=60")
        other = await cache.serve(_request(if_none_match='"other"'), "k", build, "public, max-age=60")
        return plain, zipped, refused, again, other

    plain, zipped, refused, again, other = asyncio.run(go())
    assert plain.body == text and "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip" and gzip.decompress(zipped.body) == text
    assert len(zipped.body) < len(text) / 10
    assert refused.body == text
    assert plain.headers["vary"] == "Cookie, Accept-Encoding" and plain.headers["cache-control"] == "public, max-age=60"
    assert again.status_code == 304 and again.body == b"" and again.headers["etag"] == plain.headers["etag"]
    assert other.status_code == 200 and other.body == text


# ------------------------------------------------------------------------------ the app over HTTP
@pytest.fixture
def gazetteer(write_gazetteer):
    return Gazetteer.load(write_gazetteer([settlement_feature(KATO, 43.301946, 68.27037, kind="city",
                                                              name="Туркестан")]))


@pytest.fixture
def office_site(tmp_path, gazetteer):
    """(base URL, store, the app's PublicCache on a hand-moved clock)."""
    store = open_store(tmp_path / "cache.db", create=True)
    auth.add_user(store, "desk1", "desk", PASSWORD)
    app = app_for(store, tmp_path, gazetteer=gazetteer)
    cache = app.state.office.public_cache
    cache.clock = Clock()
    with running(app) as base:
        yield base, store, cache
    store.close()


def _register_behind_the_app(store, gazetteer, number: str, op: str = "kcell"):
    facts = ComplaintFacts(channel="109", external_number=number, received=today_kz().isoformat(),
                           addressee="inspection", substance="Нет сети совсем", language="ru", address_text="центр",
                           kato=KATO, operators=[op], services=["mobile_internet"], needs_person=False)
    return records.register_complaint(store, facts, Applicant(**PERSON), by="desk1", appeals=appeals(),
                                      gazetteer=gazetteer)


def _open_count(html: str) -> int:
    return int(re.search(r'class="n-open">(\d+)<', html).group(1))


def _wait_built(cache, n: int) -> None:
    deadline = time.monotonic() + 10
    while cache.stats["built"] < n:
        assert time.monotonic() < deadline, "the rebuild did not finish"
        time.sleep(0.02)


def test_settlement_page_is_kept_per_language(office_site):
    base, _store, cache = office_site
    with httpx.Client(base_url=base, timeout=30) as c:
        kk1, kk2 = c.get(f"/public/settlements/{KATO}"), c.get(f"/public/settlements/{KATO}")
        ru = c.get(f"/public/settlements/{KATO}?lang=ru")   # sets the lang cookie
        ru_by_cookie = c.get(f"/public/settlements/{KATO}")
    assert kk1.text == kk2.text and '<html lang="kk">' in kk1.text
    assert '<html lang="ru">' in ru.text and ru_by_cookie.text == ru.text
    assert kk1.headers["etag"] != ru.headers["etag"]
    assert "Cookie" in kk1.headers["vary"] and kk1.headers["cache-control"] == "public, max-age=60"
    assert cache.stats["built"] == 2 and cache.stats["hits"] == 2
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.get(f"/public/settlements/{KATO}", headers={"If-None-Match": kk1.headers["etag"]})
        assert r.status_code == 304 and r.content == b""
        assert c.get("/public/settlements/619999999").status_code == 404
        assert c.get("/public/settlements/619999999").status_code == 404
    assert len(cache) == 2   # unknown settlements answered, not kept


def test_a_registration_through_the_app_shows_at_once(office_site):
    base, _store, cache = office_site
    with httpx.Client(base_url=base, timeout=30) as c:
        before = _open_count(c.get(f"/public/settlements/{KATO}").text)
        n311 = len(c.get("/open311/v2/requests.json").json())
        page = c.get("/public/complaint")
        sub = re.search(r'name="submission" value="([^"]+)"', page.text).group(1)
        r = c.post("/public/complaint", data={"csrf_token": csrf_of(page.text), "submission": sub, "kato": KATO,
                                              "place": "", "operator": "kcell", "service": "mobile_internet",
                                              "description": "Нет связи", "iin": "", "email": "", **PERSON})
        assert r.status_code == 200, r.text[:300]
        assert _open_count(c.get(f"/public/settlements/{KATO}").text) == before + 1
        assert len(c.get("/open311/v2/requests.json").json()) == n311 + 1


def test_a_change_behind_the_apps_back_shows_within_ttl_plus_one_rebuild(office_site, gazetteer):
    base, store, cache = office_site
    with httpx.Client(base_url=base, timeout=30) as c:
        page = lambda: _open_count(c.get(f"/public/settlements/{KATO}").text)  # noqa: E731
        requests = lambda: len(c.get("/open311/v2/requests.json").json())  # noqa: E731
        assert (page(), requests()) == (0, 0)
        _register_behind_the_app(store, gazetteer, "109-behind")   # a CLI or another process writes the store
        cache.clock.now += cache.ttl - 0.5
        assert (page(), requests()) == (0, 0)   # still fresh: kept answers
        built = cache.stats["built"]
        cache.clock.now += 1.0   # past the ttl: the old answers once more while they are rebuilt
        assert (page(), requests()) == (0, 0)
        _wait_built(cache, built + 2)
        assert (page(), requests()) == (1, 1)
        _register_behind_the_app(store, gazetteer, "109-behind-2", op="beeline")
        cache.clock.now += cache.ttl + cache.max_stale + 1   # never older than that: the request waits
        assert (page(), requests()) == (2, 2)


def test_signed_in_pages_are_never_kept_and_no_personal_data_is(office_site, gazetteer):
    base, store, cache = office_site
    _register_behind_the_app(store, gazetteer, "109-pd")
    c = signed_in(base, "desk")
    try:
        staff = c.get(f"/public/settlements/{KATO}")
        token = csrf_of(staff.text)
    finally:
        c.close()
    assert staff.status_code == 200 and "desk1" in staff.text and staff.headers["cache-control"] == "private, no-store"
    assert len(cache) == 0
    with httpx.Client(base_url=base, timeout=30) as anon:
        for u in (f"/public/settlements/{KATO}", f"/public/settlements/{KATO}?lang=ru", "/open311/v2/requests.json",
                  "/open311/v2/requests.xml", "/open311/v2/requests.json?status=open"):
            assert anon.get(u, headers={"Accept-Encoding": "gzip"}).status_code == 200, u
        assert anon.get("/open311/v2/requests.json?status=maybe").status_code == 400
    assert len(cache) == 5
    for entry in cache._entries.values():
        texts = [entry.answer.body.decode()] + ([gzip.decompress(entry.gz).decode()] if entry.gz else [])
        for text in texts:
            for secret in ("desk1", token, *PERSON.values(), "Единственная", "Нет сети", "QT-"):
                assert secret not in text


def test_a_failed_rebuild_keeps_the_old_answer_within_its_bound_and_is_logged(caplog):
    clock = Clock()
    cache = PublicCache(ttl=10, max_stale=30, clock=clock)
    fail = [False]

    def build() -> Answer:
        if fail[0]:
            raise OSError("database is locked")
        return Answer(b"good", "text/plain")

    async def go():
        assert (await cache.serve(_request(), ("k",), build, "p")).body == b"good"
        fail[0] = True
        clock.now += 11
        assert (await cache.serve(_request(), ("k",), build, "p")).body == b"good"
        for _ in range(100):
            await asyncio.sleep(0.01)
            if ("k",) not in cache._building:
                break
        assert (await cache.serve(_request(), ("k",), build, "p")).body == b"good"   # still within ttl + max_stale
        clock.now += 30
        with pytest.raises(OSError):
            await cache.serve(_request(), ("k",), build, "p")

    with caplog.at_level("WARNING", logger="qamtu.office"):
        asyncio.run(go())
    assert "building failed (OSError)" in caplog.text and "locked" not in caplog.text
