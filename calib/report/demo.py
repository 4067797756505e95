"""``calib demo``: shipped synthetic sample -> fresh store -> graders -> full report.

Steps: ingest ``datasets/sample`` (synthetic, labelled so everywhere), run the rule-based
grader, run the LLM grader only when ``CALIB_LLM_BASE_URL`` and ``CALIB_LLM_MODEL`` are set,
then write the full calibration report. Each step shows a tqdm progress bar on stderr.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

import calib
from calib.agreement import DEFAULT_N_BOOT, DEFAULT_SEED
from calib.errors import ConfigError, GraderError, StoreError
from calib.report._inputs import load_inputs
from calib.report._write import write_report
from calib.report.results import ReportOptions, build_results

__all__ = ["DemoResult", "run_demo", "sample_paths"]


@dataclass
class DemoResult:
    """What the demo produced: report path, headline findings, step timings and notes."""

    report: Path
    headline: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def sample_paths(root: Path | None = None) -> tuple[Path, Path, Path]:
    """(transcripts.jsonl, ratings.csv, rubric yaml) of the shipped synthetic sample.

    Raises
    ------
    ConfigError
        If the sample files are not there (e.g. a wheel install without the repository).
    """
    base = root or Path(calib.__file__).resolve().parents[1]
    t, r = (
        base / "datasets" / "sample" / "transcripts.jsonl",
        base / "datasets" / "sample" / "ratings.csv",
    )
    rub = base / "rubrics" / "ml_interview_v1.yaml"
    for p in (t, r, rub):
        if not p.is_file():
            raise ConfigError(
                f"demo: shipped sample file {p} not found (run from a calib source checkout)"
            )
    return t, r, rub


def _fresh_store(store: Path) -> None:
    if store.exists():
        from calib.io import store_exists

        if not store_exists(store):
            raise StoreError(
                f"demo: {store} exists and is not a calib store; refusing to overwrite it"
            )
        shutil.rmtree(store)  # only ever a store the demo made: same path, checked above


def _rule_grader(store: Path) -> str:
    from calib.graders import RuleGrader, write_grades
    from calib.io import read_store_rubric, read_transcripts

    rubric = read_store_rubric(store)
    grader = RuleGrader.from_rubric(rubric, {})
    result = grader.grade(read_transcripts(store), rubric)
    # the same one-commit write as `calib grade`: ratings, evidence and the run record
    write_grades(str(store), grader, result)
    return grader.rater_id


def _llm_grader(store: Path, base_url: str, model: str) -> str:
    from calib.graders import write_grades
    from calib.graders.llm import LLMGrader
    from calib.io import read_store_rubric, read_transcripts

    rubric = read_store_rubric(store)
    grader = LLMGrader(
        base_url=base_url,
        model=model,
        api_key_env=os.environ.get("CALIB_LLM_API_KEY_ENV"),
        cache_path=store.parent / "llm_cache.sqlite",
        progress=True,
    )
    result = grader.grade(read_transcripts(store), rubric)
    write_grades(str(store), grader, result, evidence_table="llm_outputs")
    return grader.rater_id


def run_demo(
    out: str | Path = "reports/demo",
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> DemoResult:
    """Run the whole demo into ``out`` and return the report path and headline findings.

    Parameters
    ----------
    out : path
        Output folder; the store goes to ``out/store`` (recreated each run), the report to ``out``.
    n_boot : int
        Bootstrap resamples (the one default of every command,
        :data:`calib.agreement.DEFAULT_N_BOOT`).
    seed : int
    progress : bool
        Show progress bars on stderr.

    Example
    -------
    >>> res = run_demo("reports/demo")  # doctest: +SKIP
    >>> res.report.name  # doctest: +SKIP
    'report.html'
    """
    from calib.io import ingest

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "store"
    transcripts, ratings, rubric = sample_paths()
    base_url, model = os.environ.get("CALIB_LLM_BASE_URL"), os.environ.get("CALIB_LLM_MODEL")
    steps = (
        ["ingest synthetic sample", "rule-based grader"]
        + (["LLM grader"] if base_url and model else [])
        + ["analyses", "write report"]
    )
    res = DemoResult(report=out / "report.html", headline=[])
    bar = tqdm(steps, desc="calib demo", unit="step", disable=not progress, leave=True)
    results = None
    for step in bar:
        bar.set_postfix_str(step)
        t0 = time.perf_counter()
        if step == "ingest synthetic sample":
            _fresh_store(store)
            ingest(
                [transcripts],
                [ratings],
                rubric=rubric,
                store=store,
                strict=False,
                progress=progress,
            )
        elif step == "rule-based grader":
            try:
                res.notes.append(f"rule-based grader {_rule_grader(store)} scored every transcript")
            except (GraderError, ConfigError, ImportError) as exc:
                res.notes.append(f"rule-based grader not run: {exc}")
        elif step == "LLM grader":
            try:
                res.notes.append(
                    f"LLM grader {_llm_grader(store, base_url, model)} scored the transcripts"
                )
            except (GraderError, ConfigError, ImportError) as exc:
                res.notes.append(f"LLM grader not run: {exc}")
        elif step == "analyses":
            inputs = load_inputs(store)
            options = ReportOptions(seed=seed, n_boot=n_boot)
            results = build_results(inputs, options, progress=progress)
        else:
            res.report = write_report(results, out, inputs=inputs, options=options)
        res.timings[step] = round(time.perf_counter() - t0, 2)
    if not (base_url and model):
        res.notes.append("LLM grader skipped: set CALIB_LLM_BASE_URL and CALIB_LLM_MODEL to run it")
    res.headline = list(results.headline) if results is not None else []
    return res
