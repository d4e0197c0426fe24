"""The capture loop: modems + GNSS -> tagged, hash-chained samples in the store.

Threads: one :class:`~qamtu.probe.workers.ModemWorker` per modem (one SIM per operator, read in
parallel), one :class:`~qamtu.probe.workers.GnssWorker`, and speed tests in their own threads. The
recorder runs on the calling thread and is the only writer: it takes each radio item from the
queue, joins the newest fix, tags the settlement, commits the sample, and only then counts it as
recorded (and prints it with ``--json-lines``). "No service", "modem lost" and "no fix" are
recorded like any other sample.

Speed-test triggers, per modem: every ``speedtest_every_s`` seconds, every ``speedtest_every_m``
metres driven, and on entering a settlement. Without a runner the trigger is recorded as an event.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from ..mapping.gazetteer import Gazetteer
from ..mapping.geodesy import haversine_m
from ..mapping.tagging import Tagger
from .clock import Clock, SystemClock
from .errors import ProbeError
from .samples import Context, Event, ModemIdentity, Sample, SampleStatus, SettlementTag, SpeedTestRecord
from .store import SessionWriter, Store, StoreError
from .workers import GnssWorker, ModemEvent, ModemWorker, RadioItem

#: A speed-test runner: (modem port, interface or None) -> SpeedTestResult (never raises for network trouble).
SpeedTestRunner = Callable[[str, Optional[str]], Any]


@dataclass
class CaptureConfig:
    """Everything a capture session needs. Times in clock seconds, distances in metres."""

    ports: list[str]
    inspector: str
    gnss: Optional[str] = None
    driver: Optional[str] = None
    inspection_id: Optional[str] = None
    interfaces: dict[str, str] = field(default_factory=dict)  # port -> network interface for its speed tests
    interval_s: float = 1.0
    max_fix_age_s: float = 5.0
    speedtest_every_s: Optional[float] = None
    speedtest_every_m: Optional[float] = None
    speedtest_on_entry: bool = False
    duration_s: Optional[float] = None  # clock seconds; None = until stopped
    max_samples: Optional[int] = None
    at_timeout_s: float = 3.0
    candidates: Optional[Callable[[], list[str]]] = None  # where a lost modem may reappear
    clock_jump_warn_s: float = 30.0  # a jump of the system or GNSS clock larger than this is a warning event
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModemState:
    """What the live view shows of one modem."""

    port: str  # where it is now (a modem that reappears elsewhere moves with its state)
    identity: ModemIdentity
    configured_port: Optional[str] = None  # the --port it was given as (keys ``CaptureConfig.interfaces``)
    reading: Any = None
    status: str = "starting"
    error: Optional[str] = None
    samples: int = 0
    no_service: int = 0
    speedtests: int = 0
    last_speedtest: Optional[dict] = None
    # trigger bookkeeping
    last_test_mono: Optional[float] = None
    metres_since_test: float = 0.0
    last_pos: Optional[tuple[float, float]] = None
    last_kato: Optional[str] = None
    test_running: bool = False


@dataclass
class CaptureState:
    """Counters and the newest of everything, for the live view and the summary."""

    session_id: str
    started_utc: datetime
    modems: dict[str, ModemState] = field(default_factory=dict)
    fix: Any = None
    fix_reason: Optional[str] = None
    settlement: Optional[SettlementTag] = None
    samples: int = 0
    no_service: int = 0
    modem_lost: int = 0
    no_fix: int = 0
    speedtests: int = 0
    events: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "samples": self.samples, "no_service": self.no_service,
                "modem_lost": self.modem_lost, "no_fix": self.no_fix, "speedtests": self.speedtests,
                "events": self.events,
                "modems": {p: {"imei": m.identity.imei, "operator": m.identity.sim_operator, "samples": m.samples,
                               "speedtests": m.speedtests} for p, m in self.modems.items()}}


class Capture:
    """One capture session. ``run()`` blocks until the duration, the sample limit, or ``stop()``."""

    def __init__(self, store: Store, config: CaptureConfig, *, gazetteer: Gazetteer | None = None,
                 clock: Clock | None = None, speedtest: SpeedTestRunner | None = None,
                 on_record: Callable[[str, dict], None] | None = None, modem_opener=None, gnss_opener=None):
        if not config.ports:
            raise ProbeError("qamtu probe: give at least one modem (--port)")
        self.store = store
        self.config = config
        self.clock = clock or SystemClock()
        self.gazetteer = gazetteer or Gazetteer.load()
        self.tagger = Tagger(self.gazetteer)
        self.speedtest = speedtest
        self.on_record = on_record
        self.queue: "queue.Queue" = queue.Queue()
        self._stop = threading.Event()
        self._modem_opener = modem_opener
        self._gnss_opener = gnss_opener
        self.writer: SessionWriter | None = None
        self.state: CaptureState | None = None
        self.workers: list[ModemWorker] = []
        self.gnss: GnssWorker | None = None
        self.context = Context(inspector=config.inspector, inspection_id=config.inspection_id)
        self.failed = False

    # -------------------------------------------------------------- lifecycle
    def start(self) -> CaptureState:
        c = self.config
        meta = {"ports": c.ports, "gnss": c.gnss, "driver": c.driver, "interval_s": c.interval_s,
                "speedtest_every_s": c.speedtest_every_s, "speedtest_every_m": c.speedtest_every_m,
                "speedtest_on_entry": c.speedtest_on_entry, "tagging_rule": self.tagger.rule.version,
                "gazetteer": str(self.gazetteer.path), "clock_speed": self.clock.speed, **c.meta}
        self.writer = self.store.begin_session(c.inspector, c.inspection_id, meta, time_utc=self.clock.utc())
        self.state = CaptureState(self.writer.session_id, self.clock.utc())
        busy = lambda: {w.port for w in self.workers}  # noqa: E731
        for port in c.ports:
            self.state.modems[port] = ModemState(port, ModemIdentity(port=port), configured_port=port)
            w = ModemWorker(port, self.queue, self.clock, driver=c.driver, interval_s=c.interval_s,
                            timeout_s=c.at_timeout_s, candidates=c.candidates, busy_ports=busy,
                            opener=self._modem_opener)
            self.workers.append(w)
        if c.gnss:
            self.gnss = GnssWorker(c.gnss, self.clock, max_age_s=c.max_fix_age_s, opener=self._gnss_opener)
            self.gnss.start()
        for w in self.workers:
            w.start()
        self._t0 = time.monotonic()
        return self.state

    def stop(self) -> None:
        """Ask the loop to finish (safe from any thread or a signal handler)."""
        self._stop.set()

    def _session(self) -> tuple[SessionWriter, CaptureState]:
        """The open session's writer and state; raises :class:`ProbeError` before :meth:`start`."""
        if self.writer is None or self.state is None:
            raise ProbeError("qamtu probe: the capture session has not started (call start() or run() first)")
        return self.writer, self.state

    def run(self, on_tick: Callable[[CaptureState], None] | None = None) -> dict[str, Any]:
        """Record until done; always closes the session with a summary. Returns the summary."""
        if self.writer is None:
            self.start()
        _, state = self._session()
        c = self.config
        try:
            while not self._stop.is_set():
                if c.duration_s is not None and (time.monotonic() - self._t0) * self.clock.speed >= c.duration_s:
                    break
                if c.max_samples is not None and state.samples >= c.max_samples:
                    break
                try:
                    item = self.queue.get(timeout=0.1)
                except queue.Empty:
                    item = None
                if item is not None:
                    self._handle(item)
                if on_tick is not None:
                    on_tick(state)
        except StoreError:
            self.failed = True  # the store cannot take more records: stop, keep what is committed
            raise
        finally:
            self._shutdown()
        return state.summary()

    def _shutdown(self) -> None:
        # let running speed tests finish and be recorded while their modems are still open (the modem's
        # data counters are read after the test, through the worker's AT channel); start no new ones
        self._stopping = True
        _, state = self._session()
        deadline = time.monotonic() + 30
        while (not self.failed and any(m.test_running for m in state.modems.values())
               and time.monotonic() < deadline):
            try:
                self._handle(self.queue.get(timeout=0.2))
            except queue.Empty:
                pass
        for w in self.workers:
            w.stop()
        if self.gnss is not None:
            self.gnss.stop()
        for w in self.workers:
            w.join(timeout=5)
        while not self.failed:  # record what the workers produced before they stopped
            try:
                self._handle(self.queue.get_nowait())
            except queue.Empty:
                break
        if self.gnss is not None:
            self.gnss.join(timeout=5)
        if self.writer is not None and not self.writer.closed:
            try:
                self.writer.close(state.summary(), time_utc=self.clock.utc())
            except StoreError as exc:  # e.g. the disk filled up: the records before stay valid
                state.warnings.append(str(exc))

    # -------------------------------------------------------------- recording
    def _emit(self, kind: str, data: dict) -> None:
        if self.on_record is not None:
            self.on_record(kind, data)

    def _handle(self, item) -> None:
        if isinstance(item, RadioItem):
            self._record_sample(item)
        elif isinstance(item, ModemEvent):
            writer, state = self._session()
            modems = state.modems
            old = None
            if item.type == "moved":  # keep the modem's state (counters, trigger bookkeeping) under its new port
                old = next((p for p, s in modems.items() if p != item.port and s.identity.imei == item.identity.imei),
                           None)
            if old is not None:
                m = modems[item.port] = modems.pop(old)
            else:
                m = modems.setdefault(item.port, ModemState(item.port, item.identity))
            m.port, m.identity = item.port, item.identity
            rid = writer.event(Event(type=f"modem_{item.type}", message=item.message, modem_port=item.port,
                                     details=item.identity.model_dump(mode="json")), item.time_utc)
            state.events += 1
            self._emit("event", {"record_id": rid, "type": f"modem_{item.type}", "port": item.port,
                                 "message": item.message})
        elif isinstance(item, tuple) and item[0] == "speedtest":
            self._record_speedtest(*item[1:])

    def _tag(self, fix) -> SettlementTag:
        """The settlement at a usable fix (current, not stale), or ``no_fix`` when ``fix`` is None."""
        if fix is None:
            return SettlementTag(reason="no_fix", rule_version=self.tagger.rule.version)
        tag = self.tagger.tag_one(fix.lat_deg, fix.lon_deg)
        return SettlementTag(kato=tag.kato, distance_m=None if tag.distance_m is None else round(tag.distance_m, 1),
                             reach_m=tag.reach_m, reason=tag.reason.name.lower(), rule_version=tag.rule_version)

    def _check_clocks(self, item: RadioItem, fix) -> None:
        """Warn (event ``clock_jump``) when the system clock moved against the monotonic clock, or the GNSS
        time moved against the system clock, by more than ``clock_jump_warn_s`` between two samples."""
        limit = self.config.clock_jump_warn_s
        tolerance = limit + 2.0 * self.clock.speed  # 2 wall seconds of reading latency, scaled in simulations
        mono, now = time.monotonic(), self.clock.utc()
        last = getattr(self, "_clock_last", None)
        offset = None
        if fix is not None and fix.time_utc is not None and fix.has_fix:
            offset = (fix.time_utc - item.time_utc).total_seconds() + fix.age_s
        self._clock_last = (mono, now, offset if offset is not None else (last[2] if last else None))
        if last is None:
            return
        l_mono, l_utc, l_offset = last
        jumps = []
        system = (now - l_utc).total_seconds() - (mono - l_mono) * self.clock.speed
        if abs(system) > tolerance:
            jumps.append(("system", system))
        elif offset is not None and l_offset is not None and abs(offset - l_offset) > tolerance:
            jumps.append(("gnss", offset - l_offset))
        for which, jump in jumps:
            msg = (f"{which} clock jumped by {jump:+.0f} s between two samples (more than {limit:g} s); "
                   "check the laptop's time and the receiver")
            writer, state = self._session()
            rid = writer.event(Event(type="clock_jump", message=msg, modem_port=item.port,
                                     details={"clock": which, "jump_s": round(jump, 3)}), item.time_utc)
            state.events += 1
            state.warnings.append(msg)
            self._emit("event", {"record_id": rid, "type": "clock_jump", "clock": which, "jump_s": round(jump, 3)})

    def _record_sample(self, item: RadioItem) -> None:
        fix, reason = self.gnss.current() if self.gnss is not None else (None, "no GNSS source configured")
        self._check_clocks(item, fix)
        usable = fix if (fix is not None and fix.has_fix and not fix.stale) else None  # reason is None exactly then
        tag = self._tag(usable)
        offset = None
        if fix is not None and fix.time_utc is not None:
            offset = round((fix.time_utc - item.time_utc).total_seconds() + fix.age_s, 3)
        if item.reading is None:
            status = SampleStatus.MODEM_LOST
        elif item.reading.has_service:
            status = SampleStatus.OK
        else:
            status = SampleStatus.NO_SERVICE
        sample = Sample(status=status, modem=item.identity, reading=item.reading, modem_error=item.error, fix=fix,
                        no_fix_reason=None if usable is not None else (reason or "no fix"), clock_offset_s=offset,
                        settlement=tag, context=self.context)
        writer, st = self._session()
        rid = writer.sample(sample, item.time_utc)
        # counted only now that the sample is committed
        st.samples += 1
        st.no_service += status == SampleStatus.NO_SERVICE
        st.modem_lost += status == SampleStatus.MODEM_LOST
        st.no_fix += usable is None
        st.fix, st.fix_reason, st.settlement = fix, (None if usable is not None else reason), tag
        m = st.modems.setdefault(item.port, ModemState(item.port, item.identity))
        m.identity, m.reading, m.error, m.status = item.identity, item.reading, item.error, status.value
        m.samples += 1
        m.no_service += status == SampleStatus.NO_SERVICE
        self._emit("sample", {"record_id": rid, "seq": writer.seq, "time_utc": item.time_utc.isoformat(),
                              "port": item.port, "status": status.value, "kato": tag.kato,
                              **({} if item.reading is None else {
                                  "technology": item.reading.technology.value,
                                  "rsrp_dbm": item.reading.serving.rsrp_dbm if item.reading.serving else None})})
        if status != SampleStatus.MODEM_LOST:
            self._check_triggers(m, usable, tag)

    # -------------------------------------------------------------- speed tests
    def _check_triggers(self, m: ModemState, fix, tag: SettlementTag) -> None:
        c = self.config
        now = time.monotonic()
        if m.last_test_mono is None:
            m.last_test_mono = now
        if fix is not None:
            pos = (fix.lat_deg, fix.lon_deg)
            if m.last_pos is not None:
                m.metres_since_test += float(haversine_m(m.last_pos[0], m.last_pos[1], pos[0], pos[1]))
            m.last_pos = pos
        trigger = None
        if c.speedtest_on_entry and tag.kato is not None and tag.kato != m.last_kato:
            trigger = "settlement"
        elif c.speedtest_every_s and (now - m.last_test_mono) * self.clock.speed >= c.speedtest_every_s:
            trigger = "interval"
        elif c.speedtest_every_m and m.metres_since_test >= c.speedtest_every_m:
            trigger = "distance"
        if tag.kato is not None:
            m.last_kato = tag.kato
        if trigger is None or m.test_running or getattr(self, "_stopping", False):
            return
        m.last_test_mono, m.metres_since_test = now, 0.0
        runner = self.speedtest
        if runner is None:
            writer, state = self._session()
            rid = writer.event(Event(type="speedtest_trigger", message=f"{trigger} trigger (no speed-test runner)",
                                     modem_port=m.port, details={"trigger": trigger, "kato": tag.kato}),
                               self.clock.utc())
            state.events += 1
            self._emit("event", {"record_id": rid, "type": "speedtest_trigger", "trigger": trigger, "port": m.port})
            return
        m.test_running = True
        port, reading, identity = m.port, m.reading, m.identity
        interface = self.config.interfaces.get(m.configured_port or port)
        start_fix = self.gnss.current()[0] if self.gnss is not None else None
        t0 = self.clock.utc()
        extra = {}
        if getattr(runner, "takes_modem_counters", False):  # second witness: the modem's own counters
            extra["modem_counters"] = self._counter_reader(port)

        def work() -> None:
            try:
                result = runner(port, interface, **extra)
                self.queue.put(("speedtest", m, port, trigger, identity, reading, start_fix, tag, t0, result, None))
            except Exception as exc:  # a runner bug must not stop recording; it is recorded as an event
                self.queue.put(("speedtest", m, port, trigger, identity, reading, start_fix, tag, t0, None, repr(exc)))

        threading.Thread(target=work, name=f"speedtest:{port}", daemon=True).start()

    def _counter_reader(self, port: str):
        """A reader of the modem's data counters through its worker's open driver (None if it has none)."""
        from .speedtest import ModemCounterReader

        worker = next((w for w in self.workers if w.port == port), None)
        modem = worker.modem if worker is not None else None
        if modem is None or getattr(modem, "counter_command", None) is None:
            return None
        return ModemCounterReader.for_modem(modem)

    def _record_speedtest(self, m: ModemState, port, trigger, identity, reading, fix, tag, t0, result, error) -> None:
        """Record one finished speed test of modem ``m`` (run through ``port``, the modem's port when it started)."""
        m.test_running = False
        writer, state = self._session()
        if result is None:
            rid = writer.event(Event(type="speedtest_error", message=error or "", modem_port=port), self.clock.utc())
            state.events += 1
            self._emit("event", {"record_id": rid, "type": "speedtest_error", "port": port, "message": error})
            return
        rec = SpeedTestRecord(trigger=trigger, modem=identity,
                              technology=None if reading is None else reading.technology.value,
                              operator_mcc=None if reading is None else reading.operator_mcc,
                              operator_mnc=None if reading is None else reading.operator_mnc,
                              fix=fix, settlement=tag, context=self.context, result=result.model_dump(mode="json"))
        rid = writer.speedtest(rec, t0)
        state.speedtests += 1
        summary = result.summary()
        m.speedtests += 1
        m.last_speedtest = summary
        self._emit("speedtest", {"record_id": rid, "port": port, "trigger": trigger, **summary})
