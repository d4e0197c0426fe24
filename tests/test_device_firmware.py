"""Issue 16 part 1 and issue 18 items 3/4 at parse time: real firmware variants, one binning convention,
model families from data tables, non-finite numbers and identifiers out of range."""

from __future__ import annotations

import pytest

from qamtu.device import TranscriptModem, read_modem
from qamtu.device.huawei import parse_hcsq
from qamtu.device.models import Cell, Rat
from qamtu.device.parse_3gpp import parse_cesq, parse_creg
from qamtu.device.quectel import parse_qcsq, parse_qeng, quectel_family, sinr_rule
from qamtu.device.sanity import check_cell
from qamtu.device.simcom import parse_cpsi, simcom_family
from qamtu.device.telit import parse_rfsts_lte, telit_family
from qamtu.device.values import collecting_notes, to_float


def test_one_binning_convention_lower_edge():
    """+CESQ and ^HCSQ report the same lower edge for the same bin (rsrp 45 = -96..-95 dBm)."""
    cesq = parse_cesq("+CESQ: 99,99,255,255,20,45")
    hcsq = parse_hcsq('^HCSQ: "LTE",255,45,255,20')
    assert cesq["rsrp_dbm"] == hcsq.rsrp_dbm == -96.0
    assert cesq["rsrq_db"] == hcsq.rsrq_db == -10.0


def test_cesq_nr_fields_and_extra_fields():
    v = parse_cesq("+CESQ: 99,99,255,255,20,50,70,60,80")
    assert (v["ss_rsrq_db"], v["ss_rsrp_dbm"], v["ss_sinr_db"]) == (-8.5, -97.0, 16.5)
    assert parse_cesq("+CESQ: 99,99,255,255,20,50,255,255,255")["ss_rsrp_dbm"] is None
    notes: list[str] = []
    with collecting_notes(notes):
        v = parse_cesq("+CESQ: 99,99,255,255,20,50,70,60,80,1,2")
    assert v["rsrp_dbm"] == -91.0 and any("kept raw" in n for n in notes)


@pytest.mark.parametrize("line,act", [
    ('+CGREG: 2,1,"1A2B","00C3501F","0B",6', 6),          # quoted RAC before AcT
    ('+CREG: 2,1,"1A2B","00C3501F",6,"0B",0', 6),          # RAC and cause after AcT
    ('+CEREG: 2,1,"1A2B","00C3501F",7,0,0,"00100100","01000111"', 7),
    ('+CREG: 2,1,1A2B,00C3501F,2', 2),
])
def test_registration_with_rac_or_trailing_fields(line, act):
    r = parse_creg(line)
    assert r.state.registered and r.area_code == 0x1A2B and r.cell_id == 0xC3501F and r.act == act


def test_registration_with_one_odd_field_keeps_the_state():
    notes: list[str] = []
    with collecting_notes(notes):
        r = parse_creg('+CEREG: 2,5,"zz","00C3501F",7')
    assert r.state.value == "roaming" and r.area_code is None and r.cell_id == 0xC3501F
    assert any("hexadecimal" in n and "null" in n for n in notes)


def test_simcom_families_come_from_the_data_table():
    assert simcom_family("SIMCOM_SIM7600E-H")["cpsi_levels"] == "tenths"
    assert simcom_family("SIMCOM_SIM7670G-MNGV")["family"] == "A76XX"
    assert simcom_family("A7670E")["cpsi_levels"] == "direct"
    assert simcom_family("SIM7080G")["family"] == "SIM7000"
    line = "+CPSI: LTE,Online,401-02,0x2101,5145089,74,EUTRAN-BAND3,1300,5,5,-11,-108,-79,12"
    assert parse_cpsi(line, "SIMCOM_SIM7670G").rsrp_dbm == -108.0
    assert parse_cpsi(line, "SIMCOM_SIM7600E").rsrp_dbm == -10.8  # the SIM7600 family prints tenths
    nb = parse_cpsi("+CPSI: LTE NB-IOT,Online,401-02,0x2101,5145089,74,EUTRAN-BAND20,6300,0,0,-12,-110,-80,3",
                    "SIM7000E")
    assert nb.rat == Rat.LTE and nb.band == "B20" and nb.rsrp_dbm == -110.0
    gsm = parse_cpsi("+CPSI: GSM,Online,401-01,0x182d,12401,27 EGSM 900,-64,2110,42-42", "SIM7000E")
    assert gsm.rssi_dbm == -64.0 and gsm.channel == 27


def test_quectel_sinr_table_keyed_by_family():
    for model in ("RM500Q-GL", "RG500Q-EA", "RM502Q-AE", "RM505Q-AE"):
        assert quectel_family(model) == "RM500Q"
        assert sinr_rule(model, "x", "LTE")["factor"] == 2.0
        assert sinr_rule(model, "x", "NR")["factor"] == 0.1
    assert quectel_family("RM520N-GL") == "RM520N" and sinr_rule("RM520N-GL", "x", "LTE")["factor"] == 1.0
    assert sinr_rule("EC25-E", "x", "LTE")["verified"] is False


def test_quectel_nsa_six_fields_keeps_the_lte_anchor():
    r = parse_qeng(['+QENG: "servingcell","NOCONN"',
                    '+QENG: "LTE","FDD",401,02,4E9201,74,1300,3,5,5,2101,-91,-11,-60,15,10,-,-',
                    '+QENG: "NR5G-NSA",401,02,520,-95,150,-11'], "RM500Q-GL", "RM500QGLABR11A06M4G")
    lte, nr = r.cells
    assert (lte.rat, lte.rsrp_dbm, lte.sinr_db) == (Rat.LTE, -91.0, 10.0)
    assert (nr.rat, nr.pci, nr.rsrp_dbm, nr.sinr_db, nr.rsrq_db, nr.channel) == (Rat.NR, 520, -95.0, 15.0, -11.0, None)


def test_qcsq_positive_rssi_is_a_magnitude():
    notes: list[str] = []
    with collecting_notes(notes):
        c = parse_qcsq('+QCSQ: "LTE",77,-105,115,-11')
    assert c.rssi_dbm == -77.0 and any("magnitude" in n for n in notes)
    assert parse_qcsq('+QCSQ: "LTE",-77,-105,115,-11').rssi_dbm == -77.0


def test_telit_ln940_caret_rfsts_sinr_in_db():
    assert telit_family("LN940A9")["command"] == "AT^RFSTS"
    c = parse_rfsts_lte('^RFSTS: "401 02",1300,-95,-63,-11,2101,,128,3,1,4E9201,"401021234567890","KCELL",3,3,13.7',
                        "LN940A9")
    assert c.sinr_db == 13.7 and c.rsrp_dbm == -95.0
    le = parse_rfsts_lte('#RFSTS: "286 01",1795,-101,-67,-15,2242,,128,3,1,0B5D121,"286016339612498","Turkcell",'
                         '3,3,108', "LE910C1-EU")
    assert le.sinr_db == pytest.approx(1.6)


# ---------------------------------------------------------------- issue 18 items 3 and 4 at parse time
@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1" * 400])
def test_non_finite_numbers_become_null_with_a_note(text):
    notes: list[str] = []
    with collecting_notes(notes):
        assert to_float(text, command="AT+QCSQ") is None
    assert any("non-finite" in n for n in notes)


def test_rsrp_of_400_digits_does_not_drop_the_reading():
    notes: list[str] = []
    with collecting_notes(notes):
        c = parse_qcsq('+QCSQ: "LTE",-65,-' + "9" * 400 + ',150,-10')
    assert c.rsrp_dbm is None and c.rsrq_db == -10.0 and c.rssi_dbm == -65.0
    assert any("non-finite" in n for n in notes)


@pytest.mark.parametrize("field,value", [("cell_id", 0xFFFFFFFFFFFFFFF), ("channel", 10 ** 19), ("area_code", 70000),
                                         ("pci", 504)])
def test_lte_identifiers_out_of_range_become_null(field, value):
    notes: list[str] = []
    cell = check_cell(Cell(rat=Rat.LTE, rsrp_dbm=-90.0, **{field: value}), notes)
    assert getattr(cell, field) is None and cell.rsrp_dbm == -90.0
    assert any(field in n and "outside" in n for n in notes)


def test_nr_ranges_are_wider_than_lte():
    notes: list[str] = []
    cell = check_cell(Cell(rat=Rat.NR, pci=1007, channel=636666, area_code=0xFFFFFE, cell_id=2 ** 36 - 1), notes)
    assert (cell.pci, cell.channel, cell.area_code, cell.cell_id) == (1007, 636666, 0xFFFFFE, 2 ** 36 - 1) and not notes


def test_reading_with_huge_identifiers_and_infinite_rsrp_is_recorded(tmp_path):
    """Through the driver on a pty: a 16-hex-digit cell id, a 20-digit EARFCN and an RSRP of 400 digits
    give a reading with those fields null and notes naming them; the rest of the reading is kept."""
    t = tmp_path / "hostile.txt"
    t.write_text("# device: Quectel EC25 (hostile answers)\n"
                 "> AT+CGMI\n< Quectel\n< OK\n> AT+CGMM\n< EC25\n< OK\n> AT+COPS?\n< +COPS: 0,2,\"40102\",7\n< OK\n"
                 "> AT+CEREG?\n< +CEREG: 2,1,\"2101\",\"FFFFFFFFFFFFFFF0\",7\n< OK\n"
                 "> AT+QENG=\"servingcell\"\n< +QENG: \"servingcell\",\"NOCONN\",\"LTE\",\"FDD\",401,02,"
                 "FFFFFFFFFFFFFFF0,74," + "9" * 20 + ",3,5,5,2101,-" + "1" * 400 + ",-11,-60,15,10,-,-\n< OK\n")
    with TranscriptModem(t) as modem:
        r = read_modem(modem.path, timeout_s=2)
    cell = r.serving
    assert r.has_service and cell is not None and cell.pci == 74 and cell.rsrq_db == -11.0
    assert cell.cell_id is None and cell.channel is None and cell.rsrp_dbm is None and cell.area_code == 0x2101
    assert any("cell_id" in n for n in r.notes) and any("channel" in n for n in r.notes)
    assert any("non-finite" in n for n in r.notes)
    r.model_dump_json()  # finite JSON: the probe's chain serialises with allow_nan=False


def test_one_odd_field_never_drops_the_whole_answer(tmp_path):
    """A SIMCom +CPSI whose PCI and EARFCN are garbage still gives the cell, its RSRP and its TAC."""
    t = tmp_path / "odd.txt"
    t.write_text("# device: SIMCom SIM7600E-H, odd fields\n"
                 "> AT+CGMI\n< SIMCOM INCORPORATED\n< OK\n> AT+CGMM\n< SIMCOM_SIM7600E-H\n< OK\n"
                 "> AT+COPS?\n< +COPS: 0,2,\"40102\",7\n< OK\n"
                 "> AT+CEREG?\n< +CEREG: 2,1,\"2101\",\"004E9201\",7\n< OK\n"
                 "> AT+CPSI?\n< +CPSI: LTE,Online,401-02,0x2101,5145089,7#4,EUTRAN-BAND3,13x0,5,5,"
                 "-108,-889,-614,19\n< OK\n")
    with TranscriptModem(t) as modem:
        r = read_modem(modem.path, timeout_s=2)
    c = r.serving
    assert c is not None and c.rsrp_dbm == -88.9 and c.area_code == 0x2101 and c.pci is None and c.channel is None
    assert sum("recorded as null" in n for n in r.notes) == 2
    # outside a reading the parser is strict: the property tests hold it to ParseError
    from qamtu.device.errors import ParseError

    with pytest.raises(ParseError):
        parse_cpsi("+CPSI: LTE,Online,401-02,0x2101,5145089,7#4,EUTRAN-BAND3,1300,5,5,-108,-889,-614,19")


@pytest.mark.parametrize("model,driver", [("A7670E", "simcom"), ("SIM7670G-MNGV", "simcom"),
                                          ("RG500Q-EA", "quectel"), ("LN940A9", "telit"), ("UNKNOWN-1", "generic")])
def test_driver_from_the_model_family_tables_when_the_maker_is_silent(model, driver):
    from qamtu.device.drivers import choose_driver
    from qamtu.device.generic import Identity

    assert choose_driver(Identity(None, model, None, "")) == driver
