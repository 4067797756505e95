"""Write a simulated dataset as the canonical SYNTHETIC sample files."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from calib._escape import csv_safe_arrow
from calib.errors import ConfigError
from calib.simulate._config import SimulationConfig
from calib.simulate._dataset import SimulatedDataset

__all__ = ["write_dataset", "RATINGS_COLUMNS", "cli_command"]

#: Canonical header of ratings.csv (the ingest contract).
RATINGS_COLUMNS = [
    "transcript_id",
    "rater_id",
    "rater_type",
    "dimension",
    "score",
    "rubric_id",
    "rubric_version",
    "rated_at",
]


def _iso_z(values: pd.Series) -> pa.Array:
    """ISO 8601 UTC strings with a ``Z`` suffix, whole seconds."""
    # Each rating time repeats once per dimension: format the distinct values only, with Arrow's
    # C++ strftime on naive UTC times (the tz-aware path is several times slower).
    codes, uniques = pd.factorize(values)
    naive = pd.DatetimeIndex(uniques).tz_convert("UTC").tz_localize(None).floor("s")
    text = pc.strftime(pa.array(naive, type=pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ")
    return text.take(pa.array(codes))


def _write_csv(frame: pd.DataFrame, fh: BinaryIO) -> None:
    """CSV with an unquoted header and no quoting (ids never contain commas; arrow raises if one does).

    pyarrow's writer is several times faster than ``DataFrame.to_csv`` on millions of rows and
    writes floats in shortest round-trip form, so values read back exactly.
    """
    # no cell a spreadsheet would run as a formula (OWASP); Arrow kernels: cheap on millions
    table = csv_safe_arrow(pa.Table.from_pandas(frame, preserve_index=False))
    fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
    pa_csv.write_csv(table, fh, pa_csv.WriteOptions(include_header=False, quoting_style="none"))


def _write_jsonl(tr: pd.DataFrame, fh: BinaryIO) -> None:
    """One canonical JSON object per transcript, streamed line by line (bounded memory)."""
    when = _iso_z(tr["interviewed_at"]).to_pylist()
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    rows = zip(
        tr["transcript_id"],
        tr["question_id"],
        tr["question_type"],
        when,
        tr["turns"],
        tr["metadata"],
        strict=True,
    )
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n", write_through=False)
    for tid, qid, qtype, at, turns, meta in rows:
        record = {
            "transcript_id": tid,
            "question_id": qid,
            "question_type": qtype,
            "interviewed_at": at,
            "turns": turns,
            "metadata": meta,
        }
        text.write(encode(record))
        text.write("\n")
    text.flush()
    text.detach()


def cli_command(config: SimulationConfig, out: str | os.PathLike) -> str | None:
    """The ``calib simulate`` command that reproduces ``config``, or None if it cannot.

    Examples
    --------
    >>> cli_command(SimulationConfig(n_transcripts=10, seed=3), "out")
    'calib simulate --out out --n-transcripts 10 --n-raters 8 --seed 3'
    >>> cli_command(SimulationConfig(raters_per_transcript=(3, 3), linked_fraction=0.0), "o")
    'calib simulate --out o --n-transcripts 300 --n-raters 8 --seed 20261125 --raters-per-transcript 3 --linked-fraction 0.0'
    """
    default = SimulationConfig()
    expressible = SimulationConfig(
        n_transcripts=config.n_transcripts,
        n_raters=config.n_raters,
        seed=config.seed,
        clean=config.clean,
        raters_per_transcript=config.raters_per_transcript,
        linked_fraction=config.linked_fraction,
    )
    if config != expressible:
        return None
    cmd = (
        f"calib simulate --out {out} --n-transcripts {config.n_transcripts} "
        f"--n-raters {config.n_raters} --seed {config.seed}"
    )
    lo, hi = config.raters_per_transcript
    if (lo, hi) != default.raters_per_transcript:
        cmd += (
            f" --raters-per-transcript {lo}" if lo == hi else f" --raters-per-transcript {lo}-{hi}"
        )
    if config.linked_fraction != default.linked_fraction:
        cmd += f" --linked-fraction {config.linked_fraction!r}"
    return cmd + (" --clean" if config.clean else "")


def _readme(ds: SimulatedDataset, out: Path, command: str | None) -> str:
    cfg = ds.config
    command = command or cli_command(cfg, out.as_posix())
    how = (
        f"```\n{command}\n```"
        if command
        else "A custom `calib.simulate.SimulationConfig` (not expressible on the command line); "
        "its settings are in `planted.json` under `config`."
    )
    counts = ds.ratings.groupby("transcript_id", sort=False)["rater_id"].nunique()
    counts = counts.drop(index=ds.planted["linked_transcripts"], errors="ignore")
    raters = "\n".join(
        f"| {rid} | {p['role'] or '-'} | "
        f"{np.mean(list(p['severity'].values())):+.2f} | {p['halo']:.2f} | {p['central_tendency']:.2f} | "
        f"{p['drift_per_30_days']:+.2f} | {p['noise_sd']:.2f} |"
        for rid, p in ds.planted["raters"].items()
    )
    subgroup = (
        "\n".join(
            f"- {e['rater_id']}: `{e['attribute']} == {e['group']}` on `{e['dimension']}`, shift {e['shift']:+.2f}"
            for e in ds.planted["subgroup_effects"]
        )
        or "- none"
    )
    ambiguous = (
        ", ".join(
            f"`{d}` (extra sd {v:.2f})" for d, v in ds.planted["ambiguous_dimensions"].items()
        )
        or "none"
    )
    base = (
        ", ".join(
            f"`{d}` (sd {v:.2f})" for d, v in ds.planted["dimension_base_noise"].items() if v > 0
        )
        or "none"
    )
    spread = ", ".join(f"`{d}` {v:.2f}" for d, v in cfg.dimension_latent_sd.items())
    spread = f"{cfg.latent_sd:.2f}" + (
        f" ({spread}; candidates differ more there)" if spread else ""
    )
    return f"""# SYNTHETIC sample data (calib.simulate)

**Everything in this folder is synthetic.** The interview transcripts, candidates and ratings
were generated by `calib.simulate` from a seeded statistical model; no real person, interview
or rating is represented. Use it to try calib and to test that analyses recover the planted
rater effects.

- seed: `{cfg.seed}`{" (clean: no planted rater effects)" if cfg.clean else ""}
- {len(ds.transcripts)} transcripts, {ds.ratings["rater_id"].nunique()} raters, {len(ds.ratings)} rating rows
  (each transcript scored by {counts.min() if len(counts) else 0}-{counts.max() if len(counts) else 0} raters, except
  {len(ds.planted["linked_transcripts"])} linked transcripts scored by every rater), interviews from {cfg.start_date} to {cfg.end_date}
- rubric `{ds.planted["rubric"]["id"]}` v{ds.planted["rubric"]["version"]}, scale
  {ds.planted["rubric"]["scale"]["min"]}-{ds.planted["rubric"]["scale"]["max"]}

## How it was made

{how}

The same command and seed reproduce these files byte for byte (with the same calib version).

## Files

| file | content |
|---|---|
| `transcripts.jsonl` | one canonical JSON transcript per line: `transcript_id, question_id, question_type, interviewed_at, turns, metadata` (metadata has `"synthetic": true`) |
| `ratings.csv` | human ratings, long format: `{",".join(RATINGS_COLUMNS)}` |
| `true_scores.csv` | latent true score per transcript and dimension (`transcript_id, dimension, true_score`) |
| `planted.json` | every planted parameter and the generative model (`"synthetic": true`) |

## Planted rater effects

| rater | role | mean severity | halo | central tendency | drift / 30 days | noise sd |
|---|---|---|---|---|---|---|
{raters}

Positive severity = harsher = lower scores. Subgroup effects:
{subgroup}

Ambiguous dimensions: {ambiguous}.
Extra noise on every judgement of a dimension: {base}.
Latent true-score sd: {spread}.

See `docs/simulate.md` for the full generative model.
"""


def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    # Write beside the target and rename, so a crash never leaves a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; sample files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _text(content: str) -> Callable[[BinaryIO], None]:
    return lambda fh: fh.write(content.encode("utf-8"))


def write_dataset(
    ds: SimulatedDataset, out: str | os.PathLike, command: str | None = None
) -> dict[str, Path]:
    """Write ``transcripts.jsonl``, ``ratings.csv``, ``true_scores.csv``, ``planted.json`` and ``README.md``.

    Parameters
    ----------
    ds : SimulatedDataset
        Output of :func:`calib.simulate.simulate_dataset`.
    out : path-like
        Folder to write into (created if missing; these five files are replaced).
    command : str, optional
        Command line recorded in README.md; default: the equivalent ``calib simulate`` call.

    Returns
    -------
    dict of str to Path
        File name -> written path.

    Examples
    --------
    >>> import tempfile
    >>> from calib.simulate import simulate_dataset, SimulationConfig
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=10))
    >>> sorted(write_dataset(ds, tempfile.mkdtemp()))  # doctest: +NORMALIZE_WHITESPACE
    ['README.md', 'planted.json', 'ratings.csv', 'transcripts.jsonl', 'true_scores.csv']
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out: {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"out: cannot create folder {out}: {exc.strerror or exc}") from None

    ratings = ds.ratings[RATINGS_COLUMNS].copy()
    ratings["rated_at"] = _iso_z(ratings["rated_at"])
    if ratings["score"].notna().all():
        ratings["score"] = ratings["score"].astype(np.int64)  # "3", not "3.0"
    files: dict[str, Callable[[BinaryIO], None]] = {
        "transcripts.jsonl": lambda fh: _write_jsonl(ds.transcripts, fh),
        "ratings.csv": lambda fh: _write_csv(ratings, fh),
        "true_scores.csv": lambda fh: _write_csv(ds.true_scores, fh),
        "planted.json": _text(json.dumps(ds.planted, indent=2, ensure_ascii=False) + "\n"),
        "README.md": _text(_readme(ds, out, command)),
    }
    written = {}
    for name, write in files.items():
        try:
            _atomic_write(out / name, write)
        except OSError as exc:
            raise ConfigError(f"out: cannot write {out / name}: {exc.strerror or exc}") from None
        written[name] = out / name
    return written
