"""Registering a resident's complaint from the public form or an Open311 client, through cases' public API.

The personal fields go to :class:`qamtu.cases.models.Applicant` (stored in ``cases_applicants``
only); the answer to the resident is the talon number and the legal due date, nothing else. Field
problems come back as :class:`PublicFormError` naming the fields (the form shows them in kk/ru).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Optional

from .errors import OfficeError
from .public_data import due_date, forget, operators, today_kz

#: characters of the description (Open311 allows 4,000; cases' model allows 8,000)
MAX_DESCRIPTION = 4000
#: characters of the other fields
MAX_FIELD = 200
CHANNEL = "web_form"


class PublicFormError(OfficeError):
    """Fields of a public complaint that need correcting: ``fields`` lists their names."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("complaint form: check field(s) " + ", ".join(fields))
        self.fields = fields


def register(office, *, kato: str, place: str, operator: str, service: str, description: str, name: str,
             iin: str = "", postal_address: str, phone: str = "", email: str = "", language: str = "ru",
             submission: str = "", by: str = "public web form") -> dict[str, Any]:
    """Register one complaint (``channel`` web_form). ``submission`` (the form's one-time id) makes a
    double submit return the first talon. Returns ``{"talon", "due", "received", "created", "cases"}``."""
    from pydantic import ValidationError

    from ..cases import ports, records
    from ..cases.errors import CasesError
    from ..cases.models import SERVICES, Applicant, ComplaintFacts
    from .public_data import legal_terms

    bad = []
    kato = kato.strip()
    if kato:
        try:
            s = office.gazetteer.get(kato)
            place = place.strip() or s.name_ru
        except Exception:
            bad.append("kato")
    elif place.strip():
        m = ports.match_address(place[:MAX_FIELD], office.gazetteer)
        kato = "" if m["needs_person"] else (m["kato"] or "")
    else:
        bad.append("place")
    if operator not in operators():
        bad.append("operator")
    if service not in SERVICES:
        bad.append("service")
    if not description.strip() or len(description) > MAX_DESCRIPTION:
        bad.append("description")
    for field, value, required in (("name", name, True), ("postal_address", postal_address, True),
                                   ("phone", phone, False), ("email", email, False), ("place", place, False)):
        if (required and not value.strip()) or len(value) > MAX_FIELD:
            bad.append(field)
    if phone.strip() and not re.fullmatch(r"[+\d][\d ()-]{4,30}", phone.strip()):
        bad.append("phone")
    if iin.strip():
        try:
            ports.check_iin(iin.strip(), "iin")
        except CasesError:
            bad.append("iin")
    if bad:
        raise PublicFormError(sorted(set(bad)))
    received = today_kz().isoformat()
    sub = re.sub(r"[^A-Za-z0-9_-]", "", submission)[:40] or uuid.uuid4().hex
    try:
        facts = ComplaintFacts(channel=CHANNEL, external_number=f"web-{sub}", received=received,
                               addressee="inspection", substance=description.strip(),
                               language=language if language in ("kk", "ru") else "ru",
                               address_text=place.strip() or kato,
                               kato=kato or None, needs_person=not kato, operators=[operator], services=[service])
        person = Applicant(name=name.strip(), iin=iin.strip(), postal_address=postal_address.strip(),
                           phone=phone.strip(), email=email.strip())
    except ValidationError as exc:
        raise PublicFormError(sorted({str(e["loc"][0]) for e in exc.errors()})) from None
    out = records.register_complaint(office.store, facts, person, by=by, appeals=legal_terms(office)[1],
                                     gazetteer=office.gazetteer)
    forget(office)
    row = office.store.query("SELECT received FROM cases_complaints WHERE complaint_id = ?", (out["complaint_id"],))
    got = row[0]["received"] if row else received
    return {"talon": out["complaint_id"], "due": due_date(office, got), "received": got, "created": out["created"],
            "cases": out["cases"]}


def nearest_settlement(office, lat: float, lon: float, max_km: float = 5.0) -> Optional[str]:
    """KATO of the located populated settlement nearest to (lat, lon) degrees, within ``max_km`` km."""
    import math

    best, best_d = None, max_km
    for s in office.gazetteer:
        if not s.located or not s.populated:
            continue
        dy = (s.lat - lat) * 111.32
        dx = (s.lon - lon) * 111.32 * math.cos(math.radians(lat))
        d = math.hypot(dx, dy)
        if d <= best_d:
            best, best_d = s.kato, d
    return best
