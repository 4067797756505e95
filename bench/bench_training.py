"""Scoring packet load time: a 10 transcripts x 8 dimensions packet in headless Chromium.

Builds a reference set of 10 transcripts from the shipped SYNTHETIC sample (experts r07, r08),
writes the packet, opens it with selenium + Debian's chromium-driver, and reports (best of 5
loads) the Navigation Timing load event and the time until the page's script has restored
saved progress and the form is live; once empty, once with all 80 scores saved in
localStorage. Target (issue 16): under one second. Writes bench/results/training.md.

Run: python bench/bench_training.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from calib.io import ingest, read_ratings, read_store_rubric, read_transcripts
from calib.training import build_reference_set, write_packet

REPO = Path(__file__).resolve().parents[1]
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    tmp = Path(tempfile.mkdtemp(prefix="calib-bench-training-"))
    store = tmp / "store"
    ingest(
        [REPO / "datasets/sample/transcripts.jsonl"],
        [REPO / "datasets/sample/ratings.csv"],
        rubric=REPO / "rubrics/ml_interview_v1.yaml",
        store=store,
    )
    rubric = read_store_rubric(store)
    rs = build_reference_set(
        read_ratings(store), read_transcripts(store), rubric, n=10, experts=["r07", "r08"]
    )
    page = write_packet(rs, rubric, tmp / "packet")
    size_kib = page.stat().st_size / 1024

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={tmp / 'profile'}")
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    js_load = "return performance.getEntriesByType('navigation')[0].loadEventEnd"
    js_ready = "return +document.documentElement.dataset.ready"

    def measure() -> tuple[float, float]:
        loads, readies = [], []
        for _ in range(5):
            drv.get("about:blank")
            drv.get(page.as_uri())
            loads.append(drv.execute_script(js_load))
            readies.append(drv.execute_script(js_ready))
        return min(loads), min(readies)

    try:
        empty = measure()
        drv.execute_script(
            "var r=document.getElementsByTagName('input');"
            "document.getElementById('rater-id').value='bench';"
            "for (var i=0;i<r.length;i++){ if(r[i].type==='radio' && r[i].value==='2'){r[i].checked=true;} }"
            "document.getElementById('save').click();"
        )
        filled = measure()
    finally:
        drv.quit()
        shutil.rmtree(tmp, ignore_errors=True)
    cells = len(rs.transcript_ids) * len(rubric.dimension_ids)
    lines = [
        "# Scoring packet load time (bench/bench_training.py)",
        "",
        f"Packet: {len(rs.transcript_ids)} transcripts x {len(rubric.dimension_ids)} dimensions "
        f"({cells} scoring forms), {size_kib:.0f} KiB, SYNTHETIC sample transcripts. Headless "
        "Chromium (Debian chromium + chromium-driver, selenium), best of 5 loads, in ms from "
        "navigation start.",
        "",
        "| state | load event | form live (progress restored) |",
        "|---|---|---|",
        f"| nothing saved | {empty[0]:.0f} | {empty[1]:.0f} |",
        f"| {cells} scores saved in localStorage | {filled[0]:.0f} | {filled[1]:.0f} |",
        "",
        "Target (issue 16): under 1000 ms.",
        "",
    ]
    out = REPO / "bench" / "results" / "training.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
