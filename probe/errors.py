"""Exception tree of :mod:`qamtu.probe`."""

from .. import QamtuError


class ProbeError(QamtuError):
    """Root of every error raised while measuring or storing samples."""


class SpeedTestError(ProbeError):
    """Root of every speed-test error. ``cause`` is a :class:`qamtu.probe.speedtest.models.FailureCause` value.

    Tree (raised inside the methods; :func:`qamtu.probe.speedtest.run_speedtest` turns each into a
    stored failed result and never lets it escape)::

        SpeedTestError
        ├── UnknownMethodError          method name not registered (a programming error: raised)
        ├── MethodUnavailableError      e.g. the iperf3 binary is not installed
        ├── InterfaceDownError          interface missing, administratively down, or unusable
        ├── DnsFailureError             the server's host name did not resolve
        ├── ServerUnreachableError      refused, no route, or no answer to the connection attempt
        ├── ConnectionResetMidTestError the connection broke after the test had started
        ├── ServerRefusedError          the server answered with an HTTP error (busy, limits, ...)
        ├── SpeedTestTimeoutError       no progress for longer than the stall timeout
        └── ProtocolError               the server's answer is not what the method expects
    """

    cause = "internal_error"

    def __init__(self, message: str, *, method: str = "", server: str = "", interface: str | None = None,
                 phase: str | None = None) -> None:
        self.method = method
        self.server = server
        self.interface = interface
        self.phase = phase
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.method or 'speed test'} against {self.server or '?'}"
        where += f" via interface {self.interface}" if self.interface else " (no interface binding)"
        phase = f" during {self.phase}" if self.phase else ""
        return f"{where}{phase}: {self.detail}"

    def located(self, *, method: str, server: str, interface: str | None, phase: str | None = None) -> "SpeedTestError":
        """Fill in method, server, interface and phase where they were not known when raised; returns self."""
        self.method = self.method or method
        self.server = self.server or server
        self.interface = self.interface if self.interface is not None else interface
        self.phase = self.phase or phase
        self.args = (self._format(),)
        return self

    def __str__(self) -> str:
        return self._format()


class UnknownMethodError(SpeedTestError):
    """The method name is not in the registry (``qamtu-http``, ``speedtest-cli``, ``iperf3``)."""

    cause = "unknown_method"


class MethodUnavailableError(SpeedTestError):
    """The method cannot run on this machine (e.g. the ``iperf3`` binary is missing)."""

    cause = "method_unavailable"


class InterfaceDownError(SpeedTestError):
    """The named interface does not exist, is down, or the kernel refused to send through it."""

    cause = "interface_down"


class DnsFailureError(SpeedTestError):
    """The server's host name could not be resolved."""

    cause = "dns_failure"


class ServerUnreachableError(SpeedTestError):
    """The connection to the server was refused, had no route, or got no answer in time."""

    cause = "server_unreachable"


class ConnectionResetMidTestError(SpeedTestError):
    """A connection was reset or closed by the peer after the measurement had started."""

    cause = "connection_reset"


class ServerRefusedError(SpeedTestError):
    """The server answered with an HTTP error status (busy, a limit exceeded, unknown path)."""

    cause = "server_refused"


class SpeedTestTimeoutError(SpeedTestError):
    """No data moved for longer than the method's stall timeout."""

    cause = "timeout"


class ProtocolError(SpeedTestError):
    """The server's answer does not follow the method's protocol."""

    cause = "protocol_error"
