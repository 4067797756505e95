"""Configuration objects of the synthetic generator: rater profiles and the simulation config.

Everything the generator plants is declared here, so that ``planted.json`` can be written from
these objects alone and analyses can be tested against known truth.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from calib.errors import ConfigError

__all__ = [
    "DEFAULT_DIMENSIONS",
    "RUBRIC_ID",
    "RUBRIC_VERSION",
    "SubgroupEffect",
    "RaterProfile",
    "SimulationConfig",
    "default_raters",
]

#: Dimension ids of ``rubrics/ml_interview_v1.yaml``, in rubric order. The phrase banks are keyed
#: by these ids, so they are the generator's fixed vocabulary (a test checks the rubric agrees).
DEFAULT_DIMENSIONS: tuple[str, ...] = (
    "problem_framing",
    "structure",
    "data",
    "modeling",
    "evaluation",
    "tradeoffs",
    "communication",
    "adaptability",
)
#: Default extra noise sd per dimension on every judgement (not only the central band), so that
#: the default sample shows a realistic mix of reliable, tentative and unreliable dimensions
#: (docs/simulate.md, "Reliability of the default sample"). Tuned, not estimated from data.
_DEFAULT_BASE_NOISE: dict[str, float] = {"communication": 0.25, "adaptability": 0.25}
#: Default latent sd per dimension where it differs from ``latent_sd``: dimensions on which
#: candidates differ more are easier to agree on (same reason as above).
_DEFAULT_LATENT_SD: dict[str, float] = {"problem_framing": 1.3, "evaluation": 1.3}
RUBRIC_ID = "ml_interview"
RUBRIC_VERSION = "1.0"


@dataclass(frozen=True)
class SubgroupEffect:
    """A rater's shift on one dimension for candidates in one subgroup.

    Parameters
    ----------
    attribute : str
        Transcript ``metadata`` key, e.g. ``"school_tier"``.
    group : str
        Value of that key that triggers the shift, e.g. ``"non_target"``.
    dimension : str
        Dimension id the shift applies to.
    shift : float
        Added to the rater's continuous judgement (score units); negative = scored lower.

    Examples
    --------
    >>> SubgroupEffect("school_tier", "non_target", "communication", -0.7).shift
    -0.7
    """

    attribute: str
    group: str
    dimension: str
    shift: float


@dataclass(frozen=True)
class RaterProfile:
    """Planted behaviour of one synthetic human rater.

    Parameters
    ----------
    rater_id : str
        Identifier written to the ratings table, e.g. ``"r01"``.
    severity : float or mapping of str to float, default 0.0
        Subtracted from the latent true score; positive = harsher = lower scores. A scalar
        applies to every dimension; a mapping gives per-dimension values (missing dims = 0).
    halo : float, default 0.0
        Weight in [0, 1) pulling each judgement towards the rater's mean judgement over the
        transcript's dimensions.
    central_tendency : float, default 0.0
        Shrinkage in [0, 1) of judgements towards the scale midpoint.
    noise_sd : float, default 0.35
        Standard deviation of the rater's random error (score units).
    drift_per_30_days : float, default 0.0
        Added to the judgement per 30 days elapsed between ``start_date`` and ``rated_at``
        (positive = more lenient over time).
    subgroup_effects : tuple of SubgroupEffect, default ()
        Shifts for candidates in a subgroup.
    role : str, default ""
        Human-readable description written to ``planted.json`` (e.g. ``"severe"``).

    Examples
    --------
    >>> p = RaterProfile("r01", severity=0.6, role="severe")
    >>> p.severity_for("data")
    0.6
    """

    rater_id: str
    severity: float | Mapping[str, float] = 0.0
    halo: float = 0.0
    central_tendency: float = 0.0
    noise_sd: float = 0.35
    drift_per_30_days: float = 0.0
    subgroup_effects: tuple[SubgroupEffect, ...] = ()
    role: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.rater_id, str) or not self.rater_id:
            raise ConfigError(
                f"RaterProfile.rater_id must be a non-empty string, got {self.rater_id!r}"
            )
        for name in ("halo", "central_tendency"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(
                    f"RaterProfile({self.rater_id}).{name} must be in [0, 1), got {value!r}"
                )
        if not self.noise_sd >= 0.0:
            raise ConfigError(
                f"RaterProfile({self.rater_id}).noise_sd must be >= 0, got {self.noise_sd!r}"
            )
        object.__setattr__(self, "subgroup_effects", tuple(self.subgroup_effects))

    def severity_for(self, dimension: str) -> float:
        """Severity on ``dimension`` (score units, positive = harsher)."""
        if isinstance(self.severity, Mapping):
            return float(self.severity.get(dimension, 0.0))
        return float(self.severity)

    def cleaned(self) -> RaterProfile:
        """The same rater with every planted effect removed (noise kept)."""
        return replace(
            self,
            severity=0.0,
            halo=0.0,
            central_tendency=0.0,
            drift_per_30_days=0.0,
            subgroup_effects=(),
            role="clean",
        )


def _near_clean_severity(values: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(DEFAULT_DIMENSIONS, values, strict=True))


def default_raters() -> list[RaterProfile]:
    """The default planted cast of eight synthetic raters ``r01`` .. ``r08``.

    Fixed constants (not drawn from the seed) so that the documentation and ``planted.json``
    describe the same cast for every seed.

    Returns
    -------
    list of RaterProfile
        r01 severe (+0.6 on every dimension), r02 lenient (-0.5), r03 halo (0.7),
        r04 central tendency (0.6), r05 drifting (+0.25 per 30 days from a harsh +0.7 start,
        so about neutral on average over the default dates), r06 near-clean but
        scores ``school_tier == "non_target"`` candidates 0.4 lower on ``communication``,
        r07 and r08 near-clean (|severity| <= 0.1).

    Examples
    --------
    >>> [r.role for r in default_raters()][:2]
    ['severe', 'lenient']
    """
    return [
        RaterProfile("r01", severity=0.6, noise_sd=0.15, role="severe"),
        RaterProfile("r02", severity=-0.5, noise_sd=0.15, role="lenient"),
        RaterProfile(
            "r03",
            severity=_near_clean_severity((0.05, -0.05, 0.0, 0.05, -0.05, 0.0, 0.05, -0.05)),
            halo=0.7,
            noise_sd=0.15,
            role="halo",
        ),
        RaterProfile(
            "r04",
            severity=_near_clean_severity((-0.05, 0.0, 0.05, 0.0, -0.05, 0.05, 0.0, -0.05)),
            central_tendency=0.6,
            noise_sd=0.15,
            role="central_tendency",
        ),
        # Drift starts harsh (+0.7) so that r05 is about neutral on average over the default
        # 176 days (0.25 * 176 / 30 / 2 = 0.73): a pure drift, not a lenient rater in disguise.
        RaterProfile(
            "r05",
            severity=_near_clean_severity((0.7, 0.75, 0.65, 0.7, 0.75, 0.65, 0.7, 0.75)),
            drift_per_30_days=0.25,
            noise_sd=0.15,
            role="drift",
        ),
        RaterProfile(
            "r06",
            severity=_near_clean_severity((0.1, -0.05, 0.05, -0.1, 0.0, 0.05, -0.05, 0.1)),
            noise_sd=0.1,
            subgroup_effects=(SubgroupEffect("school_tier", "non_target", "communication", -0.7),),
            role="subgroup_bias",
        ),
        RaterProfile(
            "r07",
            severity=_near_clean_severity((-0.1, 0.05, 0.0, 0.1, -0.05, 0.0, 0.05, -0.1)),
            noise_sd=0.1,
            role="near_clean",
        ),
        RaterProfile(
            "r08",
            severity=_near_clean_severity((0.05, 0.1, -0.1, 0.0, 0.05, -0.05, -0.05, 0.0)),
            noise_sd=0.1,
            role="near_clean",
        ),
    ]


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a synthetic dataset (with the seed, fully reproducible).

    Parameters
    ----------
    n_transcripts : int, default 300
        Number of synthetic interviews.
    n_raters : int, default 8
        Number of raters used when ``raters`` is None: the first ``n_raters`` of
        :func:`default_raters`, then near-clean extras ``r09``, ``r10``, ... drawn from the seed.
    raters_per_transcript : (int, int), default (2, 3)
        Inclusive range of how many raters score each non-linked transcript (uniform).
    linked_fraction : float, default 1/15
        Fraction of transcripts (20 of 300) scored by every rater, which links the
        incomplete design for calibration. Set 0 for a design without a linked set.
    seed : int, default 20261125
        Seed of the numpy Generator; the same config and seed give byte-identical files.
    start_date, end_date : str, default "2026-01-05", "2026-06-30"
        Interviews are spread uniformly over these dates (UTC), so drift is detectable.
    raters : list of RaterProfile or None, default None
        Explicit cast; None uses the default planted cast.
    clean : bool, default False
        If True, every rater is unbiased (no severity, halo, central tendency, drift or
        subgroup effect) and no dimension is ambiguous: only each rater's noise remains.
    dimension_noise : mapping of str to float, default {"tradeoffs": 0.6}
        Extra noise sd per ambiguous dimension, applied only to judgements falling between
        the two central levels (so raters confuse levels 2 and 3).
    dimension_base_noise : mapping of str to float, default {"communication": 0.25, "adaptability": 0.25}
        Extra noise sd on every judgement of a dimension (harder to judge from a transcript),
        added to the rater's ``noise_sd``. Removed by ``clean=True``.
    latent_mean, latent_sd, general_factor_rho : float, default 2.5, 0.9, 0.5
        Mean, sd and inter-dimension correlation of the latent true scores (before the
        seniority shift).
    dimension_latent_sd : mapping of str to float, default {"problem_framing": 1.3, "evaluation": 1.3}
        Latent sd of the named dimensions instead of ``latent_sd``: candidates differ more on
        them, so raters agree more. Kept by ``clean=True`` (it describes candidates, not raters).
    seniority_shift : mapping of str to float
        Added to every latent true score by seniority (junior -0.25, mid 0, senior +0.25).
    seniority_probs : mapping of str to float
        Share of candidates by seniority.
    subgroup_attribute, subgroup_probs :
        Metadata key and its distribution (``school_tier``: non_target 0.6, target 0.4);
        independent of skill, so any score gap is a rater effect.

    Examples
    --------
    >>> cfg = SimulationConfig(n_transcripts=50, seed=1)
    >>> cfg.n_linked
    3
    """

    n_transcripts: int = 300
    n_raters: int = 8
    raters_per_transcript: tuple[int, int] = (2, 3)
    linked_fraction: float = 1.0 / 15.0
    seed: int = 20261125
    start_date: str = "2026-01-05"
    end_date: str = "2026-06-30"
    raters: list[RaterProfile] | None = None
    clean: bool = False
    dimension_noise: Mapping[str, float] = field(default_factory=lambda: {"tradeoffs": 0.6})
    dimension_base_noise: Mapping[str, float] = field(
        default_factory=lambda: dict(_DEFAULT_BASE_NOISE)
    )
    latent_mean: float = 2.5
    latent_sd: float = 0.9
    dimension_latent_sd: Mapping[str, float] = field(
        default_factory=lambda: dict(_DEFAULT_LATENT_SD)
    )
    general_factor_rho: float = 0.5
    seniority_shift: Mapping[str, float] = field(
        default_factory=lambda: {"junior": -0.25, "mid": 0.0, "senior": 0.25}
    )
    seniority_probs: Mapping[str, float] = field(
        default_factory=lambda: {"junior": 0.3, "mid": 0.4, "senior": 0.3}
    )
    subgroup_attribute: str = "school_tier"
    subgroup_probs: Mapping[str, float] = field(
        default_factory=lambda: {"non_target": 0.6, "target": 0.4}
    )

    def __post_init__(self) -> None:
        if not isinstance(self.n_transcripts, int) or self.n_transcripts < 1:
            raise ConfigError(
                f"n_transcripts must be a positive integer, got {self.n_transcripts!r}"
            )
        lo, hi = self.raters_per_transcript
        if not (1 <= lo <= hi):
            raise ConfigError(
                f"raters_per_transcript must be (lo, hi) with 1 <= lo <= hi, got {(lo, hi)!r}"
            )
        n = len(self.raters) if self.raters is not None else self.n_raters
        if not isinstance(n, int) or n < 2:
            raise ConfigError(f"n_raters must be an integer >= 2, got {n!r}")
        if hi > n:
            raise ConfigError(
                f"raters_per_transcript {(lo, hi)!r} asks for more raters than n_raters={n}"
            )
        if self.raters is not None:
            ids = [r.rater_id for r in self.raters]
            if len(set(ids)) != len(ids):
                raise ConfigError(f"raters: duplicate rater_id in {ids!r}")
        if not 0.0 <= self.linked_fraction <= 1.0:
            raise ConfigError(f"linked_fraction must be in [0, 1], got {self.linked_fraction!r}")
        try:
            start, end = self.start_dt, self.end_dt
        except ValueError as exc:
            raise ConfigError(f"start_date/end_date must be ISO dates: {exc}") from None
        if end <= start:
            raise ConfigError(
                f"end_date {self.end_date!r} must be after start_date {self.start_date!r}"
            )
        if not 0.0 <= self.general_factor_rho <= 1.0:
            raise ConfigError(
                f"general_factor_rho must be in [0, 1], got {self.general_factor_rho!r}"
            )
        if self.latent_sd < 0:
            raise ConfigError(f"latent_sd must be >= 0, got {self.latent_sd!r}")
        for name in ("seniority_probs", "subgroup_probs"):
            probs = getattr(self, name)
            if not probs or abs(sum(probs.values()) - 1.0) > 1e-9 or min(probs.values()) < 0:
                raise ConfigError(f"{name} must be non-negative and sum to 1, got {dict(probs)!r}")
        missing = set(self.seniority_probs) - set(self.seniority_shift)
        if missing:
            raise ConfigError(f"seniority_shift has no value for {sorted(missing)!r}")
        for name in ("dimension_noise", "dimension_base_noise", "dimension_latent_sd"):
            for dim, sd in getattr(self, name).items():
                if not sd >= 0:
                    raise ConfigError(f"{name}[{dim!r}] must be >= 0, got {sd!r}")

    @property
    def start_dt(self) -> _dt.datetime:
        """``start_date`` as an aware UTC datetime at midnight."""
        return _dt.datetime.fromisoformat(self.start_date).replace(tzinfo=_dt.timezone.utc)

    @property
    def end_dt(self) -> _dt.datetime:
        """``end_date`` as an aware UTC datetime at midnight."""
        return _dt.datetime.fromisoformat(self.end_date).replace(tzinfo=_dt.timezone.utc)

    @property
    def n_linked(self) -> int:
        """Number of transcripts in the linked set (scored by every rater)."""
        return int(round(self.linked_fraction * self.n_transcripts))

    def to_dict(self) -> dict:
        """JSON-serialisable view of the scalar settings (raters are reported separately)."""
        return {
            "n_transcripts": self.n_transcripts,
            "n_raters": len(self.raters) if self.raters is not None else self.n_raters,
            "raters_per_transcript": list(self.raters_per_transcript),
            "linked_fraction": self.linked_fraction,
            "n_linked": self.n_linked,
            "seed": self.seed,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "clean": self.clean,
            "custom_raters": self.raters is not None,
            "dimension_noise": {k: float(v) for k, v in self.dimension_noise.items()},
            "dimension_base_noise": {k: float(v) for k, v in self.dimension_base_noise.items()},
            "latent_mean": self.latent_mean,
            "latent_sd": self.latent_sd,
            "dimension_latent_sd": {k: float(v) for k, v in self.dimension_latent_sd.items()},
            "general_factor_rho": self.general_factor_rho,
            "seniority_shift": {k: float(v) for k, v in self.seniority_shift.items()},
            "seniority_probs": {k: float(v) for k, v in self.seniority_probs.items()},
            "subgroup_attribute": self.subgroup_attribute,
            "subgroup_probs": {k: float(v) for k, v in self.subgroup_probs.items()},
        }
