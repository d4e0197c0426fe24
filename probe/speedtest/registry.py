"""Methods by name, and :func:`run_speedtest`, the one entry point the probe calls.

``run_speedtest`` never raises for network trouble: unreachable server, reset mid-test, interface
down, DNS failure each come back as a stored, failed :class:`SpeedTestResult` with its cause.
Only programming errors raise (an unknown method name, parameters that do not validate).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from pydantic import BaseModel

from ..errors import SpeedTestError, UnknownMethodError
from .binding import BindingMode, ModemCounterReader, check_egress, make_binding, read_counters
from .models import Failure, FailureCause, ModemCounterWitness, SpeedTestResult
from .qamtu_http import Progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: id, how to build its parameters, and the async function that runs it."""

    id: str
    params_model: type[BaseModel]
    version: Callable[[], str]
    runner: Callable[..., Any]  # async (server, binding, params, progress, result) -> None
    consumer_comparable_only: bool = False
    description: str = ""


METHODS: dict[str, MethodSpec] = {}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method to :data:`METHODS` (the three built-ins register on import)."""
    METHODS[spec.id] = spec
    return spec


def method_names() -> list[str]:
    """Registered method ids, sorted."""
    from . import methods  # noqa: F401 - registers the built-ins

    return sorted(METHODS)


def get_method(name: str) -> MethodSpec:
    method_names()
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownMethodError(f"unknown method {name!r}; choose one of: {', '.join(sorted(METHODS))}",
                                 method=name) from None


def _params(spec: MethodSpec, params: Any) -> BaseModel:
    if params is None:
        return spec.params_model()
    if isinstance(params, spec.params_model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    return spec.params_model.model_validate(params)


async def arun_speedtest(method: str, server: str, interface: Optional[str] = None, params: Any = None, *,
                         binding_mode: BindingMode = "auto", modem_counters: Optional[ModemCounterReader] = None,
                         progress: Optional[Progress] = None) -> SpeedTestResult:
    """Async form of :func:`run_speedtest` (run several modems at once with ``asyncio.gather``)."""
    spec = get_method(method)
    p = _params(spec, params)
    result = SpeedTestResult(method=spec.id, method_version=spec.version(), params=p.model_dump(mode="json"),
                             server=server, interface=interface,
                             consumer_comparable_only=spec.consumer_comparable_only)
    if spec.consumer_comparable_only:
        result.notes.append("secondary, consumer-comparable figure (speedtest-cli has no published method); "
                            "not the evidence figure")
    witness: Optional[ModemCounterWitness] = None
    before = None
    try:
        binding = make_binding(interface, binding_mode)
        result.binding = binding.mode
        if modem_counters is not None:
            witness = ModemCounterWitness(command=modem_counters.command)
            try:
                witness.before_rx_bytes, witness.before_tx_bytes = modem_counters.read()
            except Exception as exc:  # noqa: BLE001 - a witness that fails is recorded, not fatal
                witness.error = f"before: {exc}"
        before = read_counters(interface) if interface else None
        await spec.runner(server, binding, p, progress, result)
        if interface and before is not None:
            result.egress = check_egress(interface, binding.mode, before, read_counters(interface),
                                         result.bytes_received, result.bytes_sent)
    except SpeedTestError as exc:
        exc.located(method=spec.id, server=server, interface=interface)
        logger.info("speed test failed: %s", exc)
        result.failure = Failure(cause=FailureCause(exc.cause), message=str(exc), phase=exc.phase,
                                 error_type=type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - the probe must keep running; the cause is stored
        logger.exception("speed test crashed")
        result.failure = Failure(cause=FailureCause.INTERNAL_ERROR, error_type=type(exc).__name__,
                                 message=f"{spec.id} against {server}: internal error {exc!r}")
    finally:
        if witness is not None and modem_counters is not None:
            try:
                witness.after_rx_bytes, witness.after_tx_bytes = modem_counters.read()
                if witness.before_rx_bytes is not None and witness.before_tx_bytes is not None:  # read together
                    witness.rx_delta_bytes = witness.after_rx_bytes - witness.before_rx_bytes
                    witness.tx_delta_bytes = witness.after_tx_bytes - witness.before_tx_bytes
            except Exception as exc:  # noqa: BLE001
                witness.error = ((witness.error + "; ") if witness.error else "") + f"after: {exc}"
            result.modem_counters = witness
    result.finished_at = datetime.now(timezone.utc)
    return result.finalize()


def run_speedtest(method: str, server: str, interface: Optional[str] = None, params: Any = None, *,
                  binding_mode: BindingMode = "auto", modem_counters: Optional[ModemCounterReader] = None,
                  progress: Optional[Progress] = None) -> SpeedTestResult:
    """Run one speed test and return its result; never raises for network failures.

    ``method``: ``qamtu-http`` (the evidence method), ``speedtest-cli`` (secondary) or ``iperf3``.
    ``server``: ``http://host:port`` of a ``qamtu server`` (``iperf3``: ``host[:port]``;
    ``speedtest-cli``: ``speedtest.net:<id>`` for a pinned public server). ``interface``: send through
    this device only and verify by its byte counters. ``params``: the method's parameter model or a
    dict of its fields. Safe to call from threads (one per modem) and from inside a running event loop.
    """
    coro = arun_speedtest(method, server, interface, params, binding_mode=binding_mode,
                          modem_counters=modem_counters, progress=progress)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from async code: use a fresh loop
        return pool.submit(asyncio.run, coro).result()


def params_from_pairs(method: str, pairs: list[str]) -> BaseModel:
    """Build a method's parameters from ``KEY=VALUE`` strings (the CLI's ``--param``); pydantic converts types."""
    spec = get_method(method)
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param wants KEY=VALUE, got {pair!r}")
        values[key.strip().replace("-", "_")] = value.strip()
    return spec.params_model.model_validate(values)
