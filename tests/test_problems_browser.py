"""The problem map in a real headless Chromium, driven over the DevTools protocol
(``--remote-debugging-pipe``): the test drags the year slider with the mouse and steps it with the
keyboard, switches the dimension layer, and reads which settlements the page highlights; every
network request is made to fail and recorded. Screenshots go to build/test-artifacts/."""

from __future__ import annotations

import base64
import json
import os
import select
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from browser import offline_command
from conftest import REPO
from qamtu.reports.problems import picture_from_store
from qamtu.mapping.problem_map import build_problem_map
from test_problems_helpers import EVIL, YEARS, designed_store

ARTIFACTS = Path(os.environ.get("QAMTU_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))


class Browser:
    """Headless Chromium on a DevTools pipe (fd 3: commands in, fd 4: replies out), one page attached."""

    def __init__(self, url: str, tmp: Path, width: int = 1400, height: int = 1000):
        profile = tmp / f"chromium-{uuid.uuid4().hex[:8]}"
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()
        # the child must see the pipe ends as fds 3 and 4; move them high first so dup2 cannot clobber them
        hi_r, hi_w = os.dup(cmd_r) + 100, os.dup(out_w) + 100
        os.dup2(cmd_r, hi_r)
        os.dup2(out_w, hi_w)

        def child_fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = offline_command(profile, "--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=child_fds,
                                     start_new_session=True)
        for fd in (cmd_r, out_w, hi_r, hi_w):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Network.enable")
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": False})
        self.call("Page.navigate", {"url": url})

    def call(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out_r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer over the DevTools pipe")
            chunk = os.read(self._out_r, 1 << 16)
            if not chunk:
                raise AssertionError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.js(f"(() => {{ try {{ return {expression}; }} catch (e) {{ return null; }} }})()")
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def mouse(self, kind: str, x: float, y: float) -> None:
        self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                               "buttons": 0 if kind == "mouseReleased" else 1, "clickCount": 1})

    def key(self, name: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": name, "code": name,
                                                 "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code})

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            os.close(self._cmd_w)
            os.close(self._out_r)


@pytest.fixture(scope="module")
def maps(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("problems-browser")
    db, roles = designed_store(gazetteer)
    pic = picture_from_store(db, YEARS, gazetteer=gazetteer)
    offline = build_problem_map(pic, gazetteer, tmp / "offline.html", offline=True)
    online = build_problem_map(pic, gazetteer, tmp / "online.html", offline=False)
    return tmp, roles, offline, online


HIGHLIGHTED = ("Array.from(document.querySelectorAll('path.qamtu-overdue'))"
               ".map(p => p.getAttribute('data-kato')).sort()")
PROBLEMS = ("Array.from(document.querySelectorAll('path[data-status=problem], path[data-status=overdue]'))"
            ".map(p => p.getAttribute('data-kato')).sort()")


def slider_x(b: Browser, index: int) -> tuple[float, float]:
    """Page position of the slider thumb for year ``index`` (the thumb centre runs from left+8 to right-8)."""
    r = b.js("(() => { const r = document.getElementById('qamtu-year-slider').getBoundingClientRect();"
             " return [r.left, r.right, r.top + r.height / 2]; })()")
    left, right, y = r
    return left + 8 + (right - left - 16) * index / (len(YEARS) - 1), y


def test_slider_moves_the_year_and_the_highlighted_settlements(maps):
    tmp, roles, offline, _ = maps
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    b = Browser(Path(offline["path"]).as_uri(), tmp)
    try:
        b.wait_for("document.documentElement.getAttribute('data-qamtu-ready') === '1'")
        root = lambda name: b.js(f"document.documentElement.getAttribute('{name}')")  # noqa: E731
        assert root("data-qamtu-errors") is None
        assert root("data-qamtu-year") == "2025" and root("data-qamtu-layer") == "all"     # the latest observed year
        assert sorted(b.js(HIGHLIGHTED)) == [roles["mobile_overdue"]]
        b.screenshot(ARTIFACTS / "problems-map-2025.png")

        # drag the thumb from 2025 to 2021 with the mouse
        x0, y0 = slider_x(b, 4)
        x1, _ = slider_x(b, 0)
        b.mouse("mousePressed", x0, y0)
        b.mouse("mouseMoved", (x0 + x1) / 2, y0)
        b.mouse("mouseMoved", x1, y0)
        b.mouse("mouseReleased", x1, y0)
        assert b.wait_for("document.documentElement.getAttribute('data-qamtu-year') === '2021' && 'ok'") == "ok"
        assert b.js(HIGHLIGHTED) == []                                                # nothing overdue yet in 2021
        assert b.js(PROBLEMS) == sorted([roles["internet_fixed"], roles["mobile_overdue"], roles["tv_foreign"],
                                         roles["fixed_line"]])
        # two steps with the keyboard: 2023, when the mobile plan (2022) and the TV plan (2022) are overdue
        b.js("document.getElementById('qamtu-year-slider').focus()")
        b.key("ArrowRight", 39)
        b.key("ArrowRight", 39)
        assert root("data-qamtu-year") == "2023"
        assert b.js(HIGHLIGHTED) == sorted([roles["mobile_overdue"], roles["tv_foreign"]])
        assert root("data-qamtu-overdue") == "2"
        b.screenshot(ARTIFACTS / "problems-map-2023.png")

        # the mobile layer in 2023: two problems (overdue one and the "gap" village), one overdue
        b.js("Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
             ".find(l => l.textContent.includes('Мобильная связь')).querySelector('input').click()")
        assert root("data-qamtu-layer") == "mobile"
        assert b.js(PROBLEMS) == sorted([roles["mobile_overdue"], roles["gap"]])
        assert b.js(HIGHLIGHTED) == [roles["mobile_overdue"]]
        # its popup holds the whole history in both languages
        b.js(f"document.querySelector('path[data-kato=\"{roles['mobile_overdue']}\"]')"
             ".dispatchEvent(new MouseEvent('click', {{bubbles: true}}))".replace("{{", "{").replace("}}", "}"))
        popup = b.wait_for("(document.querySelector('.qamtu-popup') || {}).innerText")
        assert "Мобильная связь" in popup and "Ұялы байланыс" in popup and "2021" in popup and "2025" in popup
        assert "⚠" in popup and "Бағдарлама / Программа" in popup and "Просрочено" in popup
        assert EVIL + "Бағдарлама / Программа" in popup and root("data-pwned") is None     # markup shown as text
        time.sleep(0.5)                                   # let the popup's fade-in finish before the picture
        b.screenshot(ARTIFACTS / "problems-map-popup.png")
        assert b.requests() and all(u.startswith(("file:", "data:", "about:")) for u in b.requests()), \
            [u for u in b.requests() if not u.startswith(("file:", "data:"))][:5]
    finally:
        b.close()


def test_online_map_asks_for_tiles(maps):
    """Proves the request check above can fail: the online map's tile requests are seen."""
    tmp, _, _, online = maps
    b = Browser(Path(online["path"]).as_uri(), tmp)
    try:
        b.wait_for("document.documentElement.getAttribute('data-qamtu-ready') === '1'")
        time.sleep(0.3)
        b.js("1")
        assert any("tile.openstreetmap.org" in u for u in b.requests()), b.requests()[:5]
        assert b.js("document.documentElement.getAttribute('data-qamtu-errors')") is None
    finally:
        b.close()


def test_screenshot_shows_overdue_and_legend(maps):
    """The 2023 screenshot taken above shows the overdue marker colour and the plain offline background."""
    import matplotlib.image as mpimg
    import numpy as np

    png = ARTIFACTS / "problems-map-2023.png"
    if not png.exists():
        pytest.skip("the slider test did not run")
    img = mpimg.imread(png)[:, :, :3]
    assert img.shape[:2] == (1000, 1400)

    def near(hex_colour: str, tol: float = 0.05) -> int:
        rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        return int((np.abs(img - rgb).max(axis=2) < tol).sum())

    assert near("#f3f1ea") > 50_000, "the plain offline background is missing"
    assert near("#bdbdbd", 0.08) > 300, "no grey (unknown) settlements"
