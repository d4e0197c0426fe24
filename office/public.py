"""Public pages, no sign-in: the region map, a page per settlement, the complaint form, the look-up by
talon number and the open-data downloads (kk/ru). Settlement-level facts only (:mod:`.public_data`);
the complaint form registers through cases' public API (:mod:`.public_intake`)."""

from __future__ import annotations

import csv
import io
import json
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from .public_cache import Answer

from .public_data import (case_counts, csv_cell, map_data, open_data_columns, open_data_rows, open_geojson, operators,
                          receipt_status, service_label, settlement_summary)
from .public_intake import MAX_DESCRIPTION, MAX_FIELD, PublicFormError, register
from .web import Ctx, error_page, route

#: characters of a talon number typed into the look-up
MAX_TALON = 40
#: settlements offered by the autocomplete
SEARCH_LIMIT = 10
#: public pages may be cached this many seconds by browsers and proxies
PUBLIC_MAX_AGE = 60
HTML = "text/html; charset=utf-8"


def _json(data, status: int = 200, max_age: int = PUBLIC_MAX_AGE) -> JSONResponse:
    r = JSONResponse(data, status_code=status)
    r.headers["Cache-Control"] = f"public, max-age={max_age}"
    return r


def _choices(lang: str) -> dict:
    from ..cases.models import SERVICES

    ops = sorted(operators().items(), key=lambda kv: kv[1]["name"].lower())
    return {"operators": [(code, v["name"]) for code, v in ops],
            "services": [(s, service_label(s, lang)) for s in SERVICES]}


@route("/", name="public_map")
def public_map(ctx: Ctx):
    return ctx.render("public/map.html", counts=case_counts(ctx.office))


@route("/public/map.json", name="public_map_json")
def public_map_json(ctx: Ctx):
    return _json(map_data(ctx.office, ctx.lang))


@route("/public/search.json", name="public_search")
def public_search(ctx: Ctx):
    q = (ctx.query.get("q") or "").strip()[:MAX_FIELD]
    found = ctx.office.gazetteer.search(q, limit=SEARCH_LIMIT) if len(q) >= 2 else []
    return _json({"settlements": [{"kato": s.kato, "name": s.name_kk if ctx.lang == "kk" else s.name_ru,
                                   "district": s.district_name_kk if ctx.lang == "kk" else s.district_name_ru}
                                  for s in found]})


@route("/public/settlements/{kato}", name="public_settlement", example={"kato": "611010000"})
async def public_settlement(ctx: Ctx):
    kato = ctx.params["kato"]
    if not (len(kato) == 9 and kato.isdigit()):
        return error_page(ctx.office, ctx.request, 404, "error_not_found")
    if ctx.user is not None:
        # a signed-in page carries the user's name and CSRF token: rendered for them alone, never kept or shared
        answer = await run_in_threadpool(_settlement_answer, ctx, kato)
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type,
                        headers={"Cache-Control": "private, no-store"})
    return await ctx.office.public_cache.serve(ctx.request, ("settlement", kato, ctx.lang),
                                               lambda: _settlement_answer(ctx, kato),
                                               f"public, max-age={PUBLIC_MAX_AGE}")


def _settlement_answer(ctx: Ctx, kato: str) -> Answer:
    """The settlement page in ``ctx.lang`` (404 page, not kept, for a KATO the gazetteer does not know)."""
    try:
        info = settlement_summary(ctx.office, kato, ctx.lang, kept=ctx.user is not None)
    except Exception:  # unknown KATO: the gazetteer's error carries no data worth showing
        r = error_page(ctx.office, ctx.request, 404, "error_not_found")
        return Answer(bytes(r.body), HTML, status=r.status_code, keep=False)
    r = ctx.render("public/settlement.html", s=info)
    # the language may come from the lang cookie: a shared cache must not hand a kk page to a ru reader
    return Answer(bytes(r.body), HTML, headers={"Vary": "Cookie"})


FORM_FIELDS = ("kato", "place", "operator", "service", "description", "name", "iin", "postal_address", "phone", "email",
               "submission")


def _form_values(ctx: Ctx) -> dict:
    return {k: ctx.field(k) for k in FORM_FIELDS}


@route("/public/complaint", name="public_complaint", methods=("GET", "POST"), rate="public_post")
def public_complaint(ctx: Ctx):
    if ctx.request.method == "GET":
        values = {**{k: "" for k in FORM_FIELDS}, "submission": secrets.token_hex(16)}
        kato = (ctx.query.get("kato") or "")[:9]
        if kato.isdigit():
            try:
                s = ctx.office.gazetteer.get(kato)
                values.update(kato=kato, place=s.name_kk if ctx.lang == "kk" else s.name_ru)
            except Exception:
                pass
        return ctx.render("public/complaint.html", values=values, bad=[], max_description=MAX_DESCRIPTION,
                          max_field=MAX_FIELD, **_choices(ctx.lang))
    values = _form_values(ctx)
    try:
        out = register(ctx.office, language=ctx.lang, **{k: v for k, v in values.items()})
    except PublicFormError as exc:
        return ctx.render("public/complaint.html", status=400, values=values, bad=exc.fields,
                          max_description=MAX_DESCRIPTION, max_field=MAX_FIELD, **_choices(ctx.lang))
    r = ctx.render("public/complaint_done.html", talon=out["talon"], due=out["due"], received=out["received"])
    r.headers["Cache-Control"] = "no-store"
    return r


@route("/public/receipt", name="public_receipt", methods=("GET", "POST"), rate="lookup")
def public_receipt(ctx: Ctx):
    if ctx.request.method == "GET":
        return ctx.render("public/receipt.html", talon="", found=None, asked=False)
    talon = ctx.field("talon").upper()[:MAX_TALON]
    found = receipt_status(ctx.office, talon, ctx.lang) if talon else None
    r = ctx.render("public/receipt.html", status=200 if found else 404, talon=talon, found=found, asked=True)
    r.headers["Cache-Control"] = "no-store"
    return r


@route("/public/open-data", name="public_open_data")
def public_open_data(ctx: Ctx):
    return ctx.render("public/opendata.html", columns=open_data_columns())


@route("/public/open-data/settlements.geojson", name="public_open_geojson")
def public_open_geojson(ctx: Ctx):
    body = json.dumps(open_geojson(ctx.office), ensure_ascii=False).encode("utf-8")
    return Response(body, media_type="application/geo+json", headers={
        "Content-Disposition": 'attachment; filename="qamtu-settlements.geojson"',
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"})


@route("/public/open-data/settlements.csv", name="public_open_csv")
def public_open_csv(ctx: Ctx):
    cols = open_data_columns()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for row in open_data_rows(ctx.office):
        w.writerow([csv_cell(row.get(c)) for c in cols])
    return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="qamtu-settlements.csv"',
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"})
