"""A complaint as registered: the fields of APPK art. 63, channel, receipt (talon) and matched place.

Personal data (name, IIN, postal address, phone) is :class:`Applicant`, stored in its own table;
:class:`ComplaintFacts` is everything else, the part that reports and open data may use.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

CHANNELS: tuple[str, ...] = ("e_otinish", "109", "egov", "paper", "walk_in", "web_form")
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "e_otinish": ("E-Otinish", "E-Otinish"),
    "109": ("109 байланыс орталығы", "Контакт-центр 109"),
    "egov": ("eGov порталы", "Портал eGov"),
    "paper": ("Қағаз жүзінде", "На бумаге"),
    "walk_in": ("Жеке қабылдау", "Личный приём"),
    "web_form": ("Веб-нысан", "Веб-форма"),
}
SERVICES: tuple[str, ...] = ("mobile_voice", "mobile_internet", "fixed_internet", "tv_radio", "post")
SERVICE_LABELS: dict[str, tuple[str, str]] = {
    "mobile_voice": ("Ұялы байланыс (дауыс)", "Мобильная связь (голос)"),
    "mobile_internet": ("Мобильді интернет", "Мобильный интернет"),
    "fixed_internet": ("Тұрақты интернет", "Фиксированный интернет"),
    "tv_radio": ("Теледидар және радио", "Телевидение и радио"),
    "post": ("Пошта", "Почта"),
}
#: service -> dimension of the five-year problem picture (mapping/problems.py)
SERVICE_DIMENSION = {
    "mobile_voice": "mobile",
    "mobile_internet": "internet",
    "fixed_internet": "internet",
    "tv_radio": "tv_radio",
    "post": "post",
}
LANGS = ("kk", "ru")


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Applicant(_M):
    """Personal data of the applicant (APPK art. 63 p.2(1)); never in public outputs or logs."""

    name: str = Field(min_length=1, description="full name (anonymous appeals are not considered, art. 63)")
    iin: str = Field("", description="12-digit IIN, control digit checked (empty when the applicant has none)")
    postal_address: str = Field(min_length=1)
    phone: str = ""
    email: str = ""


class ComplaintFacts(_M):
    """The case facts of a complaint (no personal data)."""

    channel: Literal["e_otinish", "109", "egov", "paper", "walk_in", "web_form"]
    external_number: str = Field(
        min_length=1,
        max_length=64,
        description="the channel's own number (E-Otinish, 109, " "incoming-mail number for paper)",
    )
    received: str = Field(description="day of receipt = day of registration (APPK art. 64), YYYY-MM-DD")
    appeal_date: str = Field("", description="date written on the appeal (art. 63), YYYY-MM-DD; may be empty")
    addressee: str = Field(min_length=1, description="body or official the appeal is addressed to")
    substance: str = Field(min_length=1, max_length=8000)
    language: Literal["kk", "ru"] = "ru"
    address_text: str = Field(min_length=1, description="the place as the applicant wrote it")
    kato: Optional[str] = Field(None, pattern=r"^\d{9}$")
    match_score: Optional[float] = None
    needs_person: bool = True
    operators: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    demo: bool = False

    @field_validator("received", "appeal_date")
    @classmethod
    def _day(cls, v: str) -> str:
        if v == "":
            return v
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a date YYYY-MM-DD") from None
        return v

    @field_validator("services")
    @classmethod
    def _services(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in SERVICES:
                raise ValueError(f"unknown service {s!r} (services: {', '.join(SERVICES)})")
        return sorted(set(v))

    @field_validator("operators")
    @classmethod
    def _operators(cls, v: list[str]) -> list[str]:
        return sorted({o.strip().lower() for o in v if o.strip()})
