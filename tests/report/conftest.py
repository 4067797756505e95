"""Shared fixtures for the report tests: SYNTHETIC datasets from calib.simulate, built reports,
and a headless-Chromium driver speaking the DevTools protocol over a pipe (no websocket)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from calib.report import ReportInputs, ReportOptions, build_results
from calib.rubric import load_rubric
from calib.simulate import SimulationConfig, simulate_dataset

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"
#: Fast options for tests: fewer bootstrap resamples, fixed seed.
FAST = ReportOptions(seed=7, n_boot=100)


@pytest.fixture(scope="session")
def rubric():
    return load_rubric(RUBRIC)


@pytest.fixture(scope="session")
def planted(rubric):
    """SYNTHETIC data with planted problems (severe/lenient raters, ambiguous 'tradeoffs')."""
    ds = simulate_dataset(SimulationConfig(n_transcripts=150, seed=11))
    return ds, ReportInputs(ds.ratings, ds.transcripts, rubric)


@pytest.fixture(scope="session")
def clean(rubric):
    """SYNTHETIC data from SimulationConfig(clean=True): no planted rater or rubric problem."""
    ds = simulate_dataset(SimulationConfig(n_transcripts=150, seed=11, clean=True))
    return ds, ReportInputs(ds.ratings, ds.transcripts, rubric)


@pytest.fixture(scope="session")
def planted_results(planted):
    return build_results(planted[1], FAST)


@pytest.fixture(scope="session")
def clean_results(clean):
    return build_results(clean[1], FAST)


@pytest.fixture(scope="session")
def planted_report(planted, planted_results, tmp_path_factory):
    from calib.report import write_report

    out = tmp_path_factory.mktemp("planted_report")
    write_report(planted_results, out, inputs=planted[1], options=FAST)
    return out


# --------------------------------------------------------------------------------------------
# headless Chromium over the DevTools protocol (--remote-debugging-pipe: fd 3 in, fd 4 out)
# --------------------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    # no network at all: every host resolves to nothing and any proxy use goes nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--remote-debugging-pipe",
]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CDP:
    """Minimal DevTools-protocol client over Chromium's pipe transport (NUL-delimited JSON)."""

    def __init__(self, binary: str, window: tuple[int, int] = (1200, 900)):
        self.tmp = tempfile.mkdtemp(prefix="calib-chromium-")
        r_in, w_in = os.pipe()  # we write -> chromium reads on fd 3
        r_out, w_out = os.pipe()  # chromium writes on fd 4 -> we read
        args = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.tmp}",
            f"--window-size={window[0]},{window[1]}",
            "about:blank",
        ]

        def _fds():  # runs in the child: put the pipe ends on fds 3 and 4 (inheritable)
            import fcntl

            a, b = fcntl.fcntl(r_in, fcntl.F_DUPFD, 10), fcntl.fcntl(w_out, fcntl.F_DUPFD, 10)
            os.dup2(
                a, 3
            )  # os.dup2 makes the target inheritable; copying via >= 10 avoids clobbering
            os.dup2(b, 4)

        # close_fds=False: subprocess would otherwise close fds 3/4 after preexec_fn ran
        self.proc = subprocess.Popen(
            args,
            close_fds=False,
            preexec_fn=_fds,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(r_in)
        os.close(w_out)
        self.w = os.fdopen(w_in, "wb", buffering=0)
        self.r = os.fdopen(r_out, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = self.r.read(65536)
            if not chunk:
                raise RuntimeError(
                    "chromium closed the DevTools pipe: "
                    + (
                        self.proc.stderr.read(2000).decode(errors="replace")
                        if self.proc.stderr
                        else ""
                    )
                )
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30,
    ) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # only the process this fixture started
        shutil.rmtree(self.tmp, ignore_errors=True)


def load_page(url: str, screenshot: Path | None = None, width: int = 1200) -> dict:
    """Open ``url`` in headless Chromium and report what happened.

    Returns a dict with ``console`` (console API calls and log entries of level warning/error),
    ``exceptions``, ``requests`` (every URL the page asked for), ``images`` (per <img>:
    src prefix, complete, naturalWidth), ``title`` and ``text`` (document.body.innerText).
    """
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    cdp = CDP(binary, (width, 900))
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sess = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.send(f"{domain}.enable", session=sess)
        cdp.send("Page.navigate", {"url": url}, session=sess)
        cdp.wait_event("Page.loadEventFired")
        ev = cdp.send(
            "Runtime.evaluate",
            {
                "returnByValue": True,
                "awaitPromise": True,
                "expression": """
            (async () => {
              await Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)));
              return {title: document.title, text: document.body.innerText,
                      scripts: document.scripts.length,
                      height: document.documentElement.scrollHeight,
                      pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
                      overflowing: Array.from(document.querySelectorAll('table, .tablewrap, main, section'))
                          .filter(e => e.scrollWidth > e.clientWidth + 1 ||
                                       e.getBoundingClientRect().right > window.innerWidth + 1)
                          .map(e => (e.tagName + ' ' + (e.querySelector('caption') ?
                                     e.querySelector('caption').innerText : e.id || '')).slice(0, 120)),
                      images: Array.from(document.images).map(i => ({
                          src: i.getAttribute('src').slice(0, 30), alt: i.alt,
                          complete: i.complete, naturalWidth: i.naturalWidth}))};
            })()""",
            },
            session=sess,
        )["result"]["value"]
        if screenshot is not None:
            h = min(
                int(ev["height"]), 1050
            )  # the first screen: three answers and the verdict chart
            cdp.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": h, "deviceScaleFactor": 1, "mobile": False},
                session=sess,
            )
            shot = cdp.send("Page.captureScreenshot", {"format": "png"}, session=sess)
            import base64

            screenshot.write_bytes(base64.b64decode(shot["data"]))
        console = [e["params"] for e in cdp.events if e.get("method") == "Runtime.consoleAPICalled"]
        logs = [e["params"]["entry"] for e in cdp.events if e.get("method") == "Log.entryAdded"]
        exceptions = [
            e["params"] for e in cdp.events if e.get("method") == "Runtime.exceptionThrown"
        ]
        requests = [
            e["params"]["request"]["url"]
            for e in cdp.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        failed = [e["params"] for e in cdp.events if e.get("method") == "Network.loadingFailed"]
        return {
            **ev,
            "console": console,
            "logs": [l for l in logs if l.get("level") in ("warning", "error")],
            "exceptions": exceptions,
            "requests": requests,
            "failed": failed,
        }
    finally:
        cdp.close()


@pytest.fixture(scope="session")
def browser():
    """``load_page(url, screenshot=None, width=1200)``; skips when chromium is not installed."""
    if chromium_binary() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return load_page
