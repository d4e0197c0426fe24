"""Recorded transcripts (tests/fixtures/at) replayed on a pty, read by the auto-chosen driver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qamtu.device import ModemReading, TranscriptModem, modem_info, read_modem
from qamtu.device.errors import ScenarioError
from qamtu.device.simulator import parse_transcript

FIXTURES = Path(__file__).parent / "fixtures" / "at"
CASES = sorted(FIXTURES.glob("*/*.txt"))


def _check(reading: ModemReading, expected: dict) -> None:
    dump = reading.model_dump(mode="json")
    for key, want in expected.items():
        if key == "cells":
            assert len(dump["cells"]) == len(want), dump["cells"]
            for got_cell, want_cell in zip(dump["cells"], want):
                for k, v in want_cell.items():
                    assert got_cell[k] == v, f"cell {k}: {got_cell[k]!r} != {v!r}"
        elif key == "events":
            for command, events in want.items():
                got = [x for x in dump["raw"] if x["command"] == command]
                assert got and got[-1]["events"] == events
        elif key == "notes_contain":
            for part in want:
                assert any(part in n for n in dump["notes"]), dump["notes"]
        else:
            assert dump[key] == want, f"{key}: {dump[key]!r} != {want!r}"


def test_there_is_a_transcript_per_vendor():
    assert {p.parent.name for p in CASES} == {"generic", "quectel", "huawei", "simcom", "sierra", "telit"}
    assert len(CASES) >= 25


@pytest.mark.parametrize("echo,chunked", [(False, False), (True, True)], ids=["plain", "echo+partial-lines"])
@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_transcript_gives_expected_reading(path, echo, chunked):
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    with TranscriptModem(path, echo=echo, chunked=chunked) as modem:
        reading = read_modem(modem.path, timeout_s=2)
    _check(reading, expected)
    # every reading keeps the raw answers it was made from
    assert reading.raw and all(x.final for x in reading.raw)
    assert any(x.lines for x in reading.raw)


def test_reading_dump_is_stable_and_round_trips():
    path = FIXTURES / "quectel" / "rm520n_nsa_twoline.txt"
    with TranscriptModem(path) as modem:
        reading = read_modem(modem.path, timeout_s=2)
    dump = reading.model_dump(mode="json")
    assert json.dumps(dump, sort_keys=False) == json.dumps(reading.model_dump(mode="json"), sort_keys=False)
    assert ModemReading.model_validate(dump) == reading
    assert list(dump)[:4] == ["time_utc", "port", "driver", "technology"]
    assert dump["time_utc"].endswith("Z") or dump["time_utc"].endswith("+00:00")


def test_no_service_is_a_reading_not_an_error():
    with TranscriptModem(FIXTURES / "quectel" / "ec25_no_service.txt") as modem:
        r = read_modem(modem.path, timeout_s=2)
    assert r.technology.value == "none" and not r.has_service and r.serving is None


def test_modem_info_from_transcript(tmp_path):
    t = tmp_path / "info.txt"
    t.write_text("# device: Quectel EC25, info commands\n"
                 "> AT+CGMI\n< Quectel\n< OK\n> AT+CGMM\n< EC25\n< OK\n> AT+CGMR\n< Revision: EC25EFAR06A09M4G\n< OK\n"
                 "> AT+CGSN\n< 867698041234567\n< OK\n> AT+CIMI\n< 401771234567890\n< OK\n"
                 "> AT+CCID\n< ERROR\n> AT+ICCID\n< ERROR\n> AT+QCCID\n< +QCCID: 89977012345678901234\n< OK\n")
    with TranscriptModem(t) as modem:
        info = modem_info(modem.path, timeout_s=2)
    assert (info.driver, info.manufacturer, info.model, info.firmware) == ("quectel", "Quectel", "EC25",
                                                                           "EC25EFAR06A09M4G")
    assert (info.imei, info.imsi, info.iccid) == ("867698041234567", "401771234567890", "89977012345678901234")
    assert (info.sim_mcc, info.sim_mnc, info.sim_operator) == ("401", "77", "Tele2")


def test_bad_transcript_files_are_reported(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("> AT+CSQ\n< +CSQ: 1,99\n> AT\n< OK\n")
    with pytest.raises(ScenarioError, match="no final result code"):
        parse_transcript(bad)
    bad.write_text("< OK\n")
    with pytest.raises(ScenarioError, match="without a command"):
        parse_transcript(bad)
    bad.write_text("AT\n")
    with pytest.raises(ScenarioError, match="must start with"):
        parse_transcript(bad)


def test_count_of_firmware_answers_parsing_to_their_documented_values(capsys):
    """Prints how many transcripts (written from vendors' documented formats and published answers,
    tests/fixtures/at) give their documented reading; every one must."""
    ok, failed = 0, []
    for path in CASES:
        expected = json.loads(path.with_suffix(".expected.json").read_text())
        with TranscriptModem(path) as modem:
            reading = read_modem(modem.path, timeout_s=2)
        try:
            _check(reading, expected)
            ok += 1
        except AssertionError as exc:
            failed.append(f"{path.parent.name}/{path.stem}: {exc}")
    with capsys.disabled():
        print(f"\nAT transcripts: {ok}/{len(CASES)} firmware answers parse to their documented values")
    assert not failed, failed
