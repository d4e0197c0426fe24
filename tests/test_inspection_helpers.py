"""Helpers shared by the inspection and bundle tests (no tests here): registers, stores, campaigns."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

from qamtu.probe.synthetic import Campaign, Condition, write_campaign


def imei_of(operator: str) -> str:
    """The IMEI qamtu.probe.synthetic gives the modem of ``operator`` (MCC-MNC)."""
    return f"00000000000{operator.split('-')[1]:0>4}"


def instrument_toml(ident: str, imei: str, valid_from: str = "2026-01-01", valid_until: str = "2026-12-31",
                    certificate: str = "CERT-1") -> str:
    return (f'[instruments.{ident}]\nname = "USB LTE modem"\nmodel = "synthetic"\nserial = "SN-{ident}"\n'
            f'imei = "{imei}"\nverification_certificate = "{certificate}"\nverification_date = "{valid_from}"\n'
            f'verification_valid_until = "{valid_until}"\n')


def write_registers(folder: Path, instruments: str | None = None, office_keys: str | None = None) -> Path:
    """A registers folder: test instruments for every synthetic operator's modem, optional key list."""
    folder.mkdir(parents=True, exist_ok=True)
    if instruments is None:
        instruments = "".join(instrument_toml(f"M{op.replace('-', '')}", imei_of(op))
                              for op in ("401-01", "401-02", "401-07", "401-77"))
    (folder / "instruments.toml").write_text('version = "test"\n' + instruments, encoding="utf-8")
    if office_keys is not None:
        (folder / "office_keys.toml").write_text(office_keys, encoding="utf-8")
    return folder


def a_village(gazetteer, index: int = 10):
    return sorted((s for s in gazetteer if s.located and s.kind == "village"), key=lambda s: s.kato)[index]


def new_inspection(store, registers, gazetteer, village, *, operator: str = "401-77", created: date = date(2026, 6, 1),
                   ident: str | None = None, address: str = "Мектеп көшесі 1", **extra):
    from qamtu.reports.inspections import create_inspection

    fields = dict(grounds="complaint", grounds_number="Ж-17", grounds_date="2026-05-20", operator=operator,
                  kato=village.kato, address=address, act_number="А-5", act_registered="2026-05-28",
                  inspectors=["Инспектор Ә. Қасымұлы"], instruments=[f"M{operator.replace('-', '')}"])
    fields.update(extra)
    return create_inspection(store, registers, gazetteer=gazetteer, inspection_id=ident,
                             created=datetime.combine(created, time(3), timezone.utc), **fields)


def measure(store, inspection_id: str, village, *, download: float | None, start: date = date(2026, 6, 1),
            operator: str = "401-77", days: int = 3, tests: int = 8, samples: int = 4, technology: str = "LTE",
            seed: int = 61, kato: str | None = None) -> dict:
    cond = Condition(technology, rsrp_dbm=-110.0, download_mbps=download, upload_mbps=None if download is None else 1.0)
    return write_campaign(store, Campaign(
        settlements={kato or village.kato: (village.lat, village.lon)}, condition=lambda k, o: cond,
        start=datetime.combine(start, time(5), timezone.utc), days=days, operators=(operator,),
        samples_per_visit=samples, speedtests_per_visit=tests, inspector="Инспектор Ә. Қасымұлы",
        inspection_id=inspection_id, seed=seed))


def inspection_row(ident: str, kato: str, *, operator: str = "401-77", created_utc: str = "2026-06-01T06:00:00.000000Z",
                   address: str = "Мектеп көшесі 1") -> tuple:
    """A valid row of the ``inspections`` table (columns in table order, the record as canonical JSON),
    for stores written without registers (a laptop's store in the push and upload tests)."""
    from qamtu.reports.inspections import Inspection
    from qamtu.store.chain import canonical_json

    insp = Inspection(inspection_id=ident, created_utc=created_utc, grounds="complaint", grounds_number="Ж-17",
                      grounds_date="2026-05-20", operator=operator, kato=kato, address=address, act_number="12",
                      act_registered="2026-05-30", inspectors=["Инспектор Ә. Қасымұлы"],
                      instruments=[f"M{operator.replace('-', '')}"])
    return (insp.inspection_id, insp.created_utc, insp.grounds, insp.operator, insp.kato, insp.act_number,
            insp.act_registered, canonical_json(insp.model_dump()))
