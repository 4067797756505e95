"""The scoring packet as a page in a real browser: headless Chromium driven by selenium with
Debian's chromium-driver. Fill the form, save, reload (progress kept), download the CSV and
ingest it with calib; no network request; transcript markup inert; blind.

Skips when chromium, chromedriver or selenium is missing (.ci/run installs them).
Data: SYNTHETIC (shipped sample), with planted hostile markup in one transcript and its id.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from calib.io import ingest, read_quarantine, read_ratings
from calib.rubric import load_rubric
from calib.training import write_reference_set
from calib.training._packet import PACKET_CSV_COLUMNS, write_packet

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,900",
)
EVIL_ID = 't0"<b>&</script><x'
EVIL_TEXT = (
    "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
    "<b id=planted>bold?</b> "
)
EVIL_NOTE = '=HYPERLINK("http://x") , "quoted"\nsecond line <script>alert(1)</script>'


def _binaries() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    chromium = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "chromium/chromedriver not installed (apt-get install -y chromium chromium-driver)"
        )
    return chromium, driver


@pytest.fixture
def chrome(tmp_path):
    chromium, driver_path = _binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    profile = tempfile.mkdtemp(prefix="calib-selenium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    drv.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    drv.downloads = downloads
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def evil_set(expert_set):
    """The sample's expert set with hostile markup in the first transcript's id and text."""
    old = expert_set.transcript_ids[0]
    tr = expert_set.transcripts.copy()
    turns = [dict(t) for t in tr.loc[0, "turns"]]
    i = next(k for k, t in enumerate(turns) if t["speaker"] == "candidate")
    turns[i]["text"] = EVIL_TEXT + turns[i]["text"]
    tr.at[0, "turns"] = turns
    tr.loc[0, "transcript_id"] = EVIL_ID
    swap = {old: EVIL_ID}
    return dataclasses.replace(
        expert_set,
        transcripts=tr,
        chosen=expert_set.chosen.replace({"transcript_id": swap}),
        reference=expert_set.reference.replace({"transcript_id": swap}),
    )


def _wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_packet_in_a_real_browser(chrome, evil_set, tmp_path):
    from selenium.webdriver.common.by import By

    rubric = load_rubric(RUBRIC)
    write_reference_set(evil_set, tmp_path / "set")
    page = write_packet(evil_set, rubric, tmp_path / "packet")
    html = page.read_text()
    n_t, dims = len(evil_set.transcript_ids), list(rubric.dimension_ids)

    chrome.get("about:blank")
    chrome.get_log("performance")  # drain what the browser itself loaded at start-up
    chrome.get(page.as_uri())
    _wait(lambda: chrome.execute_script("return document.documentElement.dataset.ready"))
    title = chrome.title
    assert "PWNED" not in title
    # transcript markup is inert: shown as text, no element created from it
    assert chrome.find_elements(By.ID, "planted") == []
    assert chrome.find_elements(By.CSS_SELECTOR, "main img") == []
    body = chrome.find_element(By.TAG_NAME, "body").text
    assert "<script>document.title='PWNED'</script>" in body
    assert EVIL_ID in body

    # fill the form: id once, a level for every transcript x dimension, some rationales
    # no download without a valid interviewer id (an id can never start a spreadsheet formula)
    rid = chrome.find_element(By.ID, "rater-id")
    for bad in ("", "=cmd"):
        rid.clear()
        rid.send_keys(bad)
        chrome.find_element(By.ID, "download").click()
        assert "Enter your interviewer id first" in chrome.find_element(By.ID, "message").text
    assert list(chrome.downloads.iterdir()) == []
    rid.clear()
    rid.send_keys("ann.lee@corp")
    want = {}
    for t in range(n_t):
        for d in range(len(dims)):
            level = (t + d) % 4 + 1
            want[(t, d)] = level
            radio = chrome.find_element(
                By.CSS_SELECTOR, f'input[name="s-{t}-{d}"][value="{level}"]'
            )
            chrome.execute_script("arguments[0].scrollIntoView({block:'center'})", radio)
            radio.click()
    chrome.find_element(By.NAME, "r-0-0").send_keys(EVIL_NOTE)
    chrome.find_element(By.NAME, "r-1-2").send_keys("clear objective, no metric")
    chrome.find_element(By.ID, "save").click()
    assert (
        f"{n_t * len(dims)} of {n_t * len(dims)} scores entered"
        in chrome.find_element(By.ID, "progress").text
    )

    # reload: progress kept (localStorage)
    chrome.refresh()
    _wait(lambda: chrome.execute_script("return document.documentElement.dataset.ready"))
    assert chrome.find_element(By.ID, "rater-id").get_attribute("value") == "ann.lee@corp"
    for (t, d), level in want.items():
        checked = chrome.execute_script(
            f"return document.querySelector('input[name=\"s-{t}-{d}\"]:checked').value"
        )
        assert int(checked) == level
    assert chrome.find_element(By.NAME, "r-0-0").get_attribute("value") == EVIL_NOTE
    assert "Restored your progress" in chrome.find_element(By.ID, "save-status").text

    # download the CSV
    chrome.find_element(By.ID, "download").click()
    csv = _wait(
        lambda: [
            p
            for p in chrome.downloads.glob("*.csv")
            if not p.name.endswith(".crdownload") and p.stat().st_size > 0
        ]
    )[0]
    assert csv.name.startswith("scores-ann.lee@corp-")
    assert "Downloaded all" in chrome.find_element(By.ID, "message").text
    got = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert tuple(got.columns) == PACKET_CSV_COLUMNS
    assert len(got) == n_t * len(dims)
    note = got.loc[(got["transcript_id"] == EVIL_ID) & (got["dimension"] == dims[0]), "rationale"]
    assert note.iloc[0].startswith("'=HYPERLINK")  # formula neutralised

    # start over (two clicks): scores and rationales gone, also after a reload
    chrome.find_element(By.ID, "clear").click()
    assert chrome.execute_script("return document.querySelectorAll('input:checked').length") > 0
    chrome.find_element(By.ID, "clear").click()
    assert chrome.execute_script("return document.querySelectorAll('input:checked').length") == 0
    chrome.refresh()
    _wait(lambda: chrome.execute_script("return document.documentElement.dataset.ready"))
    assert chrome.execute_script("return document.querySelectorAll('input:checked').length") == 0
    assert chrome.find_element(By.NAME, "r-0-0").get_attribute("value") == ""
    assert chrome.find_element(By.ID, "progress").text.startswith("0 of ")

    # calib ingest reads the downloaded file as is
    store = tmp_path / "round1"
    summary = ingest(
        [tmp_path / "set" / "transcripts.jsonl"], [csv], rubric=RUBRIC, store=store, strict=True
    )
    assert summary.ok, summary.format()
    assert len(read_quarantine(store)) == 0
    r = read_ratings(store)
    assert len(r) == n_t * len(dims) and set(r["rater_id"]) == {"ann.lee@corp"}
    ids = evil_set.transcript_ids
    for (t, d), level in want.items():
        row = r[(r["transcript_id"] == ids[t]) & (r["dimension"] == dims[d])]
        assert row["score"].iloc[0] == level
    assert (r["run_id"] == f"training:{evil_set.set_id}").all()

    # no network: every request was the file itself or a data: URL
    requests = []
    for entry in chrome.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            p = msg["params"]
            requests.append((p.get("documentURL", ""), p["request"]["url"]))
    ours = [u for doc, u in requests if doc.startswith(("file://", "data:"))]
    assert page.as_uri() in ours, "the performance log did not record the page's own request"
    assert [u for u in ours if not u.startswith(("file://", "data:"))] == []
    # and nothing anywhere in the browser went to the network
    assert [
        u for _, u in requests if u.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")
    ] == []
    # no console errors (CSP violations, script errors)
    severe = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    # blind: nothing about the reference is in the page
    for word in ("reference_score", "reference_level", "borderline", "r07", "r08"):
        assert word not in html
    for reason in evil_set.chosen["reason"]:
        assert reason not in html


def test_training_report_pages_render_offline(chrome, expert_set, sample_tables, tmp_path):
    """report.html and session.html: no script, no console error, no request but the file."""
    from selenium.webdriver.common.by import By

    from calib.training import build_training_report, simulate_round, write_training_report

    rubric = sample_tables[2]
    sim = simulate_round(expert_set, rubric, {"<i>x</i>": {"elevation": 1.0}, "b": {}}, seed=1)
    write_training_report(build_training_report([("s", sim, expert_set)], rubric), tmp_path)
    for name in ("report.html", "session.html"):
        chrome.get("about:blank")
        chrome.get_log("performance")
        chrome.get((tmp_path / name).as_uri())
        assert chrome.find_elements(By.TAG_NAME, "script") == []
        assert chrome.find_elements(By.TAG_NAME, "i") == []
        assert "<i>x</i>" in chrome.find_element(By.TAG_NAME, "body").text
        assert [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"] == []
        urls = [
            json.loads(e["message"])["message"]["params"]["request"]["url"]
            for e in chrome.get_log("performance")
            if json.loads(e["message"])["message"].get("method") == "Network.requestWillBeSent"
        ]
        assert [u for u in urls if not u.startswith(("file://", "data:"))] == []
