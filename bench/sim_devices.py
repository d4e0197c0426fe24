"""Serve simulated modems and a GNSS receiver on ptys in their own process (for benchmarks).

    python bench/sim_devices.py DIR SPEED MODEMS DELAY_S
Prints one JSON line with the device paths, then serves until killed.
"""

from __future__ import annotations

import json
import sys
import time

from qamtu.device.scenario import SimClock, load_route
from qamtu.device.simulator import SimGnss, SimModem

PROFILES = [("quectel-ec25", "401-02"), ("huawei-me909", "401-01"), ("simcom-sim7600", "401-77")]


def main() -> None:
    folder, speed, count, delay = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    route = load_route()
    clock = SimClock(speed=speed, start_utc=route.start_utc)
    devices = [SimModem(p, route, operator=o, clock=clock, name=o, link_dir=folder, delay_s=delay, urcs=False).start()
               for p, o in PROFILES[:count]]
    devices.append(SimGnss(route, clock=clock, link_dir=folder).start())
    print(json.dumps([d.path for d in devices]), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
