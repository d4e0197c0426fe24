"""Headless Chromium for tests and benchmarks (Debian package ``chromium``, installed by
``.ci/run``), with every network request of the page made to fail: a proxy on a closed port and
a resolver that finds no host."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: hosts Chromium itself contacts (updates, clock, accounts) even with background networking off:
#: not requests of the page
BROWSER_HOSTS = re.compile(r"^https?://[^/]*\.(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)(/|:|$)")


def offline_command(profile: Path, *args: str) -> list[str]:
    """The Chromium command line: headless, its own profile folder, no network."""
    assert CHROMIUM, "Chromium is missing: install the Debian package 'chromium' (.ci/run does)"
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            *args]


def chromium(url: str, tmp: Path, *args: str, timeout: float = 90) -> tuple[str, list[str]]:
    """Run headless Chromium on ``url`` with all network requests failing. Returns (stdout, page
    requests from the net log). The whole process group is killed afterwards, whatever happens."""
    run = tmp / f"chromium-{uuid.uuid4().hex[:8]}"
    run.mkdir()
    netlog = run / "netlog.json"
    cmd = offline_command(run / "profile", f"--log-net-log={netlog}", *args, url)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, _err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    text = netlog.read_text(encoding="utf-8", errors="replace") if netlog.exists() else ""
    urls = sorted(set(re.findall(r'"url"\s*:\s*"(https?://[^"]+)"', text)))
    return out.decode("utf-8", errors="replace"), [u for u in urls if not BROWSER_HOSTS.match(u)]
