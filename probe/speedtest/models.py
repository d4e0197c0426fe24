"""Result models of a speed test: what is stored, hashed and shown.

Every model has a stable ``model_dump(mode="json")``: fields only get added (with defaults) and
``SCHEMA_VERSION`` is raised when a field changes meaning. Units are in the field names:
``_mbps`` = Mbit/s (10**6 bit/s), ``_ms`` = milliseconds, ``_s`` = seconds, ``_bytes`` = bytes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class FailureCause(StrEnum):
    """Why a test failed; stored with every failed result."""

    INTERFACE_DOWN = "interface_down"
    DNS_FAILURE = "dns_failure"
    SERVER_UNREACHABLE = "server_unreachable"
    CONNECTION_RESET = "connection_reset"
    SERVER_REFUSED = "server_refused"
    TIMEOUT = "timeout"
    PROTOCOL_ERROR = "protocol_error"
    METHOD_UNAVAILABLE = "method_unavailable"
    UNKNOWN_METHOD = "unknown_method"
    INTERNAL_ERROR = "internal_error"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Failure(_Model):
    """A failed test's cause and a message naming method, server and interface."""

    cause: FailureCause
    message: str
    phase: Optional[str] = Field(None, description="Phase that failed: resolve, connect, latency, download, upload.")
    error_type: str = Field(..., description="Python class name of the error, for diagnosis.")


class PhaseResult(_Model):
    """One transfer direction (download or upload) of a test."""

    direction: Literal["download", "upload"]
    streams: int = Field(..., description="Parallel TCP connections.")
    warmup_s: float = Field(..., description="Discarded warm-up at the start of the phase, seconds.")
    planned_s: float = Field(..., description="Planned measurement window, seconds.")
    measured_s: float = Field(..., description="Actual measurement window used for the rate, seconds.")
    bytes: int = Field(..., description="Payload bytes counted inside the measurement window (all streams).")
    total_bytes: int = Field(..., description="Payload bytes moved in the whole phase, warm-up and tail included.")
    mbps: float = Field(..., description="bytes * 8 / measured_s / 1e6, Mbit/s.")
    series_mbps: list[float] = Field(default_factory=list,
                                     description="Rate in each whole second of the window, Mbit/s.")
    per_stream_bytes: list[int] = Field(default_factory=list, description="Window bytes of each stream.")
    clock: Literal["client", "server", "iperf3", "speedtest-cli"] = Field(
        ..., description="Whose clock timed the bytes: the receiver's in qamtu-http (client for download, "
                         "server for upload).")
    latency_under_load_ms: Optional[float] = Field(None, description="Median round trip during the window, ms.")
    latency_under_load_samples_ms: list[float] = Field(default_factory=list)


class LatencyResult(_Model):
    """Idle latency: small request/response round trips on one idle connection."""

    samples_ms: list[float]
    median_ms: float
    min_ms: float
    max_ms: float
    jitter_ms: float = Field(..., description="Mean absolute difference of consecutive round trips, ms.")
    kind: str = Field("http-request-response", description="What one round trip is.")


class InterfaceCounters(_Model):
    """Byte counters of a network interface (Linux: /sys/class/net/IF/statistics)."""

    rx_bytes: int
    tx_bytes: int
    source: str = Field(..., description="Where the counters were read.")


class EgressCheck(_Model):
    """Did the test's traffic go through the named interface? Compares counters with payload bytes."""

    interface: str
    binding: str = Field(..., description="so_bindtodevice, source_address or none.")
    before: InterfaceCounters
    after: InterfaceCounters
    rx_delta_bytes: int
    tx_delta_bytes: int
    payload_rx_bytes: int = Field(..., description="Payload bytes the test received (all phases).")
    payload_tx_bytes: int = Field(..., description="Payload bytes the test sent (all phases).")
    min_ratio: float = Field(..., description="Counter delta must be at least this share of the payload.")
    verified: bool
    reason: str


class ModemCounterWitness(_Model):
    """The modem's own data counters (over AT) before and after: a second, independent witness."""

    command: str
    before_rx_bytes: Optional[int] = None
    before_tx_bytes: Optional[int] = None
    after_rx_bytes: Optional[int] = None
    after_tx_bytes: Optional[int] = None
    rx_delta_bytes: Optional[int] = None
    tx_delta_bytes: Optional[int] = None
    error: Optional[str] = None


class SpeedTestResult(_Model):
    """One speed test, successful or not. ``download_mbps``/``upload_mbps``/``latency_ms`` are set only when
    ``valid``: an invalid or failed test is stored but never reported as a speed (the phase records
    keep the raw figures for audit)."""

    schema_version: int = SCHEMA_VERSION
    test_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    method: str
    method_version: str
    consumer_comparable_only: bool = Field(
        False, description="True for speedtest-cli: a secondary figure, comparable to consumer apps, not evidence.")
    params: dict[str, Any]
    server: str
    server_info: dict[str, Any] = Field(default_factory=dict)
    interface: Optional[str] = None
    binding: str = Field("none", description="so_bindtodevice, source_address or none.")
    started_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: Optional[datetime] = None
    duration_s: Optional[float] = None

    download_mbps: Optional[float] = Field(None, description="Download rate, Mbit/s (None unless valid).")
    upload_mbps: Optional[float] = Field(None, description="Upload rate, Mbit/s (None unless valid).")
    latency_ms: Optional[float] = Field(None, description="Idle latency (median round trip), ms.")
    jitter_ms: Optional[float] = Field(None, description="Idle jitter, ms.")
    latency_under_load_download_ms: Optional[float] = None
    latency_under_load_upload_ms: Optional[float] = None
    bytes_received: int = Field(0, description="Payload bytes received in all phases.")
    bytes_sent: int = Field(0, description="Payload bytes sent in all phases.")

    latency: Optional[LatencyResult] = None
    download: Optional[PhaseResult] = None
    upload: Optional[PhaseResult] = None
    egress: Optional[EgressCheck] = None
    modem_counters: Optional[ModemCounterWitness] = None

    ok: bool = Field(False, description="The test ran to its end without a failure.")
    valid: bool = Field(False, description="ok, and (if an interface was named) egress verified.")
    invalid_reasons: list[str] = Field(default_factory=list)
    failure: Optional[Failure] = None
    notes: list[str] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, description="Method-specific raw output kept for audit.")

    def finalize(self) -> "SpeedTestResult":
        """Decide ``valid`` and fill the reported figures from the phase records; returns self."""
        reasons = list(self.invalid_reasons)
        if self.failure is not None:
            reasons.append(f"test failed ({self.failure.cause.value}): {self.failure.message}")
        if self.interface and self.egress is None and self.failure is None:
            reasons.append(f"egress through {self.interface} could not be checked")
        if self.egress is not None and not self.egress.verified:
            reasons.append(f"egress not verified: {self.egress.reason}")
        self.invalid_reasons = list(dict.fromkeys(reasons))
        self.ok = self.failure is None
        self.valid = self.ok and not self.invalid_reasons
        if self.valid:
            self.download_mbps = None if self.download is None else round(self.download.mbps, 3)
            self.upload_mbps = None if self.upload is None else round(self.upload.mbps, 3)
            if self.latency is not None:
                self.latency_ms = round(self.latency.median_ms, 3)
                self.jitter_ms = round(self.latency.jitter_ms, 3)
            self.latency_under_load_download_ms = None if self.download is None else self.download.latency_under_load_ms
            self.latency_under_load_upload_ms = None if self.upload is None else self.upload.latency_under_load_ms
        else:
            self.download_mbps = self.upload_mbps = self.latency_ms = self.jitter_ms = None
            self.latency_under_load_download_ms = self.latency_under_load_upload_ms = None
        if self.finished_at is None:
            self.finished_at = datetime.now(timezone.utc)
        self.duration_s = round((self.finished_at - self.started_at).total_seconds(), 3)
        return self

    def summary(self) -> dict[str, Any]:
        """The short JSON view: the keys the CLI prints and the probe shows."""
        return {
            "test_id": self.test_id, "method": self.method, "method_version": self.method_version,
            "server": self.server, "interface": self.interface, "valid": self.valid, "ok": self.ok,
            "download_mbps": self.download_mbps, "upload_mbps": self.upload_mbps,
            "latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms,
            "latency_under_load_download_ms": self.latency_under_load_download_ms,
            "latency_under_load_upload_ms": self.latency_under_load_upload_ms,
            "consumer_comparable_only": self.consumer_comparable_only,
            "failure_cause": None if self.failure is None else self.failure.cause.value,
            "failure_message": None if self.failure is None else self.failure.message,
            "invalid_reasons": self.invalid_reasons,
        }
