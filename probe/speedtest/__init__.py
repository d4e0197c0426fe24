"""Speed tests that hold up as evidence: published method, self-hosted server, interface binding.

Public API (what the probe's capture loop calls)::

    from qamtu.probe.speedtest import run_speedtest
    result = run_speedtest("qamtu-http", "http://10.0.0.5:8080", interface="wwan0",
                           params={"download_s": 7, "upload_s": 7})
    result.valid, result.download_mbps, result.model_dump(mode="json")

``run_speedtest`` never raises for network failures (a failed result carries the cause);
``arun_speedtest`` is the same for asyncio code. ``METHODS``/``method_names()`` list the methods
(``qamtu-http``, ``speedtest-cli``, ``iperf3``); ``ServerThread``/``serve`` run ``qamtu server``.
The method is described in ``docs/measurement-method.md``.
"""

from .binding import Binding, ModemCounterReader, check_egress, make_binding, read_counters
from .models import (SCHEMA_VERSION, EgressCheck, Failure, FailureCause, InterfaceCounters, LatencyResult,
                     ModemCounterWitness, PhaseResult, SpeedTestResult)
from .qamtu_http import METHOD_VERSION, QamtuHttpParams
from .registry import METHODS, MethodSpec, arun_speedtest, get_method, method_names, register, run_speedtest
from .server import ServerLimits, ServerThread, build_app, serve
from .iperf3 import Iperf3Params
from .speedtest_cli import SpeedtestCliParams

__all__ = sorted([
    "Binding", "EgressCheck", "Failure", "FailureCause", "InterfaceCounters", "Iperf3Params", "LatencyResult",
    "METHODS", "METHOD_VERSION", "MethodSpec", "ModemCounterReader", "ModemCounterWitness", "PhaseResult",
    "QamtuHttpParams", "SCHEMA_VERSION", "ServerLimits", "ServerThread", "SpeedTestResult", "SpeedtestCliParams",
    "arun_speedtest", "build_app", "check_egress", "get_method", "make_binding", "method_names", "read_counters",
    "register", "run_speedtest", "serve",
])
