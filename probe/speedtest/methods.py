"""The three built-in methods, registered by name in :data:`qamtu.probe.speedtest.registry.METHODS`."""

from __future__ import annotations

import asyncio
from typing import Optional

from .binding import Binding
from .iperf3 import Iperf3Params, iperf3_version, run_iperf3
from .models import SpeedTestResult
from .qamtu_http import METHOD_ID, METHOD_VERSION, Progress, QamtuHttpClient, QamtuHttpParams
from .registry import MethodSpec, register
from .speedtest_cli import SpeedtestCliParams, adapter_version, run_speedtest_cli


async def _qamtu_http(server: str, binding: Binding, p: QamtuHttpParams, progress: Optional[Progress],
                      result: SpeedTestResult) -> None:
    client = QamtuHttpClient(server, binding, p, progress)
    try:
        await client.run()
    finally:
        parts = client.parts
        result.bytes_received, result.bytes_sent = client.bytes_received, client.bytes_sent
        result.server_info = parts.get("server_info", {})
        result.latency = parts.get("latency")
        result.download = parts.get("download")
        result.upload = parts.get("upload")


async def _speedtest_cli(server: str, binding: Binding, p: SpeedtestCliParams, progress: Optional[Progress],
                         result: SpeedTestResult) -> None:
    await asyncio.to_thread(run_speedtest_cli, server, binding, p, result, progress)


async def _iperf3(server: str, binding: Binding, p: Iperf3Params, progress: Optional[Progress],
                  result: SpeedTestResult) -> None:
    await run_iperf3(server, binding, p, result, progress)


register(MethodSpec(METHOD_ID, QamtuHttpParams, lambda: METHOD_VERSION, _qamtu_http,
                    description="Qamtu's published method (evidence figure): 3 streams, 2 s warm-up, 7 s windows."))
register(MethodSpec("speedtest-cli", SpeedtestCliParams, adapter_version, _speedtest_cli,
                    consumer_comparable_only=True,
                    description="sivel/speedtest-cli as a library: secondary, consumer-comparable figure."))
register(MethodSpec("iperf3", Iperf3Params, iperf3_version, _iperf3,
                    description="iperf3 client (JSON output) against an iperf3 server: lab/control reference."))
