"""Orchestrate one synthetic dataset: latent truth, design, ratings, text, planted parameters."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

import calib
from calib.errors import CalibWarning
from calib.simulate._cast import resolve_base_noise, resolve_cast
from calib.simulate._config import DEFAULT_DIMENSIONS, RUBRIC_ID, RUBRIC_VERSION, SimulationConfig
from calib.simulate._design import draw_design
from calib.simulate._judge import judge
from calib.simulate._latent import draw_candidates
from calib.simulate._text import assemble_turns, load_phrases, question_ids

__all__ = ["SimulatedDataset", "simulate_dataset", "GENERATIVE_MODEL"]

GENERATIVE_MODEL = """\
SYNTHETIC data from calib.simulate (all quantities in rubric score units, scale min..max = 1..4).
1. Candidate t: seniority s_t ~ Categorical(seniority_probs); subgroup attribute (school_tier)
   ~ Categorical(subgroup_probs) independent of everything else; verbosity v_t ~ N(0,1)
   independent of skill; interviewed_at uniform over [start_date, end_date) in 09:00-17:00 UTC.
2. Latent true score: theta[t,d] = latent_mean + seniority_shift[s_t]
   + sd_d * (sqrt(rho) * g_t + sqrt(1-rho) * e_td), g_t, e_td ~ N(0,1), rho = general_factor_rho,
   sd_d = dimension_latent_sd[d] if given else latent_sd; rounded to 6 decimals (true_scores.csv).
3. Design: a linked set of n_linked transcripts is scored by every rater; every other transcript
   by k ~ Uniform{lo..hi} (raters_per_transcript) distinct raters drawn uniformly.
   rated_at = interviewed_at + Uniform[2 h, 5 days).
4. Rater r's judgement of transcript t on dimension d:
   y = theta[t,d] - severity[r,d] + drift_per_30_days[r] * days/30 + sum of matching subgroup shifts,
   days = (rated_at - start_date) in days (fractional);
   y += (noise_sd[r] + base_sd[d] + extra_sd[d] * 1{min+0.5 <= y < max-0.5}) * z, z ~ N(0,1)
   (base_sd = dimension_base_noise, on every judgement of d; ambiguous dimensions (dimension_noise)
   get extra_sd only where y would round to a central level: 2 or 3; standard deviations add);
   halo: y = (1-halo[r]) * y + halo[r] * mean over the 8 dimensions of y for (t, r);
   central tendency: y = mid + (1-central_tendency[r]) * (y - mid), mid = (min+max)/2 = 2.5;
   score = clip(floor(y + 0.5), min, max). Positive severity = harsher = lower scores.
5. Text: each dimension's sentences come from the phrase bank of level clip(round(theta),1,4);
   quality-neutral filler sentences ~ min(6, Poisson(0.8 * exp(0.9 * v_t))) per candidate turn.
"""


@dataclass(frozen=True)
class SimulatedDataset:
    """A synthetic dataset and the truth it was generated from.

    Attributes
    ----------
    transcripts : pandas.DataFrame
        ``transcript_id, question_id, question_type, interviewed_at (UTC), turns, metadata``.
    ratings : pandas.DataFrame
        Long ratings table (``rater_type == "human"``), one row per transcript x rater x dimension.
    true_scores : pandas.DataFrame
        ``transcript_id, dimension, true_score`` (latent, continuous, score units).
    planted : dict
        JSON-serialisable record of every planted parameter (written as ``planted.json``).
    config : SimulationConfig
        The configuration that produced it.

    Examples
    --------
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=10, seed=3))
    >>> len(ds.transcripts), len(ds.true_scores), ds.planted["seed"]
    (10, 80, 3)
    """

    transcripts: pd.DataFrame
    ratings: pd.DataFrame
    true_scores: pd.DataFrame
    planted: dict
    config: SimulationConfig


def _rubric_dimensions() -> tuple[tuple[str, ...], tuple[int, int]]:
    """Dimension ids and scale from the shipped rubric when present, else the built-in defaults.

    The phrase banks only know the default eight dimensions, so a rubric that disagrees falls
    back to the defaults with a CalibWarning rather than producing text without evidence.
    """
    path = Path(calib.__file__).resolve().parents[1] / "rubrics" / "ml_interview_v1.yaml"
    if not path.is_file():
        return DEFAULT_DIMENSIONS, (1, 4)
    return _dimensions_from_rubric(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _dimensions_from_rubric(path: Path, mtime_ns: int) -> tuple[tuple[str, ...], tuple[int, int]]:
    # Cached on the file's mtime: parsing the YAML costs more than simulating 10,000 ratings.
    from calib.rubric import load_rubric  # local: the generator works without the rubric stage

    rubric = load_rubric(path)
    known = set(load_phrases()["dimensions"])
    if (
        set(rubric.dimension_ids) <= known
        and rubric.id == RUBRIC_ID
        and rubric.version == RUBRIC_VERSION
    ):
        return tuple(rubric.dimension_ids), (int(rubric.scale.min), int(rubric.scale.max))
    warnings.warn(
        f"{path}: rubric {rubric.id!r} v{rubric.version} does not match the generator's phrase banks "
        f"({RUBRIC_ID!r} v{RUBRIC_VERSION}); using the built-in dimensions",
        CalibWarning,
        stacklevel=4,
    )
    return DEFAULT_DIMENSIONS, (1, 4)


def _utc(seconds: np.ndarray) -> pd.DatetimeIndex:
    # Microseconds under every pandas version (pandas 2 defaults to ns, pandas 3 to us): the
    # same resolution as the store's timestamp columns.
    return pd.to_datetime(seconds, unit="s", utc=True).as_unit("us")


def simulate_dataset(config: SimulationConfig | None = None) -> SimulatedDataset:
    """Generate a SYNTHETIC, seeded dataset of rated ML-interview transcripts.

    Parameters
    ----------
    config : SimulationConfig, optional
        Defaults to ``SimulationConfig()`` (300 transcripts, 8 raters, seed 20261125).

    Returns
    -------
    SimulatedDataset
        Transcripts, human ratings, latent true scores and the planted parameters.

    Notes
    -----
    The generative model is :data:`GENERATIVE_MODEL` (also in ``planted.json`` and
    ``docs/simulate.md``). Independent random streams (``SeedSequence(seed).spawn``) drive the
    latent scores, design, rater noise and text, so changing the phrase banks never changes
    the numbers.

    Examples
    --------
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=20, seed=1))
    >>> sorted(ds.ratings["rater_type"].unique())
    ['human']
    >>> bool(ds.planted["synthetic"])
    True
    """
    config = config or SimulationConfig()
    dimensions, scale = _rubric_dimensions()
    ss_cast, ss_latent, ss_design, ss_noise, ss_text = np.random.SeedSequence(config.seed).spawn(5)
    raters, dim_noise = resolve_cast(config, dimensions, np.random.default_rng(ss_cast))
    base_noise = resolve_base_noise(config, dimensions)
    rng_latent = np.random.default_rng(ss_latent)
    cand = draw_candidates(config, len(dimensions), rng_latent, dimensions)
    qids = question_ids()
    question_idx = rng_latent.integers(0, len(qids), size=config.n_transcripts)
    design = draw_design(config, len(raters), cand.interviewed_at, np.random.default_rng(ss_design))
    start = config.start_dt.timestamp()
    days = (design.rated_at - start) / 86_400.0
    _, score = judge(
        cand.theta,
        design.t_idx,
        design.r_idx,
        days,
        {config.subgroup_attribute: cand.subgroup},
        raters,
        dimensions,
        dim_noise,
        scale,
        np.random.default_rng(ss_noise),
        base_noise,
    )

    n, D = cand.theta.shape
    width = max(5, len(str(n)))
    tids = np.array([f"t{i + 1:0{width}d}" for i in range(n)], dtype=object)
    levels = np.clip(np.floor(cand.theta + 0.5), scale[0], scale[1]).astype(int)
    turns, _ = assemble_turns(
        question_idx, levels, dimensions, cand.verbosity, np.random.default_rng(ss_text)
    )

    interviewed = _utc(cand.interviewed_at)
    quarters = (interviewed.year.astype(str) + "-Q" + interviewed.quarter.astype(str)).tolist()
    bank = load_phrases()["questions"]
    metadata = [
        {
            "seniority": s,
            "cohort": c,
            config.subgroup_attribute: g,
            "synthetic": True,
        }
        for s, c, g in zip(cand.seniority, quarters, cand.subgroup, strict=True)
    ]
    transcripts = pd.DataFrame(
        {
            "transcript_id": tids,
            "question_id": np.asarray(qids, dtype=object)[question_idx],
            "question_type": np.asarray([bank[q]["question_type"] for q in qids], dtype=object)[
                question_idx
            ],
            "interviewed_at": interviewed,
            "turns": turns,
            "metadata": metadata,
        }
    )

    P = len(design.t_idx)
    rater_ids = np.array([r.rater_id for r in raters], dtype=object)
    ratings = pd.DataFrame(
        {
            "transcript_id": np.repeat(tids[design.t_idx], D),
            "rater_id": np.repeat(rater_ids[design.r_idx], D),
            "rater_type": "human",
            "dimension": np.tile(np.asarray(dimensions, dtype=object), P),
            "score": score.reshape(-1).astype(np.float64),
            "rubric_id": RUBRIC_ID,
            "rubric_version": RUBRIC_VERSION,
            "rated_at": _utc(np.repeat(design.rated_at, D)),
            "rationale": None,
            "run_id": None,
            "unscored_reason": None,
        }
    )
    true_scores = pd.DataFrame(
        {
            "transcript_id": np.repeat(tids, D),
            "dimension": np.tile(np.asarray(dimensions, dtype=object), n),
            "true_score": cand.theta.reshape(-1),
        }
    )
    planted = _planted(
        config, raters, dim_noise, base_noise, dimensions, scale, tids[design.linked]
    )
    return SimulatedDataset(transcripts, ratings, true_scores, planted, config)


def _planted(config, raters, dim_noise, base_noise, dimensions, scale, linked_ids) -> dict:
    return {
        "synthetic": True,
        "generator": f"calib.simulate (calib {calib.__version__})",
        "seed": config.seed,
        "config": config.to_dict(),
        "rubric": {
            "id": RUBRIC_ID,
            "version": RUBRIC_VERSION,
            "dimensions": list(dimensions),
            "scale": {"min": scale[0], "max": scale[1], "mid": (scale[0] + scale[1]) / 2},
        },
        "raters": {
            r.rater_id: {
                "role": r.role,
                "severity": {d: r.severity_for(d) for d in dimensions},
                "halo": float(r.halo),
                "central_tendency": float(r.central_tendency),
                "noise_sd": float(r.noise_sd),
                "drift_per_30_days": float(r.drift_per_30_days),
            }
            for r in raters
        },
        "subgroup_effects": [
            {
                "rater_id": r.rater_id,
                "attribute": e.attribute,
                "group": e.group,
                "dimension": e.dimension,
                "shift": float(e.shift),
            }
            for r in raters
            for e in r.subgroup_effects
        ],
        "ambiguous_dimensions": {d: float(v) for d, v in dim_noise.items() if v > 0},
        "dimension_base_noise": {d: float(base_noise.get(d, 0.0)) for d in dimensions},
        "linked_transcripts": [str(t) for t in linked_ids],
        "generative_model": GENERATIVE_MODEL,
    }
