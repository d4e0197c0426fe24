"""The live view fits 80x24 in every language and shows what an inspector needs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rich.console import Console

from qamtu.device.models import Cell, FixMode, GnssFix, ModemReading, Rat, RegState, Technology
from qamtu.probe.capture import CaptureState, ModemState
from qamtu.probe.live import default_language, labels, render
from qamtu.probe.samples import ModemIdentity, SettlementTag

T = datetime(2026, 6, 1, 6, tzinfo=timezone.utc)


def _state(lost: bool = False) -> CaptureState:
    st = CaptureState("01a2210f-0000-7000-8000-000000000000", T, samples=5321, no_service=12, modem_lost=3,
                      speedtests=4)
    for op, name, rsrp in (("02", "Kcell", -78.0), ("01", "Beeline", -104.0), ("77", "Tele2", -117.0)):
        reading = ModemReading(time_utc=T, port=f"/dev/ttyUSB{op}", driver="quectel", technology=Technology.LTE,
                               registration=RegState.HOME, operator_mcc="401", operator_mnc=op,
                               cells=[Cell(rat=Rat.LTE, rsrp_dbm=rsrp, rsrq_db=-11, sinr_db=7, cell_id=0xEF4A08,
                                           band="B3")])
        st.modems[f"/dev/ttyUSB{op}"] = ModemState(f"/dev/ttyUSB{op}", ModemIdentity(port="x", sim_operator=name),
                                                    reading=reading, status="ok", samples=1774)
    if lost:
        st.modems["/dev/ttyUSB77"].status = "modem_lost"
    st.modems["/dev/ttyUSB02"].last_speedtest = {"method": "qamtu-http", "download_mbps": 23.4, "upload_mbps": 5.1,
                                                 "valid": True}
    st.fix = GnssFix(time_utc=T, lat_deg=42.488, lon_deg=69.41, mode=FixMode.FIX_3D, satellites=9, source="nmea")
    st.settlement = SettlementTag(kato="614657100", distance_m=412.0, reason="tagged")
    return st


@pytest.mark.parametrize("lang, settlement, lost_word", [("kk", "Шұбарсу", "модем жоғалды"),
                                                         ("ru", "Шубарсу", "модем потерян"),
                                                         ("en", "Шубарсу", "modem lost")])
def test_live_view_fits_80x24_in_each_language(gazetteer, lang, settlement, lost_word):
    console = Console(width=80, height=24, record=True, color_system=None)
    console.print(render(_state(lost=True), lang, None, gazetteer))
    text = console.export_text()
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= 24, text
    assert max(len(line) for line in lines) <= 80
    assert settlement in text and "Kcell" in text and "-104" in text and "23" in text
    assert lost_word in text and labels(lang)["warnings"] in text


def test_colour_scale_marks_weak_signal_red(gazetteer):
    console = Console(width=80, record=True, color_system="truecolor")
    console.print(render(_state(), "en", None, gazetteer))
    html = console.export_html(inline_styles=True)
    assert "-117" in html and "-78" in html
    weak = html[html.index("-117") - 60: html.index("-117")]
    strong = html[html.index("-78") - 60: html.index("-78")]
    assert weak != strong


def test_language_follows_the_locale(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "kk_KZ.UTF-8")
    assert default_language() == "kk"
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert default_language() == "ru"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_ALL", "C")
    assert default_language() in ("en",)
