"""The ``qmi`` and ``mbim`` drivers: modems without ModemManager, through ``qmicli -p`` / ``mbimcli -p``.

Ports: ``qmi:/dev/cdc-wdm0`` and ``mbim:/dev/cdc-wdm0``. Each reading runs the command-line tools of
libqmi / libmbim (``-p``: through their proxy, so they can share the device with ModemManager) and
parses their text output by label. The formats follow the ``g_print`` calls in libqmi
``src/qmicli/qmicli-nas.c`` / ``qmicli-dms.c`` and libmbim ``src/mbimcli/mbimcli-basic-connect.c`` /
``mbimcli-ms-basic-connect-extensions.c``; each fixture in ``tests/fixtures/qmi`` and ``tests/fixtures/mbim``
names the format it follows. Labels are matched, never positions, and unknown lines are ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

from .bands import band_for_channel
from .errors import PortNotFound, PortVanished
from .models import Cell, ModemInfo, ModemReading, Rat, RawExchange, RegState, Technology, utc_now
from .sanity import check_cells
from .values import collecting_notes, finite, operator_name, scale, split_eci, split_nci, split_plmn, table

_QUOTED = re.compile(r"^\s*([^:]+?)\s*:\s*'(.*)'\s*$")
_PLAIN = re.compile(r"^\s*([^:]+?)\s*:\s*(.*?)\s*$")


def _number(text: str | None) -> float | None:
    """The leading number of ``'-86 dBm'`` / ``'20.6 dB'``; None for unknown/n/a."""
    if text is None:
        return None
    m = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
    return finite(float(m.group(1)), "qmicli/mbimcli value") if m else None


def _int(text: str | None) -> int | None:
    v = _number(text)
    return None if v is None else int(v)


def _sections(text: str) -> dict[str, dict[str, str]]:
    """``{section: {label: value}}`` of a qmicli/mbimcli answer: a line ending in ``:`` opens a section
    (``LTE:``, ``5G:``, ``Current PLMN:``, ``LTE Serving cell:``); ``Label: 'value'`` lines fill it. Lines
    before any section go to ``""``. Indentation and unknown labels do not matter."""
    out: dict[str, dict[str, str]] = {"": {}}
    cur = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("[") and line.rstrip().endswith((":", "info", "state")):
            continue
        s = line.strip()
        m = _QUOTED.match(s)
        if m:
            out.setdefault(cur, {})[m.group(1).strip()] = m.group(2)
            continue
        if s.endswith(":"):
            cur = s[:-1].strip()
            out.setdefault(cur, {})
            continue
        m = _PLAIN.match(s)
        if m:
            out.setdefault(cur, {})[m.group(1).strip()] = m.group(2)
    return out


# ---------------------------------------------------------------------- qmicli
def parse_qmi_signal_info(text: str) -> dict[str, dict[str, float | None]]:
    """``qmicli --nas-get-signal-info`` -> ``{"LTE": {"rssi","rsrq","rsrp","snr"}, "5G": {...}, "WCDMA": …}``."""
    out: dict[str, dict[str, float | None]] = {}
    for sec, kv in _sections(text).items():
        key = sec.upper()
        if key in ("LTE", "5G", "WCDMA", "GSM", "TDMA"):
            out[key] = {k.lower(): _number(v) for k, v in kv.items()}
    return out


def parse_qmi_serving_system(text: str) -> dict[str, Any]:
    """``qmicli --nas-get-serving-system`` -> registration, radio interfaces, MCC/MNC, roaming, cell id, TAC, LAC."""
    secs = _sections(text)
    top = {}
    for kv in secs.values():
        for k, v in kv.items():
            top.setdefault(k, v)
    plmn = secs.get("Current PLMN", {})
    ifaces: list[str] = []
    collecting = False
    for line in text.splitlines():  # "[n]: 'lte'" lines right after "Radio interfaces: 'n'"
        m = _QUOTED.match(line.strip())
        if m and m.group(1).strip() == "Radio interfaces":
            collecting = True
        elif m and collecting and re.fullmatch(r"\[\d+\]", m.group(1).strip()):
            ifaces.append(m.group(2))
        elif collecting:
            collecting = False
    mcc, mnc = plmn.get("MCC"), plmn.get("MNC")
    return {"registration": top.get("Registration state"), "radio_interfaces": ifaces,
            "mcc": mcc.zfill(3) if mcc and mcc.isdigit() else None,
            "mnc": mnc.zfill(2) if mnc and mnc.isdigit() else None, "description": plmn.get("Description") or None,
            "roaming": top.get("Roaming status"), "cell_id": _int(top.get("3GPP cell ID")),
            "tac": _int(top.get("LTE tracking area code")), "lac": _int(top.get("3GPP location area code"))}


def parse_qmi_rf_band_info(text: str) -> list[dict[str, Any]]:
    """``qmicli --nas-get-rf-band-info`` -> ``[{"interface": "lte", "band": "eutran-3", "channel": 1451}]``."""
    out, cur = [], None
    for line in text.splitlines():
        m = _QUOTED.match(line.strip())
        if not m:
            continue
        k, v = m.group(1).strip(), m.group(2)
        if k == "Radio Interface":
            cur = {"interface": v, "band": None, "channel": None}
            out.append(cur)
        elif cur is not None and k == "Active Band Class":
            cur["band"] = v
        elif cur is not None and k == "Active Channel":
            cur["channel"] = _int(v)
    return out


_QMI_REG = {"registered": RegState.HOME, "not-registered": RegState.NOT_REGISTERED,
            "not-registered-searching": RegState.SEARCHING, "registration-denied": RegState.DENIED,
            "unknown": RegState.UNKNOWN}


def _qmi_band(name: str | None, rat: str, channel: int | None, notes: list[str]) -> str | None:
    """``eutran-3`` -> ``B3``, ``nr5g-band-78`` -> ``n78``; else from the channel."""
    m = re.search(r"(\d+)$", name or "")
    if m and (name or "").startswith("eutran"):
        return f"B{m.group(1)}"
    if m and "nr5g" in (name or ""):
        return f"n{m.group(1)}"
    return band_for_channel(rat, channel, notes)


def qmi_reading(port: str, signal: str, serving: str, rf: str | None) -> ModemReading:
    """A reading from the three qmicli answers (text)."""
    notes: list[str] = []
    with collecting_notes(notes):
        sig = parse_qmi_signal_info(signal)
        ss = parse_qmi_serving_system(serving)
        bands = parse_qmi_rf_band_info(rf or "")
        reg = _QMI_REG.get(ss["registration"] or "", RegState.UNKNOWN)
        if reg == RegState.HOME and (ss["roaming"] or "").lower() == "on":
            reg = RegState.ROAMING
        ifaces = set(ss["radio_interfaces"])
        lte, nr = sig.get("LTE"), sig.get("5G")
        if not reg.registered:
            tech = Technology.NONE
        elif "5gnr" in ifaces or nr:
            tech = Technology.NR_NSA if ("lte" in ifaces or lte) else Technology.NR_SA
        elif "lte" in ifaces or lte:
            tech = Technology.LTE
        elif "umts" in ifaces or "WCDMA" in sig:
            tech = Technology.UMTS
        elif "gsm" in ifaces or "GSM" in sig:
            tech = Technology.GSM
        else:
            tech = Technology.NONE
        mcc, mnc = ss["mcc"], ss["mnc"]
        band = {b["interface"]: b for b in bands}
        cells: list[Cell] = []
        if tech in (Technology.LTE, Technology.NR_NSA) and lte is not None:
            b = band.get("lte", {})
            node, local = split_eci(ss["cell_id"])
            cells.append(Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, area_code=ss["tac"], cell_id=ss["cell_id"], node_id=node,
                              local_cell_id=local, channel=b.get("channel"),
                              band=_qmi_band(b.get("band"), "LTE", b.get("channel"), notes),
                              rssi_dbm=lte.get("rssi"), rsrq_db=lte.get("rsrq"), rsrp_dbm=lte.get("rsrp"),
                              sinr_db=lte.get("snr")))
        if tech in (Technology.NR_NSA, Technology.NR_SA) and nr is not None:
            b = band.get("5gnr", {})
            node, local = split_nci(ss["cell_id"]) if tech == Technology.NR_SA else (None, None)
            cells.append(Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, channel=b.get("channel"),
                              cell_id=ss["cell_id"] if tech == Technology.NR_SA else None, node_id=node,
                              local_cell_id=local, band=_qmi_band(b.get("band"), "NR", b.get("channel"), notes),
                              rsrp_dbm=nr.get("rsrp"), rsrq_db=nr.get("rsrq"), sinr_db=nr.get("snr")))
        if tech == Technology.UMTS and "WCDMA" in sig:
            w = sig["WCDMA"]
            cells.append(Cell(rat=Rat.UMTS, mcc=mcc, mnc=mnc, area_code=ss["lac"], cell_id=ss["cell_id"],
                              rssi_dbm=w.get("rssi"), ecio_db=w.get("ecio")))
        if tech == Technology.GSM and "GSM" in sig:
            cells.append(Cell(rat=Rat.GSM, mcc=mcc, mnc=mnc, area_code=ss["lac"], cell_id=ss["cell_id"],
                              rssi_dbm=sig["GSM"].get("rssi")))
        cells = check_cells(cells, notes)
    raw = [RawExchange(command=c, lines=t.splitlines(), final="OK") for c, t in
           (("qmicli --nas-get-signal-info", signal), ("qmicli --nas-get-serving-system", serving),
            ("qmicli --nas-get-rf-band-info", rf or "")) if t]
    return ModemReading(time_utc=utc_now(), port=port, driver="qmi", technology=tech, registration=reg,
                        operator_mcc=mcc, operator_mnc=mnc, operator_name=operator_name(mcc, mnc) or ss["description"],
                        cells=cells, notes=notes, raw=raw)


# ---------------------------------------------------------------------- mbimcli
_MBIM_REG = {"home": RegState.HOME, "roaming": RegState.ROAMING, "partner": RegState.ROAMING,
             "searching": RegState.SEARCHING, "deregistered": RegState.NOT_REGISTERED, "denied": RegState.DENIED,
             "unknown": RegState.UNKNOWN}


def parse_mbim_registration(text: str) -> dict[str, Any]:
    """``mbimcli --query-registration-state`` -> register state, data class, provider id and name."""
    kv = {k: v for sec in _sections(text).values() for k, v in sec.items()}
    mcc, mnc = split_plmn(kv.get("Provider ID"))
    return {"state": kv.get("Register state"), "data_class": kv.get("Available data classes"),
            "mcc": mcc, "mnc": mnc, "name": kv.get("Provider name") if kv.get("Provider name") != "unknown" else None}


def parse_mbim_signal_state(text: str) -> float | None:
    """``mbimcli --query-signal-state`` ``RSSI [0-31,99]`` -> dBm (the +CSQ coding, lower bin edge)."""
    kv = {k: v for sec in _sections(text).values() for k, v in sec.items()}
    code = _int(kv.get("RSSI [0-31,99]"))
    return scale(code, table("scaling")["csq"]["rssi"])


def parse_mbim_base_stations(text: str) -> dict[str, dict[str, Any]]:
    """``mbimcli --ms-query-base-stations-info`` -> ``{"LTE": {...}, "NR": {...}}`` serving cells (first NR)."""
    out: dict[str, dict[str, Any]] = {}
    section = None
    for line in text.splitlines():
        s = line.strip()
        low = s.lower()
        if low.startswith("lte serving cell"):
            section = "LTE" if "n/a" not in low else None
            if section:
                out["LTE"] = {}
            continue
        if low.startswith("serving nr cells"):
            section = "NR" if "n/a" not in low else None
            continue
        if low.startswith(("neighboring", "gsm serving", "umts serving", "tdscdma serving", "cdma cells")):
            section = None
            continue
        if section == "NR" and low.startswith("serving cell ["):
            if "NR" in out:  # only the first (primary) NR serving cell
                section = None
            else:
                out["NR"] = {}
            continue
        if section and ":" in s:
            k, v = (x.strip() for x in s.split(":", 1))
            out[section][k.lower()] = None if v in ("unknown", "n/a", "") else v
    return out


def mbim_reading(port: str, registration: str, signal: str, stations: str | None) -> ModemReading:
    """A reading from the three mbimcli answers (text)."""
    notes: list[str] = []
    with collecting_notes(notes):
        reg_info = parse_mbim_registration(registration)
        rssi = parse_mbim_signal_state(signal)
        st = parse_mbim_base_stations(stations or "")
        reg = _MBIM_REG.get((reg_info["state"] or "unknown").lower(), RegState.UNKNOWN)
        dc = (reg_info["data_class"] or "").lower()
        lte, nr = st.get("LTE"), st.get("NR")
        if not reg.registered:
            tech = Technology.NONE
        elif nr or "5g-nsa" in dc or "5g-sa" in dc:
            tech = Technology.NR_SA if ("5g-sa" in dc and not lte) else Technology.NR_NSA
        elif lte is not None or "lte" in dc:
            tech = Technology.LTE
        elif any(x in dc for x in ("umts", "hsdpa", "hsupa")):
            tech = Technology.UMTS
        elif any(x in dc for x in ("gprs", "edge")):
            tech = Technology.GSM
        else:
            tech = Technology.NONE
        mcc, mnc = reg_info["mcc"], reg_info["mnc"]
        cells: list[Cell] = []
        if tech in (Technology.LTE, Technology.NR_NSA):
            c = lte or {}
            cid, ch = _int(c.get("cell id")), _int(c.get("earfcn"))
            node, local = split_eci(cid)
            pm, pn = split_plmn(c.get("provider id"))
            cells.append(Cell(rat=Rat.LTE, mcc=pm or mcc, mnc=pn or mnc, cell_id=cid, node_id=node, local_cell_id=local,
                              area_code=_int(c.get("tac")), pci=_int(c.get("physical cell id")), channel=ch,
                              band=band_for_channel("LTE", ch, notes), rsrp_dbm=_number(c.get("rsrp")),
                              rsrq_db=_number(c.get("rsrq")), rssi_dbm=rssi))
        if nr is not None and tech in (Technology.NR_NSA, Technology.NR_SA):
            nci, ch = _int(nr.get("nci")), _int(nr.get("nrarfcn"))
            node, local = split_nci(nci)
            pm, pn = split_plmn(nr.get("provider id"))
            cells.append(Cell(rat=Rat.NR, mcc=pm or mcc, mnc=pn or mnc, cell_id=nci, node_id=node, local_cell_id=local,
                              area_code=_int(nr.get("tac")), pci=_int(nr.get("physical cell id")), channel=ch,
                              band=band_for_channel("NR", ch, notes), rsrp_dbm=_number(nr.get("rsrp")),
                              rsrq_db=_number(nr.get("rsrq")), sinr_db=_number(nr.get("sinr"))))
        if tech in (Technology.UMTS, Technology.GSM):
            cells.append(Cell(rat=Rat.UMTS if tech == Technology.UMTS else Rat.GSM, mcc=mcc, mnc=mnc, rssi_dbm=rssi))
        if rssi is not None:
            notes.append("MBIM signal state RSSI is the 27.007 +CSQ code, bin lower edge")
        cells = check_cells(cells, notes)
    raw = [RawExchange(command=c, lines=t.splitlines(), final="OK") for c, t in
           (("mbimcli --query-registration-state", registration), ("mbimcli --query-signal-state", signal),
            ("mbimcli --ms-query-base-stations-info", stations or "")) if t]
    return ModemReading(time_utc=utc_now(), port=port, driver="mbim", technology=tech, registration=reg,
                        operator_mcc=mcc, operator_mnc=mnc, operator_name=operator_name(mcc, mnc) or reg_info["name"],
                        cells=cells, csq_rssi_dbm=rssi, notes=notes, raw=raw)


# ---------------------------------------------------------------------- the drivers
class _CliModem:
    """Runs a libqmi/libmbim command-line tool per query. ``tool`` may be overridden with the environment
    variable ``QAMTU_QMICLI`` / ``QAMTU_MBIMCLI`` (a full path)."""

    name = ""
    tool = ""
    env_var = ""
    package = ""
    counter_command = None

    def __init__(self, port: str, *, timeout_s: float = 10.0) -> None:
        self._port = port
        self.device = port.split(":", 1)[1]
        self.timeout_s = timeout_s
        exe = os.environ.get(self.env_var) or shutil.which(self.tool)
        if not exe:
            raise PortNotFound(port, f"{self.tool} is not installed: `sudo apt install {self.package}`, or read the "
                                     "modem through ModemManager (`qamtu devices` lists `modemmanager:` ports)")
        self.exe = exe
        if not os.path.exists(self.device):
            raise PortNotFound(port, f"no device {self.device} (is the modem plugged in? `ls /dev/cdc-wdm*`)")

    @classmethod
    def open(cls, port: str, *, timeout_s: float = 10.0):
        """Open ``qmi:/dev/cdc-wdm0`` / ``mbim:/dev/cdc-wdm0`` (the registry's entry point)."""
        return cls(port, timeout_s=timeout_s)

    @property
    def port(self) -> str:
        return self._port

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing is held between queries."""

    def run(self, *args: str, check: bool = True) -> str:
        """Run ``tool -d DEVICE -p ARGS``; its stdout. PortVanished when the device went away."""
        try:
            p = subprocess.run([self.exe, "-d", self.device, "-p", *args], capture_output=True, text=True,
                               timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise PortVanished(self._port, f"{self.tool} {' '.join(args)} did not answer within {self.timeout_s:g} s") \
                from None
        if p.returncode != 0 and check:
            if not os.path.exists(self.device):
                raise PortVanished(self._port, f"{self.device} went away")
            why = (p.stderr or p.stdout).strip()[:300]
            raise PortVanished(self._port, f"{self.tool} {' '.join(args)} failed: {why}")
        return p.stdout if p.returncode == 0 else ""


class QmiModem(_CliModem):
    """``qmi:/dev/cdc-wdm0`` through ``qmicli -p`` (libqmi-utils)."""

    name, tool, env_var, package = "qmi", "qmicli", "QAMTU_QMICLI", "libqmi-utils"

    def read(self) -> ModemReading:
        return qmi_reading(self._port, self.run("--nas-get-signal-info"), self.run("--nas-get-serving-system"),
                           self.run("--nas-get-rf-band-info", check=False))

    def info(self) -> ModemInfo:
        text = "\n".join(self.run(a, check=False) for a in ("--dms-get-manufacturer", "--dms-get-model",
                                                            "--dms-get-revision", "--dms-get-ids"))
        kv = {k: v for sec in _sections(text).values() for k, v in sec.items()}
        imei = kv.get("IMEI") if re.fullmatch(r"\d{14,16}", kv.get("IMEI") or "") else None
        return ModemInfo(port=self._port, driver=self.name, manufacturer=kv.get("Manufacturer"), model=kv.get("Model"),
                         firmware=kv.get("Revision"), imei=imei,
                         raw=[RawExchange(command="qmicli --dms-get-*", lines=text.splitlines(), final="OK")])


class MbimModem(_CliModem):
    """``mbim:/dev/cdc-wdm0`` through ``mbimcli -p`` (libmbim-utils)."""

    name, tool, env_var, package = "mbim", "mbimcli", "QAMTU_MBIMCLI", "libmbim-utils"

    def read(self) -> ModemReading:
        return mbim_reading(self._port, self.run("--query-registration-state"), self.run("--query-signal-state"),
                            self.run("--ms-query-base-stations-info", check=False))

    def info(self) -> ModemInfo:
        text = self.run("--query-device-caps", check=False)
        kv = {k: v for sec in _sections(text).values() for k, v in sec.items()}
        imei = kv.get("Device ID") if re.fullmatch(r"\d{14,16}", kv.get("Device ID") or "") else None
        return ModemInfo(port=self._port, driver=self.name, manufacturer=None, model=kv.get("Hardware info"),
                         firmware=kv.get("Firmware info"), imei=imei,
                         raw=[RawExchange(command="mbimcli --query-device-caps", lines=text.splitlines(), final="OK")])
