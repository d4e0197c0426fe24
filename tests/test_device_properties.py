"""Property tests: random bytes, truncated lines and odd-but-valid answers into every parser.

Only :class:`qamtu.device.errors.ParseError` may come out; the deadline catches hangs.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qamtu.device import ATChannel
from qamtu.device.errors import ATError, ParseError
from qamtu.device.gnss import parse_cgpsinfo, parse_gpsd_tpv, parse_qgpsloc
from qamtu.device.huawei import parse_hcsq, parse_sysinfoex
from qamtu.device.models import Cell, GnssFix
from qamtu.device.nmea import FixBuilder, parse_sentence, sentence
from qamtu.device.parse_3gpp import parse_cesq, parse_cops, parse_creg, parse_csq
from qamtu.device.quectel import parse_qcsq, parse_qeng, parse_qnwinfo
from qamtu.device.sierra import parse_gstatus
from qamtu.device.sim_pty import PtyDevice
from qamtu.device.simcom import parse_cpsi
from qamtu.device.telit import parse_rfsts_lte

FAST = settings(max_examples=120, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

PARSERS = {
    "+CSQ:": parse_csq, "+CESQ:": parse_cesq, "+COPS:": parse_cops, "+CEREG:": parse_creg, "+CREG:": parse_creg,
    "+C5GREG:": parse_creg, "+QENG:": lambda s: parse_qeng([s], "RM500Q", "x"), "+QNWINFO:": parse_qnwinfo,
    "+QCSQ:": parse_qcsq, "^HCSQ:": parse_hcsq, "^SYSINFOEX:": parse_sysinfoex, "+CPSI:": parse_cpsi,
    "!GSTATUS:": lambda s: parse_gstatus(s.split("\n")), "#RFSTS:": parse_rfsts_lte, "+QGPSLOC:": parse_qgpsloc,
    "+CGPSINFO:": parse_cgpsinfo,
}

VALID = [
    "+CSQ: 17,99", "+CESQ:99,99,255,255,12,40", '+COPS: 0,2,"40102",7', '+CEREG: 2,1,"3584","00ef4a08",7',
    '+CREG: 2,5,"2B6F","00C1A3F1",2', '+C5GREG: 2,1,"00A1B2","1A2B3C4D5",11',
    '+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,188,6300,20,3,3,603,-104,-9,-78,11,23',
    '+QENG: "servingcell","NOCONN","NR5G-SA","TDD",401,02,1A2B3C4D5,101,00A1B2,627264,78,12,-88,-11,15,1,-',
    '+QENG: "NR5G-NSA",222,01,920,-96,18,-10,648768,78,10,1',
    '+QENG: "servingcell","NOCONN","WCDMA",401,01,2B6F,C1A3F1,10737,187,1,-85,-6,-,-,-,-,-',
    '+QNWINFO: "FDD LTE","40102","LTE BAND 3",1300', '+QCSQ: "LTE",-65,-95,150,-10', '+QCSQ: "GSM",-75',
    '^HCSQ: "LTE",52,45,120,20', '^SYSINFOEX:2,3,0,1,,6,"LTE",101,"LTE"',
    "+CPSI: LTE,Online,250-02,0x0EF8,22060,58,EUTRAN-BAND3,1725,3,3,-108,-889,-614,19",
    "!GSTATUS: \nSystem mode:   LTE        \tPS state:  Attached\nLTE band:      B3     \tLTE bw:     20 MHz\n"
    "PCC RxM RSSI:  -72\t\tRSRP (dBm): -105\nTAC:  0E62 (3682)\nRSRQ (dB):  -14\t\tCell ID:  002AC602 (2803202)",
    '#RFSTS: "286 01",1795,-101,-67,-15,2242,,128,3,1,0B5D121,"286016339612498","Turkcell",3,3,108',
    "+QGPSLOC: 061951.0,3150.7223N,11711.9293E,0.7,62.2,2,0.0,0.0,0.0,110513,09",
    "+QGPSLOC: 061951.0,43.30195,68.27037,0.9,230.0,3,9.65,50.1,27.0,010626,09",
    "+CGPSINFO: 3113.343286,N,12121.234064,E,250311,072809.3,44.1,0.0,0", "+CGPSINFO: ,,,,,,,,",
]

FIELD = st.one_of(st.integers(-200000, 200000).map(str), st.sampled_from(["-", "", "--", '""', "255", "99", "FFFF",
                                                                           "0x1F", "A5", "LTE", "NR5G-SA", "N", "E"]),
                  st.floats(-500, 500, allow_nan=False).map(lambda f: f"{f:.2f}"),
                  st.text(min_size=0, max_size=8).map(lambda s: f'"{s}"'), st.text(max_size=6))


def _only_parse_error(fn, line):
    try:
        fn(line)
    except ParseError:
        pass


@FAST
@given(prefix=st.sampled_from(sorted(PARSERS)), body=st.text(max_size=200))
def test_random_text_after_a_known_prefix(prefix, body):
    _only_parse_error(PARSERS[prefix], prefix + body)


@FAST
@given(prefix=st.sampled_from(sorted(PARSERS)), data=st.binary(max_size=200))
def test_random_bytes(prefix, data):
    _only_parse_error(PARSERS[prefix], data.decode("utf-8", "replace"))


@FAST
@given(prefix=st.sampled_from(sorted(PARSERS)), fields=st.lists(FIELD, max_size=24))
def test_random_fields(prefix, fields):
    _only_parse_error(PARSERS[prefix], f"{prefix} {','.join(fields)}")


@FAST
@given(line=st.sampled_from(VALID), data=st.data())
def test_truncated_valid_lines(line, data):
    cut = data.draw(st.integers(0, len(line)))
    prefix = next(p for p in PARSERS if line.startswith(p))
    _only_parse_error(PARSERS[prefix], line[:cut])


@FAST
@given(line=st.sampled_from(VALID), data=st.data())
def test_one_field_replaced(line, data):
    """Odd but well-formed: one field swapped for a missing marker, a big number or text."""
    prefix = next(p for p in PARSERS if line.startswith(p))
    parts = line.split(",")
    i = data.draw(st.integers(0, len(parts) - 1))
    parts[i] = data.draw(FIELD) if i else parts[i]
    try:
        out = PARSERS[prefix](",".join(parts))
    except ParseError:
        return
    assert out is None or isinstance(out, (Cell, GnssFix, tuple, dict, float, object))


def test_valid_lines_parse():
    for line in VALID:
        prefix = next(p for p in PARSERS if line.startswith(p))
        PARSERS[prefix](line)  # must not raise


@FAST
@given(st.binary(max_size=120))
def test_nmea_random_bytes(data):
    b = FixBuilder()
    for line in data.split(b"\n"):
        try:
            b.feed(line)
        except ParseError:
            pass


@FAST
@given(body=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="$*"), max_size=90),
       talker=st.sampled_from(["GP", "GL", "GA", "GB", "GN"]),
       kind=st.sampled_from(["GGA", "RMC", "GSA", "GNS", "VTG"]))
def test_nmea_valid_checksum_random_fields(body, talker, kind):
    """Checksummed sentences with random payloads: pynmeagps accepts or rejects, we only raise ParseError."""
    raw = sentence(f"{talker}{kind},{body}")
    b = FixBuilder()
    try:
        parse_sentence(raw)
        b.feed(raw)
        b.feed(sentence(f"{talker}RMC,235959.00,A,4318.1,N,06816.2,E,1.0,1.0,010626,,,A"))
    except ParseError:
        pass


@FAST
@given(st.dictionaries(st.sampled_from(["class", "mode", "lat", "lon", "time", "speed", "track", "alt", "altMSL"]),
                       st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=30),
                                 st.just("TPV")), max_size=9))
def test_gpsd_tpv_random(obj):
    try:
        parse_gpsd_tpv(obj)
    except ParseError:
        pass


class Noise(PtyDevice):
    """Answers every command with the given bytes."""

    def __init__(self, noise: bytes) -> None:
        super().__init__("noise")
        self.noise = noise

    def on_bytes(self, data: bytes) -> None:
        self.write(self.noise)


@settings(max_examples=12, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.binary(max_size=300),
       final=st.sampled_from([b"", b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\n+CME ERROR: x\r\n"]))
def test_at_channel_never_hangs_on_noise(noise, final):
    dev = Noise(noise + final).start()
    try:
        with ATChannel(dev.path, timeout_s=0.2) as ch:
            t0 = time.monotonic()
            try:
                ch.command("AT+CSQ")
            except ATError:
                pass
            assert time.monotonic() - t0 < 1.5
    finally:
        dev.stop()


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10, 5000), st.floats(-200, 200),
                                 st.text(max_size=8)),
                       lambda children: st.one_of(st.lists(children, max_size=4),
                                                  st.dictionaries(st.sampled_from(
                                                      ["waypoints", "events", "t_s", "lat", "lon", "signal", "tech",
                                                       "401-02", "kind", "from_s", "to_s", "rsrp_dbm", "nr"]),
                                                      children, max_size=5)), max_leaves=20)


@FAST
@given(doc=JSONISH)
def test_route_files_only_raise_scenario_error(doc):
    import json
    import tempfile

    from qamtu.device.errors import ScenarioError
    from qamtu.device.scenario import load_route

    with tempfile.TemporaryDirectory() as d:
        p = f"{d}/route.json"
        with open(p, "w") as f:
            json.dump(doc, f)
        try:
            route = load_route(p)
        except ScenarioError:
            return
        route.signal_at(1.0, "401-02")
        route.position_at(1.0)


@FAST
@given(data=st.one_of(st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")), st.binary(max_size=300)))
def test_transcript_files_only_raise_scenario_error(data):
    import tempfile
    from pathlib import Path

    from qamtu.device.errors import ScenarioError
    from qamtu.device.simulator import parse_transcript

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.txt"
        p.write_bytes(data)
        try:
            parse_transcript(p)
        except ScenarioError:
            pass
