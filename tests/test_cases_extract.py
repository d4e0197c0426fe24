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


# ------------------------------------------------------------ loose stems (table 2026.2)
@pytest.mark.parametrize("text,absent", [
    ("Интернет почти не работает уже месяц", "post"),                        # почти = almost, not почта
    ("Билайн почти не ловит, звонки срываются", "post"),
    ("С почтением, жители села Аксу. Интернета нет", "post"),
    ("Прошу дать письменный ответ: интернет Tele2 не работает", "post"),      # письменный = in writing
    ("Жауапты жазбаша беруіңізді сұраймын, письменно тоже", "post"),
    ("Postponed again: Tele2 internet not working in the village", "post"),
    ("Интернетке байланысты шағым: Tele2 интернеті нашар", "mobile_voice"),  # байланысты = regarding
    ("Kcell интернетіне байланыстыру мүмкін емес", "mobile_voice"),
    ("В связи с отсутствием интернета Beeline дети не могут учиться", "mobile_voice"),
    ("В связи со слабым интернетом Altel прошу принять меры", "mobile_voice"),
    ("Охранная сигнализация без интернета не работает", "mobile_voice"),     # сигнализация = alarm
    ("Арнайы комиссия жіберуді сұраймын, Kcell интернеті жоқ", "tv_radio"),  # арнайы = special
    ("Мектепке арналған интернет жоқ", "tv_radio"),                          # арналған = intended for
    ("Инертный газ тут ни при чём, Beeline 4G жоқ", "fixed_internet"),
])
def test_common_words_sharing_a_stem_are_not_services(text, absent):
    assert absent not in codes(extract(text).services), extract(text).as_dict()


@pytest.mark.parametrize("text,service,weak", [
    ("Почта в селе не работает второй месяц", "post", False),
    ("Почтовое отделение закрыто, пенсию не получить", "post", False),
    ("Посылку отправили почтой, не дошла", "post", False),
    ("Ауылдағы поштаға хат келмейді", "post", False),
    ("Post office in Aksu closed since May", "post", False),
    ("Письмо из акимата не доставили", "post", True),
    ("Сигнала нет вообще, Kcell", "mobile_voice", False),
    ("Ауылда сигнал жоқ", "mobile_voice", False),
    ("Kcell сигналы әлсіз", "mobile_voice", False),
    ("Dropped calls every evening, Beeline", "mobile_voice", False),
    ("Ұялы байланысты пайдалану мүмкін емес", "mobile_voice", False),
    ("Байланыс жоқ, Beeline", "mobile_voice", True),
    ("Нет связи с внешним миром", "mobile_voice", True),
    ("Телеарналар көрсетпейді", "tv_radio", False),
    ("Арналар көрсетпейді, Отау", "tv_radio", True),
    ("Инет не грузит", "mobile_internet", True),
])
def test_word_forms_still_match(text, service, weak):
    found = {f.code: f for f in extract(text).services}
    assert service in found, extract(text).as_dict()
    assert found[service].weak is weak


def test_not_keywords_mask_only_their_phrase():
    r = extract("В связи с тем, что нет связи, прошу проверить Beeline")
    voice = {f.code: f for f in r.services}["mobile_voice"]
    assert voice.words == ("связи",) and voice.weak     # the second "связи", from "нет связи"
    assert len(default_table().masks) >= 2


def _brute(text, table):
    """Reference: every pattern run over the whole text (the extractor before the index)."""
    import unicodedata

    from qamtu.cases.extract import _fold_same_length

    folded = _fold_same_length(unicodedata.normalize("NFC", text))
    masked = [(m.start(), m.end()) for p in table.masks for m in p.finditer(folded)]
    out = {}
    for group, entries in (("operators", table.operators), ("services", table.services)):
        for e in entries:
            for strong, pats in ((True, e.strong), (False, e.weak)):
                hits = sorted((m.start(), m.end()) for p in pats for m in p.finditer(folded)
                              if not any(a <= m.start() < b for a, b in masked))
                if hits:
                    out[(group, e.code, strong)] = hits
    return out


def test_index_finds_what_every_pattern_over_the_whole_text_finds():
    table = default_table()
    texts = [
        "Kcell, K-Cell, к-селл и Ксел: нет сети, сеть не ловит, не ловит вообще; Tele 2 и теле-2, tele-2",
        "ID NET, id-net, айди нет, iD TV, Отау ТВ и otau-tv; wi-fi роутер, Wi-Fi, 4G/3G/LTE/2G, EDGE",
        "Казахтелекомның мегалайны, ktk, Қазпошта, kazposhta, поштасы, почтовый ящик, посылки, parcels",
        "мобильный  интернет\tмобильного\nинтернета, үй интернеті, сымды интернетке, ғаламтор жоқ, инета нет",
    ]
    for text in texts:
        from qamtu.cases.extract import _fold_same_length
        import unicodedata

        folded = _fold_same_length(unicodedata.normalize("NFC", text))
        got: dict = {}
        for (group, n, strong), a, b in table.index.hits(folded):
            if group == "internet" or any(x <= a < y for x, y in
                                          [(m.start(), m.end()) for p in table.masks for m in p.finditer(folded)]):
                continue
            code = (table.operators if group == "operators" else table.services)[n].code
            got.setdefault((group, code, strong), []).append((a, b))
        assert {k: sorted(v) for k, v in got.items()} == _brute(text, table), text
