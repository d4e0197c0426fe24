"""Accuracy of the speed-test methods on a real shaped link (not a timed test: it prints figures).

Two network namespaces joined by a veth pair (bench/speedtest_netns.sh), shaped with tc tbf to each
rate, with 0 % and 1 % random loss (nftables numgen). qamtu server and iperf3 -s run on the server
side; iperf3 (the reference), qamtu-http and speedtest-cli run on the client side, bound to the
veth. Printed per case and method: Mbit/s down/up, measured/shaped and measured/iperf3.
netem is not available on this kernel, so no delay can be added: the RTT is the veth's (< 1 ms).

Run as root:  .venv/bin/python bench/bench_speedtest_shaped.py [--rates 5,20,100] [--losses 0,1] [--repeat 3]
             [--json out.json] [--methods iperf3,qamtu-http,qamtu-http+tls,speedtest-cli]
``qamtu-http+tls`` is qamtu-http over TLS to a second server (port 8443) with a fresh self-signed
certificate, pinned by its fingerprint.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "speedtest_netns.sh"
QAMTU = str(Path(sys.executable).with_name("qamtu"))
TAG = f"b{os.getpid() % 100000}"
CLI_NS, SRV_NS, IF = f"qs-cli-{TAG}", f"qs-srv-{TAG}", f"qsc-{TAG}"
SERVERS = {"qamtu-http": "http://10.77.0.2:8080", "speedtest-cli": "http://10.77.0.2:8080", "iperf3": "10.77.0.2:5201",
           "qamtu-http+tls": "https://10.77.0.2:8443"}
TLS_PARAMS: list[str] = []  # tls_pin_sha256=..., set once the certificate is made


def run_method(method: str, params: list[str]) -> dict:
    real = method.removesuffix("+tls")
    params = params + (TLS_PARAMS if method.endswith("+tls") else [])
    cmd = ["ip", "netns", "exec", CLI_NS, QAMTU, "speedtest", "--method", real, "--server", SERVERS[method],
           "--interface", IF, "--json"]
    for p in params:
        cmd += ["--param", p]
    for attempt in range(3):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        try:
            result = json.loads(out.stdout)
        except ValueError:
            return {"valid": False, "failure": {"message": out.stderr.strip()[-300:]}}
        # iperf3 -s serves one test at a time and may still be closing the previous one
        if "server is busy" not in ((result.get("failure") or {}).get("message") or ""):
            return result
        time.sleep(2)
    return result


def wait_for_server() -> None:
    for _ in range(100):
        r = subprocess.run(["ip", "netns", "exec", CLI_NS, sys.executable, "-c",
                            "import urllib.request;urllib.request.urlopen('http://10.77.0.2:8080/qamtu/v1/info',timeout=1)"],
                           capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit("qamtu server did not start in the server namespace")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="5,20,100", help="Shaped rates, Mbit/s.")
    ap.add_argument("--losses", default="0,1", help="Random loss, per cent.")
    ap.add_argument("--methods", default="iperf3,qamtu-http,speedtest-cli")
    ap.add_argument("--repeat", type=int, default=1, help="Runs per case; the table shows medians and, "
                    "for measured/iperf3, the range over runs (each run paired with its own iperf3 run).")
    ap.add_argument("--json", type=Path, help="Also write all results here.")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    losses = [float(x) for x in args.losses.split(",")]
    methods = args.methods.split(",")
    rows, raw = [], []
    subprocess.run([str(SCRIPT), "up", TAG, str(rates[0]), "0"], check=True)
    procs = []
    try:
        procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, QAMTU, "server", "--host", "10.77.0.2",
                                       "--port", "8080"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, "iperf3", "-s", "-B", "10.77.0.2", "-p", "5201"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if any(m.endswith("+tls") for m in methods):
            import tempfile

            from qamtu.probe.speedtest.tls import make_self_signed

            certs = Path(tempfile.mkdtemp(prefix="qamtu-bench-tls-"))
            pin = make_self_signed(certs / "server.crt", certs / "server.key", ["10.77.0.2"])
            TLS_PARAMS.append(f"tls_pin_sha256={pin}")
            procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, QAMTU, "server", "--host", "10.77.0.2",
                                           "--port", "8443", "--tls-cert", str(certs / "server.crt"), "--tls-key",
                                           str(certs / "server.key")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(2)
        wait_for_server()
        for rate in rates:
            for loss in losses:
                subprocess.run([str(SCRIPT), "shape", TAG, str(rate), f"{loss:g}"], check=True)
                runs: list[dict] = []
                for rep in range(args.repeat):
                    case = {}
                    for m in methods:
                        r = run_method(m, [])
                        case[m] = r
                        raw.append({"rate_mbit": rate, "loss_pct": loss, "run": rep, "method": m, "result": r})
                    runs.append(case)
                for m in methods:
                    row = {"rate": rate, "loss": loss, "method": m, "runs": len(runs),
                           "valid": all(c[m].get("valid") for c in runs)}
                    for d in ("download_mbps", "upload_mbps"):
                        vals = [c[m].get(d) for c in runs if c[m].get(d) is not None]
                        ratios = [c[m][d] / c["iperf3"][d] for c in runs
                                  if c[m].get(d) is not None and c.get("iperf3", {}).get(d)]
                        row[d] = median(vals)
                        row[d + "/shaped"] = None if row[d] is None else row[d] / rate
                        row[d + "/iperf3"] = median(ratios)
                        row[d + "/iperf3_range"] = (min(ratios), max(ratios)) if ratios else None
                    bad = [c[m] for c in runs if not c[m].get("valid")]
                    if bad:
                        row["why"] = (bad[0].get("failure") or {}).get("message") or bad[0].get("invalid_reasons")
                    rows.append(row)
                    print(fmt(row), flush=True)
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run([str(SCRIPT), "down", TAG])
    print()
    print(f"Medians of {args.repeat} run(s) per case; [min-max] of measured/iperf3 over the runs.")
    print("| rate Mbit/s | loss % | method | down Mbit/s | up Mbit/s | down/shaped | up/shaped | down/iperf3 "
          "| up/iperf3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| {rate} | {loss:g} | {method} | {d} | {u} | {ds} | {us} | {di} | {ui} |".format(
            rate=row["rate"], loss=row["loss"], method=row["method"], d=f2(row["download_mbps"]),
            u=f2(row["upload_mbps"]),
            ds=f3(row["download_mbps/shaped"]), us=f3(row["upload_mbps/shaped"]),
            di=rng(row, "download_mbps"), ui=rng(row, "upload_mbps")))
    print("\nNo added delay (netem unavailable on this kernel): RTT is the veth's, well under 1 ms.")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "results": raw}, indent=1))


def median(values):
    return statistics.median(values) if values else None


def rng(row: dict, d: str) -> str:
    r = row[d + "/iperf3_range"]
    if r is None or row["runs"] == 1:
        return f3(row[d + "/iperf3"])
    return f"{f3(row[d + '/iperf3'])} [{r[0]:.3f}-{r[1]:.3f}]"


def f2(v):
    return "-" if v is None else f"{v:.2f}"


def f3(v):
    return "-" if v is None else f"{v:.3f}"


def fmt(row: dict) -> str:
    return (f"{row['rate']:>4} Mbit/s loss {row['loss']:g}% {row['method']:<14} "
            f"down {f2(row['download_mbps']):>7} up {f2(row['upload_mbps']):>7}  "
            f"/shaped {f3(row['download_mbps/shaped'])} {f3(row['upload_mbps/shaped'])}  "
            f"/iperf3 {f3(row['download_mbps/iperf3'])} {f3(row['upload_mbps/iperf3'])}"
            + ("" if row["valid"] else f"  INVALID: {row.get('why')}"))


if __name__ == "__main__":
    main()
