"""One inspection end to end on synthetic data, for ``qamtu demo``: a complaint about poor 4G in a village.

Everything is written through the normal code paths (store, registers, findings, documents, signed
bundle, verification). The measurements are synthetic (marked so in the store and on every
document), the instrument register and the office key list are demo files written into the output
folder, and an earlier inspection of the same operator makes the new one a repeat offence (part 15).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from ..mapping.gazetteer import Gazetteer
from ..mapping.rules import load_rules
from ..probe.store import SampleStore
from ..probe.synthetic import Campaign, Condition, write_campaign
from ..safeio import write_text
from .bundle import build_bundle, verify_bundle
from .documents import generate_documents
from .findings import compute_findings
from .inspections import create_inspection
from .keys import load_office_keys, new_key
from .registers import Registers

DEMO_OPERATOR = "401-77"
DEMO_IMEI = "000000000000077"  # the IMEI qamtu.probe.synthetic gives the 401-77 modem


def _pick_village(gazetteer: Gazetteer) -> Any:
    villages = sorted((s for s in gazetteer if s.located and s.kind == "village"), key=lambda s: s.kato)
    return villages[len(villages) // 3]


def _write_demo_registers(folder: Path, start: date, public_key: str, key_id: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "instruments.toml",
        "# DEMO register written by `qamtu demo`: the instrument and its verification are invented for the demo.\n"
        'version = "instruments-demo"\n\n[instruments.DEMO-MODEM-1]\n'
        'name = "USB LTE modem (synthetic, DEMO)"\nmodel = "synthetic"\nserial = "DEMO-0001"\n'
        f'imei = "{DEMO_IMEI}"\nverification_certificate = "DEMO (not a real certificate)"\n'
        f'verification_date = "{(start - timedelta(days=300)).isoformat()}"\n'
        f'verification_valid_until = "{(start + timedelta(days=60)).isoformat()}"\n'
        'verified_by = "nobody: demo"\nsource = "qamtu demo"\ndemo = true\n')
    write_text(folder / "office_keys.toml",
        "# DEMO office key list written by `qamtu demo`.\n"
        f'version = "office-keys-demo"\n\n[[keys]]\nname = "Demo inspector"\nkey_id = "{key_id}"\n'
        f'public_key = "{public_key}"\nvalid_from = "{start.isoformat()}"\n')


def run_demo_inspection(store_path: Path | str, out_dir: Path | str, *, gazetteer: Optional[Gazetteer] = None,
                        today: Optional[date] = None) -> dict[str, Path]:
    """Run the demo inspection into ``store_path`` and ``out_dir``; returns what was written (name -> path).

    Keys of the result: ``registers``, ``private_key``, ``public_key``, ``findings``, ``bundle``, ``verify``
    and one entry per document (``act_kk.pdf``, ``protocol_ru.docx``, ``map_kk.png``, ...).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gazetteer = gazetteer or Gazetteer.load()
    today = today or datetime.now(timezone.utc).date()
    start = today - timedelta(days=6)
    village = _pick_village(gazetteer)
    keys_dir = out / "keys"
    for stale in (keys_dir / "Demo-inspector.key", keys_dir / "Demo-inspector.pub"):
        stale.unlink(missing_ok=True)
    key = new_key("Demo inspector", keys_dir)
    reg_dir = out / "registers"
    _write_demo_registers(reg_dir, start, key["public_key"], key["key_id"])
    registers = Registers.load(reg_dir)
    rules = load_rules()
    poor_4g = Condition("LTE", rsrp_dbm=-112.0, download_mbps=2.2, upload_mbps=0.8)
    common = dict(grounds="complaint", operator=DEMO_OPERATOR, kato=village.kato, inspectors=["Demo inspector"],
                  instruments=["DEMO-MODEM-1"])
    with SampleStore(store_path) as store:
        earlier_start = start - timedelta(days=120)
        earlier = create_inspection(
            store, registers, gazetteer=gazetteer, created=datetime.combine(earlier_start, time(4), timezone.utc),
            grounds_number="DEMO-Ж-1", grounds_date=(earlier_start - timedelta(days=9)).isoformat(),
            address=f"{village.kato_name_ru}, центральная улица (DEMO)", act_number="DEMO-1",
            act_registered=(earlier_start - timedelta(days=2)).isoformat(), **common)
        insp = create_inspection(
            store, registers, gazetteer=gazetteer, created=datetime.combine(start, time(4), timezone.utc),
            grounds_number="DEMO-Ж-2", grounds_date=(start - timedelta(days=8)).isoformat(),
            address=f"{village.kato_name_ru}, школьная улица (DEMO) / Мектеп көшесі", act_number="DEMO-2",
            act_registered=(start - timedelta(days=2)).isoformat(), **common)
        for ident, day0 in ((earlier.inspection_id, earlier_start), (insp.inspection_id, start)):
            write_campaign(store, Campaign(
                settlements={village.kato: (village.lat, village.lon)}, condition=lambda k, o: poor_4g,
                start=datetime.combine(day0, time(5), timezone.utc), days=3, operators=(DEMO_OPERATOR,),
                samples_per_visit=20, speedtests_per_visit=8, inspector="Demo inspector", inspection_id=ident,
                seed=61 if ident == insp.inspection_id else 62))
        findings = compute_findings(store, insp.inspection_id, rules, registers)
        docs_dir = out / insp.inspection_id
        docs = generate_documents(store, insp.inspection_id, docs_dir, rules=rules, registers=registers,
                                  gazetteer=gazetteer, issue_date=today, findings=findings)
        bundle_path = out / f"{insp.inspection_id}.zip"
        build_bundle(store, insp.inspection_id, bundle_path, key_path=key["private_key"], signer="Demo inspector",
                     rules=rules, registers=registers, findings=findings, documents=docs)
    findings_path = docs_dir / "findings.json"
    write_text(findings_path, json.dumps(findings, ensure_ascii=False, indent=2, default=str) + "\n")
    keys, keys_path = load_office_keys(None, reg_dir)
    report = verify_bundle(bundle_path, keys, str(keys_path))
    verify_path = out / f"{insp.inspection_id}.verify.json"
    write_text(verify_path, json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    if not report.ok:  # the demo's own bundle must verify; anything else is a bug
        raise RuntimeError(f"demo bundle does not verify: {report.problem}")
    return {"registers": reg_dir, "private_key": Path(key["private_key"]), "public_key": Path(key["public_key_file"]),
            "findings": findings_path, "bundle": bundle_path, "verify": verify_path, **docs}
