"""Parsers and value rules: bins, scalings, missing values, identifiers, data tables."""

from __future__ import annotations

import pytest

from qamtu.device.errors import ParseError
from qamtu.device.huawei import parse_hcsq, parse_sysinfoex
from qamtu.device.models import RegState, Technology
from qamtu.device.parse_3gpp import parse_cesq, parse_cops, parse_creg, parse_csq
from qamtu.device.quectel import parse_qcsq, parse_qeng, parse_qnwinfo, sinr_rule
from qamtu.device.simcom import parse_cpsi
from qamtu.device.telit import parse_rfsts_lte
from qamtu.device.values import (mcc_mnc, operator_name, split_eci, split_nci, split_plmn, table, to_float, to_hex,
                                 to_int)


@pytest.mark.parametrize("line,dbm", [("+CSQ: 0,99", -113.0), ("+CSQ: 1,99", -111.0), ("+CSQ: 17,99", -79.0),
                                      ("+CSQ: 31,0", -51.0), ("+CSQ: 99,99", None), ("+CSQ: 32,99", None)])
def test_csq_bins(line, dbm):
    assert parse_csq(line) == dbm


def test_cesq_bins_and_unknowns():
    v = parse_cesq("+CESQ: 30,0,255,255,255,255")
    assert v["rxlev_dbm"] == -81.0 and v["rsrp_dbm"] is None and v["rsrq_db"] is None and v["rscp_dbm"] is None
    v = parse_cesq("+CESQ: 99,99,40,30,34,97")
    assert (v["rxlev_dbm"], v["rscp_dbm"], v["ecno_db"], v["rsrq_db"],
            v["rsrp_dbm"]) == (None, -81.0, -9.5, -3.0, -44.0)
    v = parse_cesq("+CESQ: 99,99,255,255,0,0,255,255,255")  # with the NR fields of newer releases
    assert (v["rsrq_db"], v["rsrp_dbm"]) == (-20.0, -141.0)


def test_cops_forms():
    assert parse_cops("+COPS: 0").mcc is None
    op = parse_cops('+COPS: 0,2,"40177",7')
    assert (op.mode, op.mcc, op.mnc, op.act) == (0, "401", "77", 7)
    assert parse_cops('+COPS: 0,0,"KZ KCELL",7').name == "KZ KCELL"
    assert parse_cops('+COPS: 1,2,"310260",7').mnc == "260"
    with pytest.raises(ParseError):
        parse_cops('+COPS: 0,2,"Kcell",7')


def test_creg_query_and_urc_forms():
    r = parse_creg('+CEREG: 2,1,"3584","00ef4a08",7')
    assert (r.state, r.area_code, r.cell_id, r.technology) == (RegState.HOME, 0x3584, 0xEF4A08, Technology.LTE)
    assert parse_creg("+CEREG: 1", query=False).state == RegState.HOME
    assert parse_creg("+CREG: 0,5").state == RegState.ROAMING
    assert parse_creg("+CGREG: 2,3").state == RegState.DENIED
    assert parse_creg('+C5GREG: 2,1,"00A1B2","1A2B3C4D5",11').technology == Technology.NR_SA
    with pytest.raises(ParseError):
        parse_creg("+CEREG: 2,42")


def test_missing_values_are_none_never_zero():
    assert to_int("-") is None and to_int("") is None and to_int("--") is None and to_int("-32768") is None
    assert to_float(" - ") is None and to_int("99", unknown=(99,)) is None and to_int("0") == 0
    assert to_hex("FFFE") is None and to_hex('"0x21F9"') == 0x21F9
    with pytest.raises(ParseError):
        to_int("1x")


def test_identifiers():
    assert split_eci(0xEF4A08) == (0xEF4A, 0x08)
    assert split_nci(0x1A2B3C4D5) == (0x1A2B3C, 0x4D5)
    assert mcc_mnc("401", "2") == ("401", "02") and mcc_mnc("401", "02") == ("401", "02")
    assert (split_plmn("401 77") == ("401", "77") and split_plmn("401-07") == ("401", "07")
            and split_plmn("x") == (None, None))


def test_kazakh_operators_from_table():
    assert [operator_name("401", m) for m in ("01", "02", "07", "77")] == ["Beeline", "Kcell", "Altel", "Tele2"]
    assert operator_name("401", "99") is None
    assert all(v["source"] for v in table("operators")["operators"].values())


def test_quectel_sinr_scaling_is_a_table_lookup_per_model():
    assert sinr_rule("RM500Q-GL", "RM500QGLABR11A06M4G", "LTE")["factor"] == 2.0
    assert sinr_rule("RM500Q-GL", "x", "NR")["factor"] == 0.1
    assert sinr_rule("RM520N-GL", "x", "NR")["factor"] == 1.0
    ec25 = sinr_rule("EC25", "x", "LTE")
    assert ec25["factor"] == 1.0 and ec25["verified"] is False and "UNVERIFIED" in ec25["source"]
    for rule in table("scaling")["quectel"]["qeng"]["sinr"]:
        assert rule["source"]


def test_qeng_missing_fields_and_bad_layouts():
    r = parse_qeng(['+QENG: "servingcell","NOCONN","LTE","FDD",401,02,4E9201,-,1300,3,5,5,2101,-80,-,-52,-,-,-,-'],
                   "EC25", "x")
    c = r.cells[0]
    assert c.pci is None and c.rsrq_db is None and c.sinr_db is None and c.rsrp_dbm == -80.0
    assert parse_qeng(['+QENG: "servingcell","LIMSRV"']).state == "LIMSRV"
    # a truncated technology line keeps the state and says why the cell is missing (issue 16 principle)
    part = parse_qeng(['+QENG: "servingcell","NOCONN","LTE","FDD",401'])
    assert part.state == "NOCONN" and part.cells == [] and any("expected at least 15" in n for n in part.notes)
    # ... and one bad line does not drop the good one
    two = parse_qeng(['+QENG: "servingcell","CONNECT"',
                      '+QENG: "LTE","FDD",401,02,4E9201,74,1300,3,5,5,2101,-91,-11,-60,15,10,-,-',
                      '+QENG: "NR5G-NSA",401,02'], "RM500Q-GL", "x")
    assert [c.rat.value for c in two.cells] == ["LTE"] and any("NR5G-NSA" in n or "at least 6" in n for n in two.notes)
    with pytest.raises(ParseError):
        parse_qeng(['+QENG: "servingcell","WEIRD"'])
    with pytest.raises(ParseError):
        parse_qeng(["OK"])


def test_qcsq_field_count_depends_on_mode():
    assert parse_qcsq('+QCSQ: "NOSERVICE"') is None
    assert parse_qcsq('+QCSQ: "GSM",-75').rssi_dbm == -75.0
    w = parse_qcsq('+QCSQ: "WCDMA",-70,-85,-6')
    assert (w.rscp_dbm, w.ecio_db) == (-85.0, -6.0)
    lte = parse_qcsq('+QCSQ: "LTE",-65,-95,150,-10')
    assert (lte.rsrp_dbm, lte.sinr_db, lte.rsrq_db) == (-95.0, 10.0, -10.0)
    with pytest.raises(ParseError):
        parse_qcsq('+QCSQ: "LTE",-65,-95')


def test_qnwinfo():
    n = parse_qnwinfo('+QNWINFO: "FDD LTE","40102","LTE BAND 3",1300')
    assert (n.act, n.mcc, n.mnc, n.band, n.channel) == ("FDD LTE", "401", "02", "LTE BAND 3", 1300)
    assert parse_qnwinfo("+QNWINFO: No Service").mcc is None


def test_huawei_scalings_and_unknowns():
    c = parse_hcsq('^HCSQ: "LTE",255,45,255,20')
    # bin lower edges, the +CESQ convention: rsrp 45 = "-96 <= rsrp < -95"
    assert c.rssi_dbm is None and c.rsrp_dbm == -96.0 and c.sinr_db is None and c.rsrq_db == -10.0
    assert parse_hcsq('^HCSQ: "NOSERVICE"') is None
    assert parse_hcsq('^HCSQ: "GSM",50').rssi_dbm == -71.0
    assert parse_sysinfoex('^SYSINFOEX:0,0,0,1,,0,"NO SERVICE",0,"NO SERVICE"').technology == Technology.NONE
    assert parse_sysinfoex('^SYSINFOEX: 2,4,5,1,0,3,"WCDMA",41,"HSPA+"').technology == Technology.UMTS


def test_simcom_tenths_of_db():
    c = parse_cpsi("+CPSI: LTE,Online,404-45,0x21F9,322642,453,EUTRAN-BAND40,39275,4,4,-168,-1126,-773,7")
    assert (c.rsrq_db, c.rsrp_dbm, c.rssi_dbm, c.band, c.area_code) == (-16.8, -112.6, -77.3, "B40", 0x21F9)
    assert parse_cpsi("+CPSI: NO SERVICE,Online") is None


def test_telit_orders_anchor_on_imsi():
    le = parse_rfsts_lte('#RFSTS: "286 01",1795,-101,-67,-15,2242,,128,3,1,0B5D121,"286016339612498",'
                         '"Turkcell",3,3,108')
    lm = parse_rfsts_lte('#RFSTS: "310 260",66786,-101,-68,-13,2D18,255,,640,1,0,3089F02,"000000000000000",'
                         '"T-Mobile",3,66')
    assert le.cell_id == 0xB5D121 and lm.cell_id == 0x3089F02
    assert le.band == "B3" and lm.band == "B66" and lm.sinr_db is None and le.sinr_db == pytest.approx(1.6)
    with pytest.raises(ParseError):
        parse_rfsts_lte('#RFSTS: "286 01",1795,-101')
