"""The ``modemmanager`` driver: modems that ModemManager owns, read over D-Bus (modemmanager.md, field-anchors.md 5.1).

Port strings: ``modemmanager:<index>`` (``/org/freedesktop/ModemManager1/Modem/<index>``),
``modemmanager:<IMEI>`` or ``modemmanager:<equipment id or device id>``; the GNSS source
``modemmanager-gps:<same>`` is the modem's own GPS through the Location interface.

What a reading uses: ``Modem.AccessTechnologies`` (technology), ``Modem3gpp.RegistrationState``,
``OperatorCode``/``OperatorName``, ``Signal.Lte/Nr5g/Umts/Gsm`` (after ``Signal.Setup``; the previous
rate is restored on close), ``Location.GetLocation`` source 1 (3GPP: MCC, MNC, LAC, CI, TAC in hex)
and ``Modem.GetCellInfo`` where offered (serving cells with EARFCN/NR-ARFCN -> band, PCI, TAC, CI).
A call that polkit refuses or the modem does not support leaves its fields empty and says why in the
reading's notes, with what to do; it never stops the reading. A modem that disappears (unplugged,
ModemManager restarted) raises :class:`~qamtu.device.errors.PortVanished` like a serial modem.
"""

from __future__ import annotations

import re
from typing import Any

from .bands import band_for_channel
from .errors import GnssError, PortNotFound, PortVanished
from .gnss import GnssSource
from .mm_dbus import MM, MM_PATH, MMBus, MMCallError
from .models import Cell, FixMode, GnssFix, ModemInfo, ModemReading, Rat, RawExchange, RegState, Technology, utc_now
from .nmea import FixBuilder
from .parse_3gpp import REG_STATES
from .sanity import check_cells
from .values import collecting_notes, finite, operator_name, split_eci, split_nci, split_plmn

PREFIX = "modemmanager:"
GPS_PREFIX = "modemmanager-gps:"
IF_MODEM = MM + ".Modem"
IF_3GPP = MM + ".Modem.Modem3gpp"
IF_SIGNAL = MM + ".Modem.Signal"
IF_LOCATION = MM + ".Modem.Location"

#: MMModemAccessTechnology bits (ModemManager-enums.h)
_GSM_BITS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4)              # GSM, GSM compact, GPRS, EDGE
_UMTS_BITS = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9)  # UMTS, HSDPA, HSUPA, HSPA, HSPA+
_LTE_BITS = (1 << 14) | (1 << 16) | (1 << 17)                     # LTE, LTE Cat-M, LTE NB-IoT
_NR_BIT = 1 << 15
#: MMModemLocationSource
LOC_3GPP, LOC_GPS_RAW, LOC_GPS_NMEA = 1, 2, 4
#: MMCellType
_CELL_RAT = {2: Rat.GSM, 3: Rat.UMTS, 4: Rat.UMTS, 5: Rat.LTE, 6: Rat.NR}
#: MMModemState: below ENABLED (6) the modem has no radio readings
_STATE_ENABLED = 6

HINT_DENIED = ("ModemManager refused {what} (polkit): run Qamtu as a user of the active local session, or "
               "allow org.freedesktop.ModemManager1.Device.Control in a polkit rule")
HINT_UNSUPPORTED = ("this modem or ModemManager version does not offer {what} "
                    "(ModemManager >= 1.20 needed for cell info)")


def technology_from_bits(bits: int | None) -> Technology:
    """Technology from ``Modem.AccessTechnologies``: LTE + 5GNR = NR-NSA, 5GNR alone = NR-SA."""
    if not bits:
        return Technology.NONE
    if bits & _NR_BIT:
        return Technology.NR_NSA if bits & _LTE_BITS else Technology.NR_SA
    if bits & _LTE_BITS:
        return Technology.LTE
    if bits & _UMTS_BITS:
        return Technology.UMTS
    if bits & _GSM_BITS:
        return Technology.GSM
    return Technology.NONE


def parse_location_3gpp(text: str | None) -> dict[str, Any]:
    """``GetLocation()[1]`` = ``"MCC,MNC,LAC,CI,TAC"`` (LAC, CI, TAC hex; TAC since MM 1.10) -> dict."""
    if not text:
        return {}
    f = [x.strip() for x in str(text).split(",")]
    out: dict[str, Any] = {}
    if len(f) >= 2 and re.fullmatch(r"\d{3}", f[0]) and re.fullmatch(r"\d{2,3}", f[1]):
        out["mcc"], out["mnc"] = f[0], f[1]
    for key, i in (("lac", 2), ("ci", 3), ("tac", 4)):
        if len(f) > i and re.fullmatch(r"[0-9A-Fa-f]{1,16}", f[i]):
            v = int(f[i], 16)
            out[key] = v or None  # 0 = not known
    return out


def _num(d: dict, key: str) -> float | None:
    v = d.get(key)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return finite(float(v), f"ModemManager {key}")
    return None


def _hex(d: dict, key: str) -> int | None:
    v = d.get(key)
    if isinstance(v, str) and re.fullmatch(r"[0-9A-Fa-f]{1,16}", v.strip()):
        return int(v.strip(), 16)
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return None


def parse_cell_info(cells: list[dict[str, Any]], notes: list[str]) -> list[Cell]:
    """Serving cells of ``Modem.GetCellInfo()`` (``aa{sv}``; keys as in libmm-glib ``MMCellInfo*``:
    ``cell-type``, ``serving``, ``operator-id``, ``lac``/``tac``, ``ci``, ``physical-ci``, ``earfcn``/
    ``nrarfcn``/``uarfcn``/``arfcn``, ``psc``, ``rsrp``, ``rsrq``, ``sinr``, ``rscp``, ``ecio``, ``rx-level``,
    ``bandwidth``). Unknown keys and cell types are ignored."""
    out: list[Cell] = []
    for c in cells:
        if not isinstance(c, dict) or not c.get("serving"):
            continue
        rat = _CELL_RAT.get(c.get("cell-type"))
        if rat is None:
            continue
        mcc, mnc = split_plmn(c.get("operator-id"))
        channel = c.get("nrarfcn") if rat == Rat.NR else c.get("earfcn") if rat == Rat.LTE else \
            c.get("uarfcn") if rat == Rat.UMTS else c.get("arfcn")
        channel = channel if isinstance(channel, int) and not isinstance(channel, bool) else None
        cid = _hex(c, "ci")
        node, local = split_nci(cid) if rat == Rat.NR else split_eci(cid) if rat == Rat.LTE else (None, None)
        bw = _num(c, "bandwidth")
        area = _hex(c, "tac") if rat in (Rat.LTE, Rat.NR) else _hex(c, "lac")
        out.append(Cell(rat=rat, mcc=mcc, mnc=mnc, area_code=area,
                        cell_id=cid, node_id=node, local_cell_id=local,
                        pci=_hex(c, "physical-ci") if rat in (Rat.LTE, Rat.NR) else _hex(c, "psc"),
                        channel=channel, band=band_for_channel(rat.value, channel, notes),
                        bandwidth_mhz=None if bw is None else bw / 1000.0,  # kHz in MMCellInfo
                        rsrp_dbm=_num(c, "rsrp"), rsrq_db=_num(c, "rsrq"), sinr_db=_num(c, "sinr"),
                        rscp_dbm=_num(c, "rscp"), ecio_db=_num(c, "ecio"), rssi_dbm=_num(c, "rx-level")))
    return out


def cells_from_signal(tech: Technology, signal: dict[str, dict], loc: dict[str, Any]) -> list[Cell]:
    """Serving cell(s) from the ``Signal`` dictionaries and the 3GPP location (no band: MM's Signal has none)."""
    mcc, mnc = loc.get("mcc"), loc.get("mnc")
    lte, nr = signal.get("Lte") or {}, signal.get("Nr5g") or {}
    umts, gsm = signal.get("Umts") or {}, signal.get("Gsm") or {}
    cells: list[Cell] = []
    if tech in (Technology.LTE, Technology.NR_NSA):
        node, local = split_eci(loc.get("ci"))
        cells.append(Cell(rat=Rat.LTE, mcc=mcc, mnc=mnc, area_code=loc.get("tac"), cell_id=loc.get("ci"),
                          node_id=node, local_cell_id=local, rsrp_dbm=_num(lte, "rsrp"), rsrq_db=_num(lte, "rsrq"),
                          rssi_dbm=_num(lte, "rssi"), sinr_db=_num(lte, "snr")))
    if tech == Technology.NR_NSA and nr:
        cells.append(Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, rsrp_dbm=_num(nr, "rsrp"), rsrq_db=_num(nr, "rsrq"),
                          sinr_db=_num(nr, "snr")))
    elif tech == Technology.NR_SA:
        node, local = split_nci(loc.get("ci"))
        cells.append(Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, area_code=loc.get("tac"), cell_id=loc.get("ci"),
                          node_id=node, local_cell_id=local, rsrp_dbm=_num(nr, "rsrp"), rsrq_db=_num(nr, "rsrq"),
                          sinr_db=_num(nr, "snr")))
    elif tech == Technology.UMTS:
        cells.append(Cell(rat=Rat.UMTS, mcc=mcc, mnc=mnc, area_code=loc.get("lac"), cell_id=loc.get("ci"),
                          rscp_dbm=_num(umts, "rscp"), ecio_db=_num(umts, "ecio"), rssi_dbm=_num(umts, "rssi")))
    elif tech == Technology.GSM:
        cells.append(Cell(rat=Rat.GSM, mcc=mcc, mnc=mnc, area_code=loc.get("lac"), cell_id=loc.get("ci"),
                          rssi_dbm=_num(gsm, "rssi")))
    return cells


# ---------------------------------------------------------------------- finding modems
def list_mm_modems(bus: MMBus | None = None) -> list[dict[str, Any]]:
    """ModemManager's modems: ``index``, ``path``, ``port`` (``modemmanager:<index>``), ``imei``,
    ``equipment_id``, ``device_id``, ``manufacturer``, ``model``, ``ports`` (its serial/net ports), ``state``.
    Empty when ModemManager is not on the bus."""
    own = bus is None
    try:
        bus = bus or MMBus(timeout_s=3.0)
    except MMCallError:
        return []
    try:
        if not bus.running():
            return []
        objs = bus.managed_objects()
    except MMCallError:
        return []
    finally:
        if own:
            bus.close()
    out = []
    for path, ifs in objs.items():
        m = ifs.get(IF_MODEM)
        if m is None:
            continue
        index = path.rsplit("/", 1)[-1]
        g3 = ifs.get(IF_3GPP, {})
        out.append({"index": int(index) if index.isdigit() else index, "path": path, "port": f"{PREFIX}{index}",
                    "imei": g3.get("Imei") or None, "equipment_id": m.get("EquipmentIdentifier") or None,
                    "device_id": m.get("DeviceIdentifier") or None, "manufacturer": m.get("Manufacturer") or None,
                    "model": m.get("Model") or None, "ports": [p[0] for p in m.get("Ports", []) if p],
                    "primary_port": m.get("PrimaryPort") or None, "state": m.get("State"),
                    "plugin": m.get("Plugin") or None, "drivers": m.get("Drivers") or []})
    return sorted(out, key=lambda d: (str(type(d["index"])), d["index"]))


def mm_candidates() -> list[str]:
    """``modemmanager:<index>`` of every modem ModemManager has now (where a lost modem may reappear)."""
    return [m["port"] for m in list_mm_modems()]


def mm_port_for(device: str) -> str | None:
    """The ``modemmanager:`` port string of the modem that owns serial port ``device`` (``/dev/ttyUSB2``,
    ``ttyUSB2`` or a socket path), or None."""
    name = device.rsplit("/", 1)[-1]
    for m in list_mm_modems():
        for p in m["ports"] + ([m["primary_port"]] if m["primary_port"] else []):
            if p == device or p.rsplit("/", 1)[-1] == name:
                return m["port"]
    return None


def resolve(spec: str, bus: MMBus) -> str:
    """Object path of ``modemmanager:<index | IMEI | equipment id | device id>``.

    :raises PortNotFound: no such modem now (the message lists the ones there are).
    """
    key = spec.split(":", 1)[1].strip() if ":" in spec else spec
    if not bus.running():
        raise PortNotFound(spec, "ModemManager is not running on the system bus (`systemctl status ModemManager`); "
                                 "without it, use the modem's AT port, qmi:/dev/cdc-wdm0 or mbim:/dev/cdc-wdm0")
    modems = list_mm_modems(bus)
    for m in modems:
        if key in (str(m["index"]), m["imei"], m["equipment_id"], m["device_id"], m["path"]):
            return m["path"]
    have = ", ".join(f"{m['port']} ({m['manufacturer'] or ''} {m['model'] or ''}, IMEI {m['imei']})" for m in modems)
    raise PortNotFound(spec, "ModemManager has no such modem" + (f"; it has: {have}" if have else
                                                                   " (it lists no modems; is the modem enabled?)"))


# ---------------------------------------------------------------------- the driver
class MMModem:
    """A modem read through ModemManager. Same interface as :class:`~qamtu.device.generic.GenericModem`:
    ``read()``, ``info()``, ``close()``, context manager, ``port``, ``name``."""

    name = "modemmanager"
    counter_command = None  # ModemManager's AT passthrough needs --debug: no modem counters

    def __init__(self, port: str, *, timeout_s: float = 5.0, signal_rate_s: int = 1) -> None:
        self._port = port
        self.bus = MMBus(timeout_s=timeout_s)
        try:
            self.path = resolve(port, self.bus)
        except BaseException:
            self.bus.close()
            raise
        self.signal_rate_s = signal_rate_s
        self._previous_rate: int | None = None
        self._previous_location: tuple[int, bool] | None = None
        self._skip: set[str] = set()
        self._hints: dict[str, str] = {}
        self._setup_done = False

    @classmethod
    def open(cls, port: str, *, timeout_s: float = 5.0) -> "MMModem":
        """Open ``modemmanager:<index | IMEI | id>`` (the registry's entry point, like ``open_modem``)."""
        return open_mm_modem(port, timeout_s=timeout_s)

    # ------------------------------------------------------------------ plumbing
    @property
    def port(self) -> str:
        """The port string the modem was opened with."""
        return self._port

    def __enter__(self) -> "MMModem":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Restore the signal refresh rate and location sources found at setup, then disconnect."""
        try:
            if self._previous_rate is not None:
                self._try(IF_SIGNAL, "Setup", "u", (self._previous_rate,), what="Signal.Setup (restore)")
            if self._previous_location is not None:
                self._try(IF_LOCATION, "Setup", "ub", self._previous_location, what="Location.Setup (restore)")
        except (MMCallError, PortVanished):
            pass  # the modem is gone: nothing to restore
        finally:
            self._previous_rate = self._previous_location = None
            self.bus.close()

    def _vanished_if_gone(self, exc: MMCallError) -> None:
        """Raise PortVanished when the error means the modem object (or ModemManager) is gone. GDBus answers
        a call on a removed object with UnknownMethod/UnknownObject, so those are checked against the list."""
        gone = exc.gone
        if not gone and exc.unsupported:
            try:
                gone = self.path not in self.bus.managed_objects()
            except MMCallError:
                gone = True
        if gone:
            raise PortVanished(self._port, f"the modem left ModemManager ({exc.name}); it is looked for again") \
                from None

    def _call(self, iface: str, method: str, sig: str | None = None, body: tuple = ()) -> tuple:
        try:
            return self.bus.call(self.path, iface, method, sig, body)
        except MMCallError as exc:
            self._vanished_if_gone(exc)
            raise

    def _props(self, iface: str) -> dict[str, Any]:
        try:
            return self.bus.get_all(self.path, iface)
        except MMCallError as exc:
            self._vanished_if_gone(exc)
            if exc.unsupported or exc.denied:
                self._hint(iface.rsplit(".", 1)[-1], exc)
                return {}
            raise

    def _hint(self, what: str, exc: MMCallError) -> None:
        text = (HINT_DENIED if exc.denied else HINT_UNSUPPORTED).format(what=what)
        self._hints[what] = f"{text} ({exc.name})"

    def _try(self, iface: str, method: str, sig: str | None = None, body: tuple = (), *, what: str) -> tuple | None:
        """A call whose refusal only empties fields: None (and a hint in the notes) on denied/unsupported."""
        if what in self._skip:
            return None
        try:
            return self._call(iface, method, sig, body)
        except MMCallError as exc:
            if exc.denied or exc.unsupported:
                self._skip.add(what)
                self._hint(what, exc)
                return None
            raise

    def setup(self) -> None:
        """Once: ask ModemManager to poll signal every ``signal_rate_s`` and to report the 3GPP location."""
        if self._setup_done:
            return
        self._setup_done = True
        sig = self._props(IF_SIGNAL)
        if sig and sig.get("Rate") != self.signal_rate_s:
            if self._try(IF_SIGNAL, "Setup", "u", (self.signal_rate_s,), what="Signal.Setup") is not None:
                self._previous_rate = int(sig.get("Rate") or 0)
        loc = self._props(IF_LOCATION)
        if loc:
            enabled, signals = int(loc.get("Enabled") or 0), bool(loc.get("SignalsLocation"))
            if int(loc.get("Capabilities") or 0) & LOC_3GPP and not enabled & LOC_3GPP:
                done = self._try(IF_LOCATION, "Setup", "ub", (enabled | LOC_3GPP, signals), what="Location.Setup")
                if done is not None:
                    self._previous_location = (enabled, signals)

    # ------------------------------------------------------------------ identity
    def info(self) -> ModemInfo:
        """Manufacturer, model, firmware, IMEI, IMSI and ICCID (from the modem's SIM object)."""
        m = self._props(IF_MODEM)
        g3 = self._props(IF_3GPP)
        imsi = iccid = None
        sim = m.get("Sim")
        if sim and sim != "/":
            try:
                s = self.bus.get_all(sim, MM + ".Sim")
                imsi, iccid = s.get("Imsi") or None, s.get("SimIdentifier") or None
            except MMCallError:
                pass
        equipment = m.get("EquipmentIdentifier") or ""
        imei = g3.get("Imei") or (equipment if re.fullmatch(r"\d{14,16}", equipment) else None)
        sim_mcc, sim_mnc = (imsi[:3], imsi[3:5]) if imsi and re.fullmatch(r"\d{6,15}", imsi) else (None, None)
        return ModemInfo(port=self._port, driver=self.name, manufacturer=m.get("Manufacturer") or None,
                         model=m.get("Model") or None, firmware=m.get("Revision") or None, imei=imei or None,
                         imsi=imsi if sim_mcc else None,
                         iccid=iccid if iccid and re.fullmatch(r"[0-9Ff]{18,22}", iccid) else None,
                         sim_mcc=sim_mcc, sim_mnc=sim_mnc, sim_operator=operator_name(sim_mcc, sim_mnc),
                         raw=[RawExchange(command=f"D-Bus GetAll {IF_MODEM} {self.path}",
                                          lines=[f"{k}={m.get(k)!r}" for k in ("Manufacturer", "Model", "Revision",
                                                                               "EquipmentIdentifier")], final="OK")])

    # ------------------------------------------------------------------ reading
    def read(self) -> ModemReading:
        """One reading through ModemManager (see the module docstring)."""
        notes: list[str] = []
        with collecting_notes(notes):
            return self._read(notes)

    def _read(self, notes: list[str]) -> ModemReading:
        self.setup()
        time_utc = utc_now()
        raw: list[RawExchange] = []
        m = self._props(IF_MODEM)
        g3 = self._props(IF_3GPP)
        signal = self._props(IF_SIGNAL)
        state = m.get("State")
        if isinstance(state, int) and state < _STATE_ENABLED:
            notes.append(f"ModemManager reports the modem in state {state} (not enabled): enable it "
                         f"(`mmcli -m {self.path.rsplit('/', 1)[-1]} --enable` or NetworkManager)")
        loc_raw = self._try(IF_LOCATION, "GetLocation", what="Location.GetLocation")
        loc = parse_location_3gpp((loc_raw[0] if loc_raw else {}).get(LOC_3GPP)) if loc_raw else {}
        cell_info = self._try(IF_MODEM, "GetCellInfo", what="GetCellInfo")
        bits = m.get("AccessTechnologies")
        reg_code = g3.get("RegistrationState")
        registration = REG_STATES.get(reg_code, RegState.UNKNOWN) if isinstance(reg_code, int) else RegState.UNKNOWN
        tech = technology_from_bits(bits) if registration.registered else Technology.NONE
        mcc, mnc = split_plmn(g3.get("OperatorCode"))
        cells = parse_cell_info(cell_info[0], notes) if cell_info and cell_info[0] else []
        if cells:
            notes.append("serving cells from ModemManager GetCellInfo; band from the channel (data/arfcn_bands.toml)")
            sig_cells = {c.rat: c for c in cells_from_signal(tech, signal, loc)}
            cells = [c.model_copy(update={k: v for k, v in sig_cells[c.rat].model_dump().items()
                                          if v is not None and getattr(c, k) is None})
                     if c.rat in sig_cells else c for c in cells]
        elif tech != Technology.NONE:
            cells = cells_from_signal(tech, signal, loc)
        cells = [c if c.mcc else c.model_copy(update={"mcc": mcc, "mnc": mnc}) for c in cells]
        cells = check_cells(cells, notes)
        raw.append(RawExchange(command=f"D-Bus {self.path}", final="OK", lines=[
            f"AccessTechnologies={bits!r} State={state!r}", f"RegistrationState={reg_code!r} "
            f"OperatorCode={g3.get('OperatorCode')!r} OperatorName={g3.get('OperatorName')!r}",
            *(f"Signal.{k}={signal.get(k)!r}" for k in ("Lte", "Nr5g", "Umts", "Gsm") if signal.get(k)),
            f"Location[3gpp]={(loc_raw[0] if loc_raw else {}).get(LOC_3GPP)!r}",
            f"GetCellInfo={cell_info[0] if cell_info else None!r}"]))
        if signal and not any(signal.get(k) for k in ("Lte", "Nr5g", "Umts", "Gsm")) and tech != Technology.NONE:
            notes.append("ModemManager has no signal values yet (Signal.Setup polls every "
                         f"{self.signal_rate_s} s; the first reading after opening may be empty)")
        notes.extend(v for v in self._hints.values() if v not in notes)
        return ModemReading(time_utc=time_utc, port=self._port, driver=self.name, technology=tech,
                            registration=registration, operator_mcc=mcc, operator_mnc=mnc,
                            operator_name=operator_name(mcc, mnc) or g3.get("OperatorName") or None, cells=cells,
                            notes=notes, raw=raw)


def open_mm_modem(port: str, *, timeout_s: float = 5.0) -> MMModem:
    """Open ``modemmanager:<index | IMEI | id>``; raises PortNotFound / MMCallError (no ModemManager)."""
    try:
        return MMModem(port, timeout_s=timeout_s)
    except MMCallError as exc:
        raise PortNotFound(port, f"{exc}. Is ModemManager running (`systemctl status ModemManager`)?") from None


# ---------------------------------------------------------------------- the modem's GPS
class MMGnssSource(GnssSource):
    """``modemmanager-gps:<index | IMEI | id>``: the modem's GNSS through ``Location`` (NMEA source, else raw).

    Enables the GPS sources it needs at open and restores the previous ones at close.
    :raises GnssError: ModemManager or the modem offers no GPS (with what to do).
    """

    def __init__(self, spec: str, *, max_age_s: float = 5.0) -> None:
        super().__init__(max_age_s)
        self.spec = spec
        self.source = spec
        key = PREFIX + spec.split(":", 1)[1]
        try:
            self.bus = MMBus(timeout_s=5.0)
            self.path = resolve(key, self.bus)
            loc = self.bus.get_all(self.path, IF_LOCATION)
        except (MMCallError, PortNotFound) as exc:
            raise GnssError(f"{spec}: {exc}") from None
        caps = int(loc.get("Capabilities") or 0)
        want = caps & (LOC_GPS_NMEA | LOC_GPS_RAW)
        if not want:
            self.bus.close()
            raise GnssError(f"{spec}: the modem offers no GPS through ModemManager (Location capabilities {caps}); "
                            "use an NMEA port (`--gnss /dev/ttyUSB1`) or gpsd instead")
        self._previous = (int(loc.get("Enabled") or 0), bool(loc.get("SignalsLocation")))
        try:
            self.bus.call(self.path, IF_LOCATION, "Setup", "ub", (self._previous[0] | want, self._previous[1]))
        except MMCallError as exc:
            self.bus.close()
            raise GnssError(f"{spec}: cannot enable GPS: " + (HINT_DENIED.format(what="Location.Setup")
                                                              if exc.denied else str(exc))) from None
        self._builder = FixBuilder(spec)

    def _poll(self, deadline: float) -> GnssFix | None:
        try:
            loc = self.bus.call(self.path, IF_LOCATION, "GetLocation")[0]
        except MMCallError as exc:
            raise GnssError(f"{self.spec}: {exc}") from None
        return fix_from_location(loc, self.spec, self._builder)

    def close(self) -> None:
        try:
            self.bus.call(self.path, IF_LOCATION, "Setup", "ub", self._previous)
        except MMCallError:
            pass
        self.bus.close()


def fix_from_location(loc: dict, source: str, builder: FixBuilder | None = None) -> GnssFix | None:
    """A fix from ``GetLocation()``: the NMEA trace (source 4) through the NMEA reader, else the raw
    GPS dictionary (source 2: ``latitude``, ``longitude``, ``altitude``, ``utc-time``)."""
    nmea = loc.get(LOC_GPS_NMEA)
    if isinstance(nmea, str) and nmea.strip():
        b = builder or FixBuilder(source)
        fix = None
        from .errors import ParseError

        for line in re.split(r"[\r\n]+", nmea):
            if line.strip():
                try:
                    fix = b.feed(line) or fix
                except ParseError:
                    continue
        fix = fix or b.flush_if_complete()
        if fix is not None:
            return fix
    rawgps = loc.get(LOC_GPS_RAW)
    if isinstance(rawgps, dict) and "latitude" in rawgps and "longitude" in rawgps:
        from .sanity import check_fix

        alt = rawgps.get("altitude")
        return check_fix(GnssFix(time_utc=utc_now(), lat_deg=float(rawgps["latitude"]),
                                 lon_deg=float(rawgps["longitude"]), alt_m=None if alt is None else float(alt),
                                 mode=FixMode.FIX_3D if alt is not None else FixMode.FIX_2D, source=source,
                                 notes=["position from ModemManager's raw GPS source (no NMEA)"]))
    return None


def is_mm_port(port: str) -> bool:
    """True for ``modemmanager:…`` port strings."""
    return port.startswith(PREFIX)


__all__ = ["MMModem", "MMGnssSource", "list_mm_modems", "mm_candidates", "mm_port_for", "open_mm_modem", "resolve",
           "parse_cell_info", "parse_location_3gpp", "technology_from_bits", "fix_from_location", "MM_PATH"]
