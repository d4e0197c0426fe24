"""The modem's own data counters over AT: the second witness of a speed test (docs/measurement-method.md §5).

Quectel ``AT+QGDCNT?`` answers ``+QGDCNT: <bytes_sent>,<bytes_recv>`` (Quectel EC2x/EG2x AT commands
manual, +QGDCNT); Huawei ``AT^DSFLOWQRY`` answers ``^DSFLOWQRY: <last_ds_time>,<last_tx_flow>,<last_rx_flow>,
<total_ds_time>,<total_tx_flow>,<total_rx_flow>`` in hexadecimal (Huawei ME909s AT command interface
specification, ^DSFLOWQRY). Modems count differently (per PDP context, with or without headers): the
counters are recorded next to the test, never used to judge it.
"""

from __future__ import annotations

from typing import Callable

from .errors import ParseError


def parse_qgdcnt(text: str) -> tuple[int, int]:
    """Quectel ``+QGDCNT: <bytes_sent>,<bytes_recv>`` -> ``(rx_bytes, tx_bytes)``."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("+QGDCNT:"):
            try:
                sent, recv = (int(v) for v in line.split(":", 1)[1].split(",")[:2])
            except ValueError:
                raise ParseError("AT+QGDCNT?", line, "expected two decimal byte counts") from None
            return recv, sent
    raise ParseError("AT+QGDCNT?", text, "no +QGDCNT line")


def parse_dsflowqry(text: str) -> tuple[int, int]:
    """Huawei ``^DSFLOWQRY`` (hex; the 2nd/3rd fields are this connection's tx/rx) -> ``(rx_bytes, tx_bytes)``."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("^DSFLOWQRY:"):
            fields = [f.strip() for f in line.split(":", 1)[1].split(",")]
            try:
                return int(fields[2], 16), int(fields[1], 16)
            except (ValueError, IndexError):
                raise ParseError("AT^DSFLOWQRY", line, "expected hexadecimal flow counters") from None
    raise ParseError("AT^DSFLOWQRY", text, "no ^DSFLOWQRY line")


#: AT query command -> parser of its answer
COUNTER_COMMANDS: dict[str, Callable[[str], tuple[int, int]]] = {
    "AT+QGDCNT?": parse_qgdcnt,
    "AT^DSFLOWQRY": parse_dsflowqry,
}
