"""Simulated modem profiles: how each vendor/model answers the AT commands its driver uses.

A profile turns the scenario's :class:`~qamtu.device.scenario.Signal` into the vendor's documented
answer format (field-anchors.md 5.2-5.8), applying the inverse of the scalings in
``data/scaling.toml``. The parsers are checked independently against the recorded transcripts in
``tests/fixtures/at``; the profiles only have to be faithful enough for the contract suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .scenario import Signal

_ACT = {"GSM": 0, "UMTS": 2, "LTE": 7, "NR-NSA": 13, "NR-SA": 11}


@dataclass
class ModemContext:
    """What a profile needs to answer: the operator's signal now, the SIM, the GNSS position."""

    signal: Signal
    mcc: str
    mnc: str
    imsi: str
    iccid: str
    imei: str
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    speed_mps: float = 0.0
    course_deg: float = 0.0
    utc: object = None  # datetime
    settings: dict[str, int] = field(default_factory=dict)
    counters: object = None  # () -> (rx_bytes, tx_bytes) of the simulated data link, when one is attached


def _clip(v: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(round(v))))


def _inv(value: float | None, factor: float, offset: float, unknown: int | str = "-") -> str:
    if value is None:
        return str(unknown)
    return str(int(round((value - offset) / factor)))


class GenericProfile:
    """A plain 27.007 modem."""

    name = "generic"
    manufacturer = "Generic"
    model = "LTE Modem"
    firmware = "1.0.0"

    def ati(self) -> list[str]:
        return [f"Manufacturer: {self.manufacturer}", f"Model: {self.model}", f"Revision: {self.firmware}"]

    # the extra answers of vendor profiles; a key is a regex on the upper-cased command
    def vendor(self, cmd: str, ctx: ModemContext) -> list[str] | str | None:
        return None

    def answer(self, cmd: str, ctx: ModemContext) -> list[str] | str:
        """Answer lines (``OK`` appended by the caller) or a final error string (``"ERROR"``…)."""
        u = cmd.upper()
        v = self.vendor(u, ctx)
        if v is not None:
            return v
        s = ctx.signal
        if u in ("AT", "ATE0", "ATE1", "AT+CMEE=1", "AT+CMEE=2", "AT+COPS=3,2", "AT+COPS=3,0"):
            return []
        if u == "ATI":
            return self.ati()
        if u == "AT+CGMI":
            return [self.manufacturer]
        if u == "AT+CGMM":
            return [self.model]
        if u == "AT+CGMR":
            return [self.firmware]
        if u in ("AT+CGSN", "AT+GSN"):
            return [ctx.imei]
        if u == "AT+CIMI":
            return [ctx.imsi]
        if u == "AT+CCID":
            return [f"+CCID: {ctx.iccid}"]
        m = re.fullmatch(r"AT\+(C5GREG|CEREG|CGREG|CREG)=(\d)", u)
        if m:
            ctx.settings[m.group(1)] = int(m.group(2))
            return []
        if u == "AT+COPS?":
            if s.tech == "none":
                return ["+COPS: 0"]
            return [f'+COPS: 0,2,"{ctx.mcc}{ctx.mnc}",{_ACT[s.tech]}']
        m = re.fullmatch(r"AT\+(C5GREG|CEREG|CGREG|CREG)\?", u)
        if m:
            return [registration_line(m.group(1), s, ctx.settings.get(m.group(1), 0))]
        if u == "AT+CSQ":
            if s.tech in ("none",) or s.rssi_dbm is None:
                return ["+CSQ: 99,99"]
            return [f"+CSQ: {_clip((s.rssi_dbm + 113) / 2, 0, 31)},99"]
        if u == "AT+CESQ":
            rx = _clip(s.rssi_dbm + 111, 0, 63) if s.tech == "GSM" and s.rssi_dbm is not None else 99
            rscp = _clip(s.rscp_dbm + 121, 0, 96) if s.tech == "UMTS" and s.rscp_dbm is not None else 255
            ecno = _clip((s.ecio_db + 24.5) * 2, 0, 49) if s.tech == "UMTS" and s.ecio_db is not None else 255
            lte = s.tech in ("LTE", "NR-NSA")
            rsrq = _clip((s.rsrq_db + 20) * 2, 0, 34) if lte and s.rsrq_db is not None else 255
            rsrp = _clip(s.rsrp_dbm + 141, 0, 97) if lte and s.rsrp_dbm is not None else 255
            return [f"+CESQ: {rx},99,{rscp},{ecno},{rsrq},{rsrp}"]
        return "ERROR"


def registration_line(which: str, s: Signal, n: int) -> str:
    """``+CEREG: <n>,<stat>[,"<tac>","<ci>",<AcT>]`` for the domain ``which`` given the signal."""
    served = {"CREG": ("GSM", "UMTS", "LTE", "NR-NSA"), "CGREG": ("GSM", "UMTS"), "CEREG": ("LTE", "NR-NSA"),
              "C5GREG": ("NR-SA",)}[which]
    if s.tech == "none":
        return f"+{which}: {n},2"
    if s.tech not in served:
        return f"+{which}: {n},0" if which != "CREG" or s.tech != "NR-SA" else f"+{which}: {n},1"
    if n < 2:
        return f"+{which}: {n},1"
    area = s.tac if s.tech in ("LTE", "NR-NSA", "NR-SA") else s.lac
    width = 6 if which == "C5GREG" else 4
    act = _ACT[s.tech] if which != "CEREG" else 7
    return f'+{which}: {n},1,"{(area or 0):0{width}X}","{(s.cell_id or 0):08X}",{act}'


class QuectelProfile(GenericProfile):
    """Quectel EC25: one-line LTE ``+QENG``, ``+QCSQ``, ``+QNWINFO``, ``+QGPSLOC``."""

    name = "quectel-ec25"
    manufacturer = "Quectel"
    model = "EC25"
    firmware = "EC25EFAR06A09M4G"
    two_line = False

    def ati(self) -> list[str]:
        return ["Quectel", self.model, f"Revision: {self.firmware}"]

    def sinr_raw(self, db: float | None, rat: str) -> str:
        from .quectel import sinr_rule

        if db is None:
            return "-"
        rule = sinr_rule(self.model, self.firmware, rat)
        return _inv(db, rule["factor"], rule["offset"])

    def _lte_fields(self, s: Signal, ctx: ModemContext) -> str:
        band = (s.band or "B3").lstrip("Bb")
        return (f'"LTE","FDD",{ctx.mcc},{ctx.mnc},{(s.cell_id or 0):X},{s.pci if s.pci is not None else "-"},'
                f'{s.channel or "-"},{band},5,5,{(s.tac or 0):X},{_num(s.rsrp_dbm)},{_num(s.rsrq_db)},'
                f'{_num(s.rssi_dbm)},{self.sinr_raw(s.sinr_db, "LTE")},10,-,-')

    def qeng(self, s: Signal, ctx: ModemContext) -> list[str]:
        state = "NOCONN"
        if s.tech == "none":
            return ['+QENG: "servingcell","SEARCH"']
        if s.tech in ("LTE", "NR-NSA"):
            lines = ([f'+QENG: "servingcell","{state}"', f"+QENG: {self._lte_fields(s, ctx)}"] if self.two_line
                     else [f'+QENG: "servingcell","{state}",{self._lte_fields(s, ctx)}'])
            if s.tech == "NR-NSA" and s.nr is not None and self.two_line:
                nr = s.nr
                lines.append(f'+QENG: "NR5G-NSA",{ctx.mcc},{ctx.mnc},{nr.pci},{_num(nr.rsrp_dbm)},'
                             f'{self.sinr_raw(nr.sinr_db, "NR")},{_num(nr.rsrq_db)},{nr.channel},'
                             f'{(nr.band or "n78").lstrip("n")},12,1')
            return lines
        if s.tech == "NR-SA":
            return [f'+QENG: "servingcell","{state}","NR5G-SA","TDD",{ctx.mcc},{ctx.mnc},{(s.cell_id or 0):X},'
                    f'{s.pci},{(s.tac or 0):X},{s.channel},{(s.band or "n78").lstrip("n")},12,{_num(s.rsrp_dbm)},'
                    f'{_num(s.rsrq_db)},{self.sinr_raw(s.sinr_db, "NR")},1,-']
        if s.tech == "UMTS":
            return [f'+QENG: "servingcell","{state}","WCDMA",{ctx.mcc},{ctx.mnc},{(s.lac or 0):X},'
                    f'{(s.cell_id or 0):X},{s.channel},{s.pci},1,{_num(s.rscp_dbm)},{_num(s.ecio_db)},-,-,-,-,-']
        return [f'+QENG: "servingcell","{state}","GSM",{ctx.mcc},{ctx.mnc},{(s.lac or 0):X},{(s.cell_id or 0):X},'
                f'{s.pci},{s.channel},0,{_num(s.rssi_dbm)},-,-,-,-,-,-,-,-,-,-,-,-,-,-,-']

    def vendor(self, u: str, ctx: ModemContext) -> list[str] | str | None:
        s = ctx.signal
        if u == 'AT+QENG="SERVINGCELL"':
            return self.qeng(s, ctx)
        if u == "AT+QGDCNT?":  # +QGDCNT: <bytes_sent>,<bytes_recv> (Quectel AT manual)
            rx, tx = ctx.counters() if callable(ctx.counters) else (0, 0)
            return [f"+QGDCNT: {tx},{rx}"]
        if u == "AT+QCCID":
            return [f"+QCCID: {ctx.iccid}"]
        if u == "AT+QCSQ":
            if s.tech == "none":
                return ['+QCSQ: "NOSERVICE"']
            if s.tech == "GSM":
                return [f'+QCSQ: "GSM",{_num(s.rssi_dbm)}']
            if s.tech == "UMTS":
                return [f'+QCSQ: "WCDMA",{_num(s.rssi_dbm)},{_num(s.rscp_dbm)},{_num(s.ecio_db)}']
            sinr = "-" if s.sinr_db is None else _inv(s.sinr_db, 0.2, -20.0)
            return [f'+QCSQ: "LTE",{_num(s.rssi_dbm)},{_num(s.rsrp_dbm)},{sinr},{_num(s.rsrq_db)}']
        if u == "AT+QNWINFO":
            if s.tech == "none":
                return ["+QNWINFO: No Service"]
            return [f'+QNWINFO: "FDD LTE","{ctx.mcc}{ctx.mnc}","LTE BAND {(s.band or "B3").lstrip("B")}",{s.channel}']
        if u in ("AT+QGPS=1",):
            was_on = ctx.settings.get("QGPS", 0)
            ctx.settings["QGPS"] = 1
            return "+CME ERROR: 504" if was_on else []
        if u == "AT+QGPSEND":
            ctx.settings["QGPS"] = 0
            return []
        if u == "AT+QGPSLOC=2":
            if not ctx.settings.get("QGPS"):
                return "+CME ERROR: 505"
            if ctx.lat is None:
                return "+CME ERROR: 516"
            t = ctx.utc
            return [f"+QGPSLOC: {t:%H%M%S}.0,{ctx.lat:.5f},{ctx.lon:.5f},0.9,{ctx.alt_m:.1f},3,"
                    f"{ctx.course_deg:.2f},{ctx.speed_mps * 3.6:.1f},{ctx.speed_mps * 3.6 / 1.852:.1f},{t:%d%m%y},09"]
        return None


class QuectelRm500qProfile(QuectelProfile):
    """Quectel RM500Q: two-line LTE, EN-DC NSA line; LTE SINR x2-20, NR SINR tenths (data table)."""

    name = "quectel-rm500q"
    model = "RM500Q-GL"
    firmware = "RM500QGLABR11A06M4G"
    two_line = True


class QuectelRm520nProfile(QuectelProfile):
    """Quectel RM520N: two-line forms, NR5G-SA, direct dB SINR."""

    name = "quectel-rm520n"
    model = "RM520N-GL"
    firmware = "RM520NGLAAR01A07M4G"
    two_line = True


class HuaweiProfile(GenericProfile):
    """Huawei ME909s: ``^HCSQ?`` (values encoded so that their bin lower edge is the scenario's), ``^SYSINFOEX``,
    ``^ICCID?``, ``^DSFLOWQRY``."""

    name = "huawei-me909"
    manufacturer = "Huawei Technologies Co., Ltd."
    model = "ME909s-120"
    firmware = "11.617.01.00.00"

    def vendor(self, u: str, ctx: ModemContext) -> list[str] | str | None:
        s = ctx.signal
        if u == "AT^HCSQ?":
            if s.tech == "none":
                return ['^HCSQ: "NOSERVICE"']
            if s.tech == "GSM":
                return [f'^HCSQ: "GSM",{_inv(s.rssi_dbm, 1, -121, 255)}']
            if s.tech == "UMTS":
                return [f'^HCSQ: "WCDMA",{_inv(s.rssi_dbm, 1, -121, 255)},{_inv(s.rscp_dbm, 1, -121, 255)},'
                        f'{_inv(s.ecio_db, 0.5, -32.5, 255)}']
            return [f'^HCSQ: "LTE",{_inv(s.rssi_dbm, 1, -121, 255)},{_inv(s.rsrp_dbm, 1, -141, 255)},'
                    f'{_inv(s.sinr_db, 0.2, -20.2, 255)},{_inv(s.rsrq_db, 0.5, -20, 255)}']
        if u == "AT^SYSINFOEX":
            if s.tech == "none":
                return ['^SYSINFOEX:0,0,0,1,,0,"NO SERVICE",0,"NO SERVICE"']
            mode = {"GSM": (3, "GSM", 3, "GPRS"), "UMTS": (4, "WCDMA", 45, "HSPA+")}.get(s.tech, (6, "LTE", 101, "LTE"))
            return [f'^SYSINFOEX:2,3,0,1,,{mode[0]},"{mode[1]}",{mode[2]},"{mode[3]}"']
        if u == "AT^ICCID?":
            return [f"^ICCID: {ctx.iccid}"]
        if u == "AT^DSFLOWQRY":  # hex: last ds time, last tx, last rx, total time, total tx, total rx
            rx, tx = ctx.counters() if callable(ctx.counters) else (0, 0)
            return [f"^DSFLOWQRY:00000000,{tx:016X},{rx:016X},00000000,{tx:016X},{rx:016X}"]
        return None


class SimcomProfile(GenericProfile):
    """SIMCom SIM7600: ``+CPSI?`` with tenths of dB, ``+CGPSINFO``, ``+CICCID``."""

    name = "simcom-sim7600"
    manufacturer = "SIMCOM INCORPORATED"
    model = "SIMCOM_SIM7600E-H"
    firmware = "LE20B04SIM7600M22"

    def vendor(self, u: str, ctx: ModemContext) -> list[str] | str | None:
        s = ctx.signal
        if u == "AT+CPSI?":
            if s.tech == "none":
                return ["+CPSI: NO SERVICE,Online"]
            if s.tech == "GSM":
                return [f"+CPSI: GSM,Online,{ctx.mcc}-{ctx.mnc},0x{(s.lac or 0):04X},{s.cell_id},{s.channel} EGSM 900,"
                        f"{_num(s.rssi_dbm)},0,0-0"]
            if s.tech == "UMTS":
                return [f"+CPSI: WCDMA,Online,{ctx.mcc}-{ctx.mnc},0x{(s.lac or 0):04X},{s.cell_id},WCDMA IMT 2000,"
                        f"{s.pci},{s.channel},0,{_num(s.ecio_db)},{_num(s.rscp_dbm)},0,0"]
            t = lambda v: "-" if v is None else str(int(round(v * 10)))  # noqa: E731 - tenths of dB
            return [f"+CPSI: LTE,Online,{ctx.mcc}-{ctx.mnc},0x{(s.tac or 0):04X},{s.cell_id},{s.pci},"
                    f"EUTRAN-BAND{(s.band or 'B3').lstrip('B')},{s.channel},5,5,{t(s.rsrq_db)},{t(s.rsrp_dbm)},"
                    f"{t(s.rssi_dbm)},{_num(s.sinr_db)}"]
        if u == "AT+CICCID":
            return [f"ICCID: {ctx.iccid}"]
        if u in ("AT+CGPS=1", "AT+CGPS=1,1"):
            ctx.settings["CGPS"] = 1
            return []
        if u == "AT+CGPSINFO":
            if ctx.lat is None or ctx.lon is None or not ctx.settings.get("CGPS"):
                return ["+CGPSINFO: ,,,,,,,,"]
            when = ctx.utc
            return [f"+CGPSINFO: {_dmm(ctx.lat, 2)},{'N' if ctx.lat >= 0 else 'S'},{_dmm(ctx.lon, 3)},"
                    f"{'E' if ctx.lon >= 0 else 'W'},{when:%d%m%y},{when:%H%M%S}.0,{ctx.alt_m:.1f},"
                    f"{ctx.speed_mps * 3.6 / 1.852:.1f},{ctx.course_deg:.1f}"]
        return None


class SierraProfile(GenericProfile):
    """Sierra Wireless EM7455: ``!GSTATUS?`` free text (newer PCC RxM layout)."""

    name = "sierra-em7455"
    manufacturer = "Sierra Wireless, Incorporated"
    model = "EM7455"
    firmware = "SWI9X30C_02.33.03.00"

    def vendor(self, u: str, ctx: ModemContext) -> list[str] | str | None:
        s = ctx.signal
        if u != "AT!GSTATUS?":
            return None
        if s.tech not in ("LTE", "NR-NSA"):
            mode = {"none": "No service", "GSM": "GSM", "UMTS": "WCDMA"}.get(s.tech, "LTE")
            return ["!GSTATUS: ", "Current Time:  4012\t\tTemperature: 38", f"System mode:   {mode}"]
        return ["!GSTATUS: ", "Current Time:  4012\t\tTemperature: 38",
                "Reset Counter: 1\t\tMode:        ONLINE",
                "System mode:   LTE        \tPS state:    Attached",
                f"LTE band:      {s.band or 'B3'}     \tLTE bw:      10 MHz",
                f"LTE Rx chan:   {s.channel}\t\tLTE Tx chan: {(s.channel or 0) + 18000}",
                "EMM state:     Registered \tNormal Service",
                "RRC state:     RRC Idle",
                f"PCC RxM RSSI:  {_num(s.rssi_dbm)}\t\tPCC RxM RSRP:  {_num(s.rsrp_dbm)}",
                f"PCC RxD RSSI:  {_num((s.rssi_dbm or 0) - 3)}\t\tPCC RxD RSRP:  {_num((s.rsrp_dbm or 0) - 3)}",
                "Tx Power:      --",
                f"TAC:           {(s.tac or 0):04X} ({s.tac or 0})",
                f"RSRQ (dB):     {_num(s.rsrq_db)}\t\tCell ID:  {(s.cell_id or 0):08X} ({s.cell_id or 0})",
                f"SINR (dB):     {'--' if s.sinr_db is None else f'{s.sinr_db:.1f}'}"]


class TelitProfile(GenericProfile):
    """Telit LE910C1: ``#RFSTS`` without TXPWR; :class:`TelitLm960Profile` has the LM960 order."""

    name = "telit-le910"
    manufacturer = "Telit"
    model = "LE910C1-EU"
    firmware = "25.21.660"
    lm960 = False

    def vendor(self, u: str, ctx: ModemContext) -> list[str] | str | None:
        s = ctx.signal
        if u != "AT#RFSTS":
            return None
        if s.tech not in ("LTE", "NR-NSA"):
            return "+CME ERROR: 100" if s.tech == "none" else None
        band = (s.band or "B3").lstrip("B")
        sinr = "" if s.sinr_db is None else "," + _inv(s.sinr_db, 0.2, -20.0)
        head = f'#RFSTS: "{ctx.mcc} {ctx.mnc}",{s.channel},{_num(s.rsrp_dbm)},{_num(s.rssi_dbm)},{_num(s.rsrq_db)},' \
               f'{(s.tac or 0):04X}'
        if self.lm960:
            return [f'{head},255,,640,1,0,{(s.cell_id or 0):07X},"{ctx.imsi}","OPERATOR",3,{band}']
        return [f'{head},,128,3,1,{(s.cell_id or 0):07X},"{ctx.imsi}","OPERATOR",3,{band}{sinr}']


class TelitLm960Profile(TelitProfile):
    """Telit LM960: empty TXPWR field present, no SINR."""

    name = "telit-lm960"
    model = "LM960A18"
    firmware = "32.00.115"
    lm960 = True


def _num(v: float | None) -> str:
    """An integer field as modems print it; ``-`` when unknown."""
    return "-" if v is None else str(int(round(v)))


def _dmm(deg: float, width: int) -> str:
    d = int(abs(deg))
    m = (abs(deg) - d) * 60
    return f"{d:0{width}d}{m:09.6f}"


PROFILES: dict[str, type[GenericProfile]] = {
    p.name: p for p in (GenericProfile, QuectelProfile, QuectelRm500qProfile, QuectelRm520nProfile, HuaweiProfile,
                        SimcomProfile, SierraProfile, TelitProfile, TelitLm960Profile)
}
