"""Operator and service candidates from complaint text (cases/extract.py and data/operators.toml)."""

from __future__ import annotations

import pytest

from qamtu.cases.errors import CasesError
from qamtu.cases.extract import SERVICES, default_table, extract, load_table


def codes(found):
    return [f.code for f in found]


@pytest.mark.parametrize("text,operators,services", [
    ("В селе Аксу не ловит Билайн, нет связи", ["beeline"], ["mobile_voice"]),
    ("Кселлом невозможно пользоваться, 4G жоқ", ["kcell"], ["mobile_internet"]),
    ("Kcell ұстамайды, интернет жоқ", ["kcell"], ["mobile_voice", "mobile_internet"]),
    ("Теле2 и Алтел не работают, мобильный интернет слабый", ["tele2_altel"], ["mobile_internet"]),
    ("Tele2 4G нет", ["tele2_altel"], ["mobile_internet"]),
    ("Казахтелеком не проводит оптику, домашний интернет не работает", ["kazakhtelecom"], ["fixed_internet"]),
    ("iD Net өте баяу, интернет жоқ", ["kazakhtelecom"], ["fixed_internet"]),
    ("Megaline не работает третий день", ["kazakhtelecom"], ["fixed_internet", "tv_radio"]),
    ("Не показывает Отау ТВ, антенна не ловит", ["kazteleradio"], ["mobile_voice", "tv_radio"]),
    ("Посылка не дошла, Казпочта закрыта", ["kazpost"], ["post"]),
    ("Ауылда пошта жоқ", [], ["post"]),
    ("Қазпоштаның бөлімшесі жабық", ["kazpost"], ["post"]),
    ("Радио не ловит в машине", [], ["mobile_voice", "tv_radio"]),
])
def test_table_cases(text, operators, services):
    r = extract(text)
    assert codes(r.operators) == operators
    assert codes(r.services) == services


def test_words_are_quoted_from_the_text_as_written():
    r = extract("В селе не ловит БИЛАЙНА сигнал")
    assert r.operators[0].words == ("БИЛАЙНА",)
    assert "сигнал" in r.services[0].words


def test_generic_internet_without_operator_gives_both_weak():
    r = extract("интернет нашар")
    assert codes(r.services) == ["mobile_internet", "fixed_internet"]
    assert all(f.weak and f.words == ("интернет",) for f in r.services)


def test_service_implied_by_the_only_operator_is_weak():
    r = extract("Beeline!!!")
    assert codes(r.services) == ["mobile_voice", "mobile_internet"]
    assert all(f.weak and f.via == "operator" for f in r.services)


def test_weak_brand_word_is_marked_weak_and_common_words_do_not_match_inside_others():
    assert codes(extract("активный житель пишет").operators) == []
    r = extract("Актив ұстамайды")
    assert codes(r.operators) == ["kcell"] and r.operators[0].weak


def test_several_operators_are_all_candidates():
    r = extract("Kcell тоже нет, Beeline тоже нет")
    assert codes(r.operators) == ["kcell", "beeline"]


def test_table_is_sourced_and_services_known():
    t = default_table()
    assert {e.code for e in t.services} == set(SERVICES)
    assert t.mcc_mnc["kcell"] == ("401-02",) and t.mcc_mnc["tele2_altel"] == ("401-77", "401-07")


def test_bad_table_is_named(tmp_path):
    p = tmp_path / "ops.toml"
    p.write_text('[operators.x]\nname = "X"\nkeywords = ["x"]\nservices = ["telepathy"]\n', encoding="utf-8")
    with pytest.raises(CasesError, match=r"ops.toml: field 'operators.x'.services: unknown \['telepathy'\]"):
        load_table(p)


def test_non_text_refused():
    with pytest.raises(CasesError, match="complaint text must be text"):
        extract(None)  # type: ignore[arg-type]


def test_codes_only_form():
    from qamtu.cases.extract import extract_operators_services

    assert extract_operators_services("Билайн не ловит, интернет жоқ") == {
        "operators": ["beeline"], "services": ["mobile_voice", "mobile_internet"]}
