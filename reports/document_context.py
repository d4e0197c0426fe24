"""What the act, the protocol and the order say: typed models of their placeholders, and how the
values are made (formatting, legal rules, Kazakh/Russian look-ups), one small function each.

The DOCX templates (``reports/data/templates/{act,protocol,order}_{kk,ru}.docx``) and these models
meet by name: every ``{{ name }}`` of a template is a field of its model (``{{ map_image }}``, the
map excerpt, is added at render time), checked by ``tests/test_document_context.py``; the fields
are listed in docs/inspections.md. Adding a field is a change to the model, the template and
that page.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from .. import package_path
from .common import add_months
from .errors import ReportError
from .inspections import Inspection
from .registers import Registers

DOC_KINDS = ("act", "protocol", "order")
LANGS = ("kk", "ru")
#: placeholders filled at render time, not by the context models
RENDER_FIELDS = ("map_image",)
#: model fields that no bundled template shows, kept for offices' own templates (see docs/inspections.md)
SPARE_FIELDS = frozenset({"deadline_date", "instruments.id", "instruments.demo"})


class DocumentError(ReportError):
    """Documents cannot be made (instrument verification, template, deadline); nothing was written."""


# ------------------------------------------------------------------------------------ models
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorRow(_Model):
    """One row of the results table (``{%tr for r in rows %}``): one technology's finding."""
    tech: str = Field(description="technology label (3G, 4G)")
    threshold: str = Field(description="download threshold, Mbit/s, formatted; '—' when none")
    n: str = Field(description="number of valid speed tests")
    n_below: str = Field(description="tests below the threshold; '—' when not judged")
    share: str = Field(description="share below the threshold, '12.5 %'")
    ci: str = Field(description="95 % interval of the share, '3.1–30.2 %'")
    window: str = Field(description="first – last test, UTC, minutes")
    verdict: str = Field(description="this technology's verdict, in the document's language")


class InstrumentRow(_Model):
    """One row of the instruments table (``{%tr for r in instruments %}``)."""
    id: str = Field(description="instrument id in the register")
    name: str = Field(description="instrument name")
    model: str = Field(description="model")
    serial: str = Field(description="serial number, with ' / IMEI …' for a modem")
    certificate: str = Field(description="verification certificate number")
    cert_date: Optional[str] = Field(description="verification date, YYYY-MM-DD")
    valid_until: Optional[str] = Field(description="verification valid until, YYYY-MM-DD")
    demo: bool = Field(description="a demonstration instrument (not evidence)")


class DocumentContext(_Model):
    """Placeholders every document has: header, office, inspection, operator, place and period,
    results table, notes."""
    synthetic_banner: str = Field(description="warning line on synthetic (demo) data; empty otherwise")
    doc_date: str = Field(description="issue date, YYYY-MM-DD")
    place: str = Field(description="place of issue (office register), or the to-fill line")
    office_name: str = Field(description="the inspecting body (office register)")
    office_address: str = Field(description="its address (office register)")
    inspection_id: str = Field(description="Qamtu inspection id")
    act_number: str = Field(description="number of the appointment act")
    act_registered: str = Field(description="date the appointment act was registered")
    grounds_text: str = Field(description="grounds of the inspection in words (strings.toml)")
    grounds_number: str = Field(description="complaint or demand number")
    grounds_date: str = Field(description="its date")
    inspectors: str = Field(description="inspectors' names, comma-separated")
    operator_name: str = Field(description="operator's legal name (Kazakh where the register has it)")
    operator_brand: str = Field(description="operator's brand")
    operator_bin: str = Field(description="operator's BIN, or the to-fill line")
    operator_address: str = Field(description="operator's address, or the to-fill line")
    operator_registration: str = Field(description="operator's state registration, or the to-fill line")
    operator_bank: str = Field(description="operator's bank details, or the to-fill line")
    operator_category: str = Field(description="business category in words, or the to-fill line")
    settlement: str = Field(description="settlement and district names ('—' without a gazetteer)")
    kato: str = Field(description="KATO code of the settlement")
    address: str = Field(description="address measured")
    window_start: str = Field(description="first speed test, UTC, minutes")
    window_end: str = Field(description="last speed test, UTC, minutes")
    measurement_days: str = Field(description="days with measurements, comma-separated")
    utc: str = Field(description="the word for UTC")
    indicator: str = Field(description="the quality indicator in words")
    rule_set: str = Field(description="coverage rule-set version used")
    verdict_rule: str = Field(description="how a verdict is reached (findings register)")
    rows: list[IndicatorRow] = Field(description="results table, one row per technology")
    verdict_text: str = Field(description="overall verdict in words")
    violation_summary: str = Field(description="violations: counts, shares, intervals, thresholds; '—' when none")
    forms_note: str = Field(description="note on the approved forms (procedure register)")
    indicators_order: str = Field(description="the order that sets the quality indicators (procedure register)")
    register_versions: str = Field(description="versions of every register used")
    notes: list[str] = Field(description="sources and caveats (limitation, synthetic data, uncertain values)")


class ActContext(DocumentContext):
    """The act of results: findings, instruments, map excerpt, checklist."""
    instruments: list[InstrumentRow] = Field(description="instruments table")
    checklist: str = Field(description="the checklist in force and the points to fill (procedure register)")


class ProtocolContext(DocumentContext):
    """The draft protocol under art. 637: article and part, fine, repeat offence, rights."""
    instruments: list[InstrumentRow] = Field(description="instruments table")
    article_no: str = Field(description="article number (art637 register)")
    article_text: str = Field(description="article and part in words; '—' without a legal finding")
    part_substance: str = Field(description="text of the part (art637 register)")
    fine_mci: str = Field(description="fine in MCI; '—' when not computed")
    fine_tenge: str = Field(description="fine in tenge; '—' when not computed")
    mci_note: str = Field(description="MCI value, valid from, source")
    repeat_text: str = Field(description="repeat-offence paragraph; empty when not a repeat")
    jurisdiction_note: str = Field(description="who hears the case (art637 register)")
    language_note: str = Field(description="language of proceedings (procedure register)")
    copy_note: str = Field(description="how the copy is handed over (procedure register)")


class OrderContext(DocumentContext):
    """The order to remedy the violations: what, by when, on what basis."""
    violated_techs: str = Field(description="technologies violated, comma-separated")
    deadline_text: str = Field(description="the deadline in words (days from delivery and the date)")
    deadline_date: str = Field(description="deadline if delivered on the issue date, YYYY-MM-DD")
    order_basis: str = Field(description="legal basis of the deadline (procedure register)")


MODELS: dict[str, type[DocumentContext]] = {"act": ActContext, "protocol": ProtocolContext, "order": OrderContext}


# ------------------------------------------------------------------------------------ language
def templates_dir() -> Path:
    return package_path("reports", "data", "templates")


@lru_cache(maxsize=1)
def _all_strings() -> dict[str, Any]:
    return tomllib.loads((templates_dir() / "strings.toml").read_text(encoding="utf-8"))


def strings(lang: str) -> dict[str, Any]:
    """Words put into placeholders (``templates/strings.toml``), in language ``lang``."""
    data = _all_strings()
    if lang not in data:
        raise DocumentError(f"language {lang!r}: documents exist in {', '.join(LANGS)}")
    return data[lang]


def localized(source: Any, key: str, lang: str) -> Any:
    """``source.<key>_<lang>`` (a register model) or ``source["<key>_<lang>"]`` (a register table)."""
    name = f"{key}_{lang}"
    return source[name] if isinstance(source, dict) else getattr(source, name)


def operator_legal_name(op, lang: str) -> str:
    """The operator's legal name: Kazakh where the register has it, else Russian."""
    return (op.legal_name_kk or op.legal_name_ru) if lang == "kk" else op.legal_name_ru


def settlement_text(settlement, lang: str) -> str:
    """'name, district' of the settlement in ``lang``; '—' without one."""
    if settlement is None:
        return "—"
    return (f"{settlement.kato_name_kk}, {settlement.district_name_kk}" if lang == "kk"
            else f"{settlement.kato_name_ru}, {settlement.district_name_ru}")


# ------------------------------------------------------------------------------------ formatting
def fmt_num(x: Optional[float], digits: int = 0) -> str:
    """``x`` with ``digits`` decimals and no-break spaces between thousands; '—' for None."""
    if x is None:
        return "—"
    return f"{x:,.{digits}f}".replace(",", "\u00a0")


def pct(x: Optional[float]) -> str:
    """A share 0..1 as '12.5 %'; '—' for None."""
    return "—" if x is None else f"{100 * x:.1f} %"


def when(iso: Optional[str]) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM'; '—' for none."""
    return "—" if not iso else iso[:16].replace("T", " ")


def fill(value: str, s: dict) -> str:
    """``value``, or the document's "to be filled in by the inspection" line when it is blank."""
    return value if value and value.strip() else s["to_fill"]


def interval(r: dict) -> str:
    return "—" if r["ci_low"] is None else f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f} %"


def indicator_row(r: dict, s: dict) -> IndicatorRow:
    return IndicatorRow(tech=r["technology_label"],
                        threshold=fmt_num(r["threshold_mbps"], 1) if r["threshold_mbps"] else "—",
                        n=str(r["n"]), n_below="—" if r["n_below"] is None else str(r["n_below"]),
                        share=pct(r["share_below"]), ci=interval(r),
                        window=f"{when(r['window_start_utc'])} – {when(r['window_end_utc'])}",
                        verdict=s[f"verdict_{r['verdict']}"])


def violation_summary(violated: list[dict], s: dict) -> str:
    return "; ".join(
        f"{r['technology_label']}: {r['n_below']}/{r['n']} ({pct(r['share_below'])}; 95 %: {100 * r['ci_low']:.1f}–"
        f"{100 * r['ci_high']:.1f} %) < {r['threshold_mbps']:g} {s['mbps']}, {s['max_share']} {pct(r['allowed_share'])}"
        for r in violated) or "—"


# ------------------------------------------------------------------------------------ legal rules
def limitation_passed(offence_date: Optional[str], issue_date: date, months: int) -> bool:
    """True when more than ``months`` have passed from the offence to ``issue_date`` (art. 62 of the
    Code on Administrative Offences: the inspection must check the limitation period)."""
    if not offence_date:
        return False
    return issue_date > add_months(date.fromisoformat(offence_date), months)


def order_deadline(issue_date: date, deadline_days: int) -> date:
    """The order's deadline when delivered on ``issue_date``: calendar days."""
    return issue_date + timedelta(days=deadline_days)


def document_notes(insp: Inspection, findings: dict, registers: Registers, op, s: dict, lang: str,
                   issue_date: date) -> list[str]:
    """Sources and caveats, in the order the documents print them."""
    proc, legal = registers.procedure, findings.get("legal") or {}
    notes: list[str] = [proc["indicators"][f"uncertainty_{lang}"], s["fine_date_note"],
                        localized(registers.mci, "which_date", lang)]
    if op.category and "INFERENCE" in op.category_source:
        notes.append(s["category_note"])
    if not op.bin or not op.address:
        notes.append(s["to_fill"] + ": " + ", ".join(x for x, v in ((s["bin_label"], op.bin),
                                                                    (s["address_label"], op.address)) if not v))
    if legal:
        mci_entry = registers.mci.on(legal["offence_date"])
        if mci_entry is not None and mci_entry.uncertain:
            notes.append(s["mci_uncertain"].format(note=mci_entry.uncertain))
        if legal.get("fine_mci") is None:
            notes.append(s["no_fine"].format(why="; ".join(legal.get("uncertainties", [])[-3:])))
    months = proc["limitation"]["months"]
    if limitation_passed(findings.get("offence_date"), issue_date, months):
        notes.insert(0, s["limitation"].format(offence=findings["offence_date"], months=months))
    if findings.get("synthetic"):
        notes.insert(0, s["synthetic"])
    notes.append(s["register_notes"] + ": " + " | ".join(
        legal.get("uncertainties", []) if legal else [u for u in findings.get("uncertainties", []) if u]))
    return [n for n in notes if n]


# ------------------------------------------------------------------------------------ contexts
def common_fields(insp: Inspection, findings: dict, registers: Registers, settlement, lang: str,
                  issue_date: date) -> dict[str, Any]:
    """Values of :class:`DocumentContext` (shared by the three documents)."""
    s = strings(lang)
    op = registers.operator(insp.operator)
    office = registers.office
    indicators = findings["indicators"]
    starts = [r["window_start_utc"] for r in indicators if r["window_start_utc"]]
    ends = [r["window_end_utc"] for r in indicators if r["window_end_utc"]]
    return dict(
        synthetic_banner=s["synthetic"] if findings.get("synthetic") else "",
        doc_date=issue_date.isoformat(), place=fill(localized(office, "place", lang), s),
        office_name=fill(localized(office, "name", lang), s),
        office_address=fill(localized(office, "address", lang), s),
        inspection_id=insp.inspection_id, act_number=insp.act_number, act_registered=insp.act_registered,
        grounds_text=s[f"grounds_{insp.grounds}"], grounds_number=insp.grounds_number, grounds_date=insp.grounds_date,
        inspectors=", ".join(insp.inspectors),
        operator_name=fill(operator_legal_name(op, lang), s), operator_brand=op.brand, operator_bin=fill(op.bin, s),
        operator_address=fill(op.address, s), operator_registration=fill(op.registration, s),
        operator_bank=fill(op.bank_details, s),
        operator_category=s["categories"].get(op.category, s["to_fill"]) if op.category else s["to_fill"],
        settlement=settlement_text(settlement, lang), kato=insp.kato, address=insp.address,
        window_start=when(min(starts)) if starts else "—", window_end=when(max(ends)) if ends else "—",
        measurement_days=", ".join(findings["measurement_days"]) or "—", utc=s["utc"],
        indicator=s["indicator"], rule_set=findings["rule_set"]["version"],
        verdict_rule=localized(registers.findings, "rule", lang),
        rows=[indicator_row(r, s) for r in indicators], verdict_text=s[f"verdict_{findings['verdict']}"],
        violation_summary=violation_summary(violated(findings), s),
        forms_note=registers.procedure["act"][f"forms_note_{lang}"],
        indicators_order=registers.procedure["indicators"][f"order_{lang}"],
        register_versions=", ".join(f"{k}: {v}" for k, v in registers.versions().items()),
        notes=document_notes(insp, findings, registers, op, s, lang, issue_date))


def violated(findings: dict) -> list[dict]:
    return [r for r in findings["indicators"] if r["verdict"] == "violation"]


def act_fields(registers: Registers, instruments: list[dict], lang: str) -> dict[str, Any]:
    return dict(instruments=instruments, checklist=registers.procedure["act"][f"checklist_{lang}"])


def protocol_fields(findings: dict, registers: Registers, instruments: list[dict], lang: str) -> dict[str, Any]:
    s, legal, proc = strings(lang), findings.get("legal") or {}, registers.procedure
    fine_mci = legal.get("fine_mci")
    substance = ""
    if legal:
        substance = legal.get(f"substance_{lang}") or ""
        if lang == "kk" and not substance:
            substance = s["kk_text_missing"] + " (ru: " + legal.get("substance_ru", "") + ")"
    mci_note = "—"
    if legal and legal.get("mci_tenge"):
        mci_note = s["mci_note"].format(tenge=fmt_num(legal["mci_tenge"]), valid_from=legal["mci_valid_from"],
                                        source=legal["mci_source"])
    repeat = legal.get("repeat_of") if legal else None
    return dict(
        instruments=instruments, article_no=str(registers.art637.article),
        article_text=s["article"].format(article=legal["article"], part=legal["part"]) if legal else "—",
        part_substance=substance or "—",
        fine_mci=fmt_num(fine_mci) if fine_mci is not None else "—",
        fine_tenge=fmt_num(legal.get("fine_tenge")) if legal and legal.get("fine_tenge") is not None else "—",
        mci_note=mci_note, repeat_text=s["repeat"].format(**repeat) if repeat else "",
        jurisdiction_note=localized(registers.art637.jurisdiction, "note", lang),
        language_note=proc["protocol"][f"language_note_{lang}"], copy_note=proc["protocol"][f"copy_note_{lang}"])


def order_fields(findings: dict, registers: Registers, lang: str, issue_date: date,
                 deadline_days: int) -> dict[str, Any]:
    s = strings(lang)
    deadline = order_deadline(issue_date, deadline_days)
    return dict(
        violated_techs=", ".join(r["technology_label"] for r in violated(findings)) or "—",
        deadline_text=s["deadline"].format(days=deadline_days, date=deadline.isoformat(), issue=issue_date.isoformat()),
        deadline_date=deadline.isoformat(), order_basis=registers.procedure["order"][f"basis_{lang}"])


def build_context(kind: str, insp: Inspection, findings: dict, registers: Registers, instruments: list[dict],
                  settlement, lang: str, issue_date: date, deadline_days: int) -> DocumentContext:
    """The typed context of document ``kind`` (act, protocol, order) in language ``lang``."""
    if kind not in MODELS:
        raise DocumentError(f"document {kind!r}: choose from {', '.join(DOC_KINDS)}")
    values = common_fields(insp, findings, registers, settlement, lang, issue_date)
    if kind == "act":
        values |= act_fields(registers, instruments, lang)
    elif kind == "protocol":
        values |= protocol_fields(findings, registers, instruments, lang)
    else:
        values |= order_fields(findings, registers, lang, issue_date, deadline_days)
    return MODELS[kind](**values)


# ------------------------------------------------------------------------------------ templates
def template_placeholders(path: Path | str) -> tuple[set[str], dict[str, set[str]]]:
    """The placeholders of a DOCX template: (top-level names, {loop list name: item attributes}).

    ``{%tr for r in rows %} … {{ r.tech }}`` gives ``rows`` among the names and ``{"rows": {"tech"}}``;
    loop variables themselves are not names."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, nodes

    tpl = DocxTemplate(str(path))
    tpl.init_docx()
    ast = Environment().parse(tpl.patch_xml(tpl.get_xml()))
    loops: dict[str, set[str]] = {}
    loop_vars: set[str] = set()
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.target, nodes.Name) and isinstance(loop.iter, nodes.Name):
            loop_vars.add(loop.target.name)
            fields = loops.setdefault(loop.iter.name, set())
            for body in loop.body:
                for ga in body.find_all(nodes.Getattr):
                    if isinstance(ga.node, nodes.Name) and ga.node.name == loop.target.name:
                        fields.add(ga.attr)
    names = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load" and n.name not in loop_vars}
    return names, loops
