"""The reasoned answer letter to one applicant, in the applicant's language (Kazakh or Russian).

Made like the inspection documents: a DOCX template the office edits
(``cases/data/templates/answer_{kk,ru}.docx``) is filled with :func:`qamtu.reports.documents.render_docx`
and laid out as PDF with DejaVu Sans by :func:`qamtu.reports.pdf.docx_to_pdf`. The letter states the
facts (dates, talon, settlement, operator, service), the measurements and findings in plain words
with their numbers, the measures taken (protocol and order numbers, the order's deadline, the
re-measurement), the legal basis (from the register files) and how to appeal. Issuing it is a
recorded step of each of the complaint's cases (:func:`qamtu.cases.records.record_answer`).

Files: ``OUT/<talon>/answer_<lang>.docx`` and ``.pdf``.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .. import package_path
from . import records
from .deadlines import compute
from .errors import CasesError
from .models import CHANNEL_LABELS, LANGS, SERVICE_LABELS
from .registers import appeals as load_appeals
from .workdays import load_calendar


def strings(lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise CasesError(f"--lang {lang!r}: answers exist in {', '.join(LANGS)}")
    path = package_path("cases", "data", "templates", "answer_strings.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))[lang]


def _pct(x: Optional[float]) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def operator_label(key: str, registers) -> str:
    """An operator code (``tele2_altel``) as the letter names it: brand, and the legal name from the register
    when known."""
    from .ports import operators_table

    entry = operators_table().get(key)
    if entry is None:
        return key
    for code in entry["mcc_mnc"]:
        op = registers.operators.operators.get(code)
        if op is not None and op.legal_name_ru:
            return f"{entry['name']} ({op.legal_name_ru})"
    return entry["name"]


def _settlement(gazetteer, kato: Optional[str], lang: str) -> str:
    if not kato:
        return "—"
    try:
        s = gazetteer.get(kato)
    except Exception:
        return kato
    return (
        f"{s.name_kk}, {s.district_name_kk} ({kato})" if lang == "kk" else f"{s.name_ru}, {s.district_name_ru} ({kato})"
    )


def _case_paragraphs(
    case: dict[str, Any], s: dict[str, Any], lang: str, registers, gazetteer
) -> tuple[list, list, list, str]:
    """(facts, findings, measures, outcome) of one case from its history."""
    facts = [
        s["case"].format(
            case_id=case["case_id"],
            settlement=_settlement(gazetteer, case["kato"], lang),
            operator=operator_label(case["operator"], registers),
            service=SERVICE_LABELS[case["service"]][0 if lang == "kk" else 1],
            n=case["complainants"],
        )
    ]
    findings: list[str] = []
    measures: list[str] = []
    outcome = s["outcome_open"]
    last_findings: dict[str, dict] = {}
    for h in case["history"]:
        p = h["payload"]
        if h["kind"] == "findings":
            last_findings[p["inspection_id"]] = p
        if h["kind"] != "transition":
            continue
        to = p["to"]
        if to == "inspection_appointed":
            facts.append(s["appointed"].format(act_number=p["act_number"], act_registered=p["act_registered"]))
        elif to == "measured":
            f = last_findings.get(p["inspection_id"], {})
            days = s["days"].format(days=", ".join(f.get("measurement_days", []))) if f.get("measurement_days") else ""
            facts.append(s["measured"].format(inspection_id=p["inspection_id"], days=days))
        elif to == "order_issued":
            measures.append(
                s["protocol"].format(
                    protocol_number=p["protocol_number"],
                    order_number=p["order_number"],
                    order_deadline=p["order_deadline"],
                    article=registers.art637.article,
                )
            )
        elif to == "re_measured":
            measures.append(
                s["remeasured_fixed" if p["result"] == "fixed" else "remeasured_not_fixed"].format(
                    inspection_id=p["inspection_id"]
                )
            )
            outcome = s["outcome_fixed" if p["result"] == "fixed" else "outcome_not_fixed"]
        elif to == "redirected":
            measures.append(s["redirected"].format(to_body=p["to_body"]))
            outcome = s["outcome_redirected"]
        elif to == "no_violation":
            outcome = s["outcome_no_violation"]
        elif to == "reopened":
            outcome = s["outcome_open"]
    for insp, f in last_findings.items():
        for r in f.get("indicators", []):
            if r.get("threshold_mbps") is None or r.get("n_below") is None:
                findings.append(
                    s["finding_untested"].format(tech=r.get("technology_label") or r.get("technology"), n=r["n"])
                )
                continue
            findings.append(
                s["finding"].format(
                    tech=r.get("technology_label") or r.get("technology"),
                    n=r["n"],
                    n_below=r["n_below"],
                    share=_pct(r.get("share_below")),
                    threshold=f"{r['threshold_mbps']:g}",
                    allowed=_pct(r.get("allowed_share")),
                    verdict=s["verdicts"].get(r.get("verdict"), r.get("verdict")),
                )
            )
        if f.get("synthetic"):
            findings.append(s["synthetic_findings"])
    return facts, findings, measures, outcome


def answer_context(
    store,
    complaint_id: str,
    lang: str,
    *,
    registers,
    appeals: dict[str, Any],
    cal,
    gazetteer,
    issue_date: date,
    answer_number: str,
    signer: str,
) -> dict[str, Any]:
    """Every placeholder of the answer template, in language ``lang``."""
    s = strings(lang)
    c = records.complaint(store, complaint_id)
    person = records.applicant(store, complaint_id)
    d = compute(
        cal,
        appeals,
        date.fromisoformat(c["received"]),
        extended_until=date.fromisoformat(c["extended_until"]) if c["extended_until"] else None,
        extension_decided=date.fromisoformat(c["extension_decided"]) if c["extension_decided"] else None,
    )
    extended = (
        s["extended"].format(until=c["extended_until"], decided=c["extension_decided"]) if c["extended_until"] else ""
    )
    facts = [
        s["registered"].format(
            received=c["received"],
            talon=complaint_id,
            channel=CHANNEL_LABELS[c["channel"]][0 if lang == "kk" else 1],
            due=d.due.isoformat(),
            days=appeals["answer"]["working_days"],
            extended=extended,
        )
    ]
    findings: list[str] = []
    measures: list[str] = []
    outcomes: list[str] = []
    operators, services, settlements = [], [], []
    synthetic = bool(c.get("demo"))
    for case_id in c["cases"]:
        case = records.get_case(store, case_id)
        f, fi, m, o = _case_paragraphs(case, s, lang, registers, gazetteer)
        facts += f
        findings += fi
        measures += m
        outcomes.append(o)
        operators.append(operator_label(case["operator"], registers))
        services.append(SERVICE_LABELS[case["service"]][0 if lang == "kk" else 1])
        settlements.append(_settlement(gazetteer, case["kato"], lang))
        synthetic = synthetic or case["demo"] or any(h["payload"].get("synthetic") for h in case["history"])
    proc = registers.procedure
    legal = [
        s["legal_appk"],
        s["legal_koap"].format(
            article=registers.art637.article,
            title=registers.art637.title_kk if lang == "kk" else registers.art637.title_ru,
        ),
        s["legal_order"].format(basis=proc["order"][f"basis_{lang}"]),
        s["legal_indicators"].format(order=proc["indicators"][f"order_{lang}"]),
    ]
    notes = []
    if synthetic:
        notes.append(s["synthetic"])
    if d.doubts:
        notes.append(s["note_calendar"].format(version=cal.version, doubts="; ".join(d.doubts)))
    notes += [s["note_counting"], s["note_content"]]
    if lang == "kk":
        notes.append(appeals["appeal"].get("text_kk_note", ""))
    office = registers.office

    def fill(v: str) -> str:
        return v if v and v.strip() else s["to_fill"]

    return {
        "synthetic_banner": s["synthetic"] if synthetic else "",
        "office_name": fill(getattr(office, f"name_{lang}")),
        "office_address": fill(getattr(office, f"address_{lang}")),
        "place": fill(getattr(office, f"place_{lang}")),
        "doc_date": issue_date.isoformat(),
        "answer_number": answer_number,
        "applicant_name": person.name,
        "applicant_address": person.postal_address,
        "received": c["received"],
        "talon": complaint_id,
        "channel": CHANNEL_LABELS[c["channel"]][0 if lang == "kk" else 1],
        "external_number": c["external_number"],
        "substance": c["substance"],
        "settlement": "; ".join(dict.fromkeys(settlements)) or "—",
        "operators": ", ".join(dict.fromkeys(operators)) or "—",
        "services": ", ".join(dict.fromkeys(services)) or "—",
        "facts": facts,
        "findings": findings or [s["no_findings"]],
        "measures": measures or [s["no_measures"]],
        "outcome_text": " ".join(dict.fromkeys(outcomes)) or s["outcome_open"],
        "legal_basis": legal,
        "appeal_text": appeals["appeal"][f"text_{lang}"],
        "notes": [n for n in notes if n],
        "signer": signer,
    }


def write_answer(
    store,
    complaint_id: str,
    out_dir: Path | str,
    *,
    by: str,
    lang: Optional[str] = None,
    issue_date: Optional[date] = None,
    answer_number: Optional[str] = None,
    registers_folder=None,
    gazetteer=None,
    templates: Optional[Path | str] = None,
    record: bool = True,
) -> dict[str, Path]:
    """Write ``OUT/<talon>/answer_<lang>.docx`` and ``.pdf`` and (``record``) record the issue.

    Refused, with nothing written, while a case of the complaint is not at a step that can be
    answered (see :func:`qamtu.cases.records.answer_blockers`) or when it was answered before.
    """
    from ..mapping.gazetteer import Gazetteer
    from ..reports.documents import render_docx
    from ..reports.pdf import docx_to_pdf
    from ..reports.registers import Registers

    c = records.complaint(store, complaint_id)
    if c["answer"] and record:
        raise CasesError(
            f"complaint {complaint_id} was already answered ({c['answer']['answer_number']}, "
            f"{c['answer']['issued']})"
        )
    blockers = records.answer_blockers(store, complaint_id)
    if blockers and record:
        raise CasesError(f"answer to {complaint_id} refused: " + "; ".join(blockers))
    lang = lang or c["language"]
    issue_date = issue_date or datetime.now(timezone.utc).date()
    answer_number = answer_number or f"ANS-{complaint_id}"
    registers = Registers.load(registers_folder)
    appeals = load_appeals(registers_folder)
    cal = load_calendar(registers_folder)
    gazetteer = gazetteer or Gazetteer.load()
    ctx = answer_context(
        store,
        complaint_id,
        lang,
        registers=registers,
        appeals=appeals,
        cal=cal,
        gazetteer=gazetteer,
        issue_date=issue_date,
        answer_number=answer_number,
        signer=by,
    )
    tdir = Path(templates) if templates else package_path("cases", "data", "templates")
    template = tdir / f"answer_{lang}.docx"
    if not template.exists():
        raise CasesError(
            f"{template}: template not found" + (" (omit --templates for the bundled ones)" if templates else "")
        )
    out = Path(out_dir) / complaint_id
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-answer-", dir=out))
    try:
        docx = render_docx(template, ctx, None, work / f"answer_{lang}.docx")
        pdf = docx_to_pdf(docx, work / f"answer_{lang}.pdf", footer=f"{complaint_id} · {answer_number} · answer_{lang}")
        final = {}
        for p in (docx, pdf):
            target = out / p.name
            p.replace(target)
            final[p.name] = target
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if record:
        records.record_answer(
            store, complaint_id, answer_number=answer_number, lang=lang, issued=issue_date, by=by, files=sorted(final)
        )
    return final
