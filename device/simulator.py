"""Simulated modems and GNSS receivers on real ptys, usable in-process or from ``qamtu simulate``.

Example (what ``qamtu demo`` will do, one modem per operator plus a GPS)::

    route = load_route()                      # bundled demo route through Turkistan region
    clock = SimClock(speed=60, start_utc=route.start_utc)
    with SimModem("quectel-ec25", route, operator="401-02", clock=clock) as kcell, \\
         SimGnss(route, clock=clock) as gps:
        read_modem(kcell.path)                # a real pyserial conversation over the pty
        open_gnss(gps.path).read_fix()

Scenario events act per operator: ``vanish`` removes the device (its path disappears and comes
back later), ``slow`` delays answers, ``garble`` adds line noise; ``no_fix`` silences the fix.
:class:`TranscriptModem` replays a recorded transcript file instead of a profile.
"""

from __future__ import annotations

import os
import random
import re
import time
import zlib
from pathlib import Path

from .errors import ScenarioError
from .scenario import Route, SimClock, static_route
from .sim_profiles import PROFILES, GenericProfile, ModemContext
from .sim_pty import PtyDevice


def _luhn(body: str) -> str:
    """``body`` followed by its Luhn check digit (as in IMEIs and ICCIDs)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _imei(seed: str) -> str:
    """A stable 15-digit IMEI for a simulated modem (unique per profile, operator and name)."""
    return _luhn("86" + f"{zlib.crc32(seed.encode()):012d}"[-12:])


def profile_names() -> list[str]:
    """Names accepted by :class:`SimModem` (``transcript:<file>`` is accepted too)."""
    return sorted(PROFILES)


class _AtServer(PtyDevice):
    """Common AT line handling: echo (``ATE0``/``ATE1``), CR/LF framing, delays, noise."""

    def __init__(self, name: str, *, echo: bool = True, delay_s: float = 0.0, chunked: bool = False,
                 link_dir: str | Path | None = None) -> None:
        super().__init__(name, link_dir)
        self.echo = echo
        self.delay_s = delay_s
        self.chunked = chunked
        self.commands: list[str] = []
        self._inbuf = b""
        self._rng = random.Random(1)

    def on_bytes(self, data: bytes) -> None:
        self._inbuf += data
        while True:
            m = re.search(rb"[\r\n]", self._inbuf)
            if not m:
                break
            raw, self._inbuf = self._inbuf[:m.start()], self._inbuf[m.end():]
            if self.echo and raw:
                self.write(raw + b"\r")
            cmd = raw.decode("ascii", "replace").strip()
            if not cmd:
                continue
            self.commands.append(cmd)
            u = cmd.upper()
            if u in ("ATE0", "ATE1"):
                self.echo = u == "ATE1"
            lines, final = self.respond(cmd)
            self._send(lines, final)

    def _send(self, lines: list[str], final: str) -> None:
        delay = self.current_delay()
        if delay:
            time.sleep(delay)
        out = b"".join(b"\r\n" + ln.encode() + b"\r\n" for ln in lines) + b"\r\n" + final.encode() + b"\r\n"
        if self.garbled():
            noise = bytes(self._rng.randrange(128, 256) for _ in range(6))
            out = b"\r\n" + noise + out
        if self.chunked and len(out) > 4:  # deliver partial lines, as a slow UART does
            cut = len(out) // 2
            self.write(out[:cut])
            time.sleep(0.002)
            self.write(out[cut:])
        else:
            self.write(out)

    # hooks
    def respond(self, cmd: str) -> tuple[list[str], str]:
        return [], "ERROR"

    def current_delay(self) -> float:
        return self.delay_s

    def garbled(self) -> bool:
        return False


class SimModem(_AtServer):
    """A simulated modem of a given profile, following a route for one operator.

    :param profile: a name from :func:`profile_names`.
    :param route: the scenario (default: :func:`~qamtu.device.scenario.static_route`).
    :param operator: ``MCC-MNC`` of its SIM, e.g. ``"401-02"`` (Kcell).
    :param clock: shared :class:`SimClock` (several devices on one route share it).
    :param delay_s: extra delay before every answer (0 for benchmarks).
    """

    def __init__(self, profile: str = "generic", route: Route | None = None, *, operator: str = "401-02",
                 clock: SimClock | None = None, echo: bool = True, delay_s: float = 0.0, chunked: bool = False,
                 urcs: bool = True, name: str | None = None, link_dir: str | Path | None = None) -> None:
        if profile not in PROFILES:
            raise ScenarioError(f"unknown modem profile {profile!r}; valid: {', '.join(profile_names())}")
        super().__init__(name or f"modem-{profile}-{operator}", echo=echo, delay_s=delay_s, chunked=chunked,
                         link_dir=link_dir)
        self.profile: GenericProfile = PROFILES[profile]()
        self.route = route or static_route()
        self.operator = operator
        self.clock = clock or SimClock(1.0, self.route.start_utc)
        self.urcs = urcs
        mcc, mnc = operator.split("-")
        self.ctx = ModemContext(signal=self.route.signal_at(0, operator), mcc=mcc, mnc=mnc,
                                imsi=f"{mcc}{mnc}{zlib.crc32(operator.encode()) % 10**10:010d}",
                                iccid=_luhn(
                                    f"8997{mnc}{zlib.crc32((profile + operator + str(name)).encode()):013d}"[:19]),
                                imei=_imei(f"{profile}/{operator}/{name}"))
        self._last_stat: str | None = None
        self._rdy_at: float | None = None
        self.boot_s = 0.3

    def attach_link(self, link) -> None:
        """Report the bytes a :class:`~qamtu.device.sim_link.SimLink` carried as this modem's data counters
        (``AT+QGDCNT?`` / ``AT^DSFLOWQRY``), as a real modem counts its own traffic."""
        self.ctx.counters = link.counters

    def _update(self) -> None:
        t = self.clock.now_s()
        self.ctx.signal = self.route.signal_at(t, self.operator)
        lat, lon, alt, spd, crs, ok = self.route.position_at(t)
        self.ctx.lat, self.ctx.lon, self.ctx.alt_m = (lat, lon, alt) if ok else (None, None, None)
        self.ctx.speed_mps, self.ctx.course_deg, self.ctx.utc = spd, crs, self.clock.utc()

    def respond(self, cmd: str) -> tuple[list[str], str]:
        self._update()
        ans = self.profile.answer(cmd, self.ctx)
        if isinstance(ans, str):
            return [], ans
        return ans, "OK"

    def current_delay(self) -> float:
        e = self.route.active(self.clock.now_s(), "slow", self.operator)
        return self.delay_s + (e.delay_s if e else 0.0)

    def garbled(self) -> bool:
        return self.route.active(self.clock.now_s(), "garble", self.operator) is not None

    def tick(self) -> None:
        if self._rdy_at is not None and time.monotonic() >= self._rdy_at and not self.vanished:
            self._rdy_at = None
            self.write(b"\r\nRDY\r\n")
        t = self.clock.now_s()
        gone = self.route.active(t, "vanish", self.operator) is not None
        if gone and not self.vanished:
            self.vanish()
        elif not gone and self.vanished:
            self.reappear()
        if self.urcs and not self.vanished:
            self._update()
            n = self.ctx.settings.get("CEREG", 0)
            if n:
                from .sim_profiles import registration_line

                line = registration_line("CEREG", self.ctx.signal, n)
                stat = line.split(",", 1)[1] if "," in line else line
                if self._last_stat is not None and stat != self._last_stat:
                    self.write(("\r\n+CEREG: " + stat + "\r\n").encode())  # URC form has no <n>
                self._last_stat = stat

    def on_reappear(self) -> None:
        self.ctx.settings.clear()  # a reset modem forgets its settings
        self.echo = True
        self._last_stat = None
        self._rdy_at = time.monotonic() + self.boot_s  # a real modem says RDY once booted, after USB is back


class TranscriptModem(_AtServer):
    """Replays a recorded transcript: each ``> COMMAND`` is answered with the ``<`` lines that follow it.

    File format (``#`` lines are comments describing device, firmware and scenario)::

        > AT+CSQ
        < +CSQ: 17,99
        < OK

    Commands are matched case-insensitively; a command recorded several times is answered with
    its recordings in turn (the last one repeats). Unknown commands get ``ERROR``.
    """

    def __init__(self, path: str | Path, *, echo: bool = False, chunked: bool = False,
                 link_dir: str | Path | None = None) -> None:
        super().__init__(f"transcript-{Path(path).stem}", echo=echo, chunked=chunked, link_dir=link_dir)
        self.answers = parse_transcript(Path(path))
        self._served: dict[str, int] = {}

    def respond(self, cmd: str) -> tuple[list[str], str]:
        rec = self.answers.get(cmd.upper())
        if not rec:
            return [], "ERROR"
        i = self._served.get(cmd.upper(), 0)
        self._served[cmd.upper()] = i + 1
        return rec[min(i, len(rec) - 1)]


def parse_transcript(path: Path) -> dict[str, list[tuple[list[str], str]]]:
    """Read a transcript file into ``{COMMAND: [(lines, final), …]}``.

    :raises ScenarioError: a response without a command, or a command without a final result code.
    """
    out: dict[str, list[tuple[list[str], str]]] = {}
    cmd: str | None = None
    lines: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"transcript {path}: {exc}") from exc
    finals = re.compile(r"^(OK|ERROR|\+CME ERROR:.*|\+CMS ERROR:.*|COMMAND NOT SUPPORT)$")
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("> "):
            if cmd is not None:
                raise ScenarioError(f"transcript {path}:{n}: {cmd} has no final result code")
            cmd, lines = raw[2:].strip(), []
        elif raw.startswith("<"):
            if cmd is None:
                raise ScenarioError(f"transcript {path}:{n}: response without a command")
            line = raw[2:] if raw.startswith("< ") else raw[1:]
            if finals.match(line.strip()):
                out.setdefault(cmd.upper(), []).append((lines, line.strip()))
                cmd = None
            else:
                lines.append(line)
        else:
            raise ScenarioError(f"transcript {path}:{n}: lines must start with '> ', '< ' or '#'")
    if cmd is not None:
        raise ScenarioError(f"transcript {path}: {cmd} has no final result code")
    return out


class SimGnss(PtyDevice):
    """A simulated NMEA 0183 receiver following a route: GGA, RMC, GSA and VTG once per scenario second.

    At high speed factors it writes at most ``max_rate_hz`` epochs per wall second. ``no_fix``
    events and waypoints with ``gnss: false`` produce the receiver's "no fix" sentences.
    """

    tick_s = 0.02

    def __init__(self, route: Route | None = None, *, clock: SimClock | None = None, talker: str = "GN",
                 max_rate_hz: float = 20.0, name: str = "gnss", link_dir: str | Path | None = None) -> None:
        super().__init__(name, link_dir)
        self.route = route or static_route()
        self.clock = clock or SimClock(1.0, self.route.start_utc)
        self.talker = talker
        self.max_rate_hz = max_rate_hz
        self._last_epoch = -1
        self._last_wall = 0.0

    def tick(self) -> None:
        if self.vanished:
            return
        epoch = int(self.clock.now_s())
        now = time.monotonic()
        if epoch == self._last_epoch or now - self._last_wall < 1.0 / self.max_rate_hz:
            return
        self._last_epoch, self._last_wall = epoch, now
        from .nmea import epoch_sentences

        lat, lon, alt, spd, crs, ok = self.route.position_at(self.clock.now_s())
        self.write(b"".join(epoch_sentences(self.clock.utc(), lat if ok else None, lon if ok else None, alt, spd,
                                            crs, talker=self.talker)))


class NmeaReplay(PtyDevice):
    """A receiver that replays NMEA lines (a recorded capture, or hostile sentences written by a test) on a
    pty, ``lines_per_s`` lines per wall second, looping when ``loop`` is true. Lines starting with ``#``
    are skipped; ``$`` lines without a checksum get one."""

    tick_s = 0.02

    def __init__(self, lines: list[str], *, lines_per_s: float = 40.0, loop: bool = True, name: str = "nmea",
                 link_dir: str | Path | None = None) -> None:
        super().__init__(name, link_dir)
        from .nmea import sentence

        self.lines = [(sentence(x.strip()[1:]) if x.startswith("$") and "*" not in x else (x.strip() + "\r\n").encode())
                      for x in lines if x.strip() and not x.startswith("#")]
        if not self.lines:
            raise ScenarioError("NmeaReplay: no NMEA lines to replay")
        self.lines_per_s = lines_per_s
        self.loop = loop
        self._i = 0
        self._due = 0.0

    def tick(self) -> None:
        if self.vanished:
            return
        now = time.monotonic()
        if self._due == 0.0:
            self._due = now
        while self._due <= now and (self.loop or self._i < len(self.lines)):
            self.write(self.lines[self._i % len(self.lines)])
            self._i += 1
            self._due += 1.0 / self.lines_per_s


def simulated_ports() -> list[str]:
    """Links of simulated devices started with their own directory (``qamtu-sim-*`` in the temp dir), so
    that a probe finds a simulated modem again after it "re-enumerates" under a new path."""
    import glob
    import tempfile

    return sorted(p for p in glob.glob(os.path.join(tempfile.gettempdir(), "qamtu-sim-*", "*")) if os.path.islink(p))


def start_modem(profile: str = "generic", route: Route | None = None, **kwargs) -> SimModem:
    """Start a :class:`SimModem` in a background thread and return it (call ``.stop()``)."""
    return SimModem(profile, route, **kwargs).start()  # type: ignore[return-value]


def start_gnss(route: Route | None = None, **kwargs) -> SimGnss:
    """Start a :class:`SimGnss` in a background thread and return it (call ``.stop()``)."""
    return SimGnss(route, **kwargs).start()  # type: ignore[return-value]
