"""Cronbach's (1955) four components of rating accuracy against reference ("true") scores.

For one rater, ``x[j, k]`` is the score given to target ``j`` (transcript) on dimension ``k``
and ``t[j, k]`` the reference score, ``n`` targets and ``m`` dimensions; a dot marks the mean
over that index. Cronbach (1955) splits the mean squared deviation into four parts:

* elevation            ``E²  = (x.. - t..)²``
* differential elev.   ``DE² = 1/n Σ_j [(x_j. - x..) - (t_j. - t..)]²``
* stereotype accuracy  ``SA² = 1/m Σ_k [(x_.k - x..) - (t_.k - t..)]²``
* differential acc.    ``DA² = 1/(nm) Σ_jk [(x_jk - x_j. - x_.k + x..) - (t_jk - t_j. - t_.k + t..)]²``

and ``E² + DE² + SA² + DA² = 1/(nm) Σ_jk (x_jk - t_jk)²`` exactly (the cross terms vanish
because the four parts are orthogonal contrasts of a two-way table).

Sources: Cronbach, L. J. (1955). Processes affecting scores on "understanding of others" and
"assumed similarity". *Psychological Bulletin*, 52(3), 177-193. The squared forms above and
their square roots ("rooted" forms, in score units) as used in rater-training research:
Sulsky, L. M., & Balzer, W. K. (1988). Meaning and measurement of performance rating accuracy.
*Journal of Applied Psychology*, 73(3), 497-506. calib reports the **rooted** forms (each is
then in scale levels, 0 = perfect) and keeps the squared ones for the identity above. Lower is
more accurate for all four.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.errors import DataValidationError

__all__ = ["CronbachComponents", "cronbach_components"]


@dataclass(frozen=True)
class CronbachComponents:
    """Cronbach's accuracy components, squared form (see the module docstring).

    Attributes
    ----------
    elevation, differential_elevation, stereotype_accuracy, differential_accuracy : float
        Squared components (score units squared).
    mean_squared_deviation : float
        ``mean((x - t)²)``; equals the sum of the four components.
    signed_elevation : float
        ``x.. - t..``: positive = the rater scores higher (more lenient) than the reference.
    n_targets, n_dimensions : int
    """

    elevation: float
    differential_elevation: float
    stereotype_accuracy: float
    differential_accuracy: float
    mean_squared_deviation: float
    signed_elevation: float
    n_targets: int
    n_dimensions: int

    def rooted(self) -> dict[str, float]:
        """Return the four components as square roots (score units), as calib reports them."""
        return {
            "elevation": float(np.sqrt(self.elevation)),
            "differential_elevation": float(np.sqrt(self.differential_elevation)),
            "stereotype_accuracy": float(np.sqrt(self.stereotype_accuracy)),
            "differential_accuracy": float(np.sqrt(self.differential_accuracy)),
        }


def cronbach_components(ratings: np.ndarray, reference: np.ndarray) -> CronbachComponents:
    """Cronbach's (1955) elevation, differential elevation, stereotype and differential accuracy.

    Parameters
    ----------
    ratings, reference : array-like, shape (n_targets, n_dimensions)
        One rater's scores and the reference scores of the same targets x dimensions. Both
        complete (no NaN): the components are defined on a full two-way table.

    Returns
    -------
    CronbachComponents
        Squared forms; :meth:`CronbachComponents.rooted` gives the square roots.

    Raises
    ------
    DataValidationError
        Shapes differ, not two-dimensional, empty, or any value is missing or infinite.

    Notes
    -----
    With ``d = x - t`` and its two-way decomposition ``d_jk = d.. + (d_j. - d..) + (d_.k -
    d..) + (d_jk - d_j. - d_.k + d..)``::

        E²  = d..²
        DE² = mean_j (d_j. - d..)²
        SA² = mean_k (d_.k - d..)²
        DA² = mean_jk (d_jk - d_j. - d_.k + d..)²

    which are Cronbach's (1955, pp. 179-180) definitions rewritten on the difference table (each
    is a difference of the same contrast of ``x`` and ``t``). Sources: Cronbach (1955),
    Psychological Bulletin 52(3), 177-193; Sulsky & Balzer (1988), Journal of Applied
    Psychology 73(3), 497-506 (squared and rooted forms). No R or Python package computes them;
    the tests check a worked example by hand and planted effects.

    Examples
    --------
    >>> x = [[3, 4], [2, 3]]   # the rater: one level above the reference everywhere
    >>> t = [[2, 3], [1, 2]]
    >>> c = cronbach_components(x, t)
    >>> c.elevation, c.differential_elevation, c.differential_accuracy
    (1.0, 0.0, 0.0)
    """
    x = np.asarray(ratings, dtype=float)
    t = np.asarray(reference, dtype=float)
    if x.ndim != 2 or x.shape != t.shape:
        raise DataValidationError(
            f"ratings and reference must be 2-D arrays of the same shape (targets x dimensions); "
            f"got {x.shape} and {t.shape}"
        )
    if x.size == 0:
        raise DataValidationError("ratings and reference are empty")
    if not (np.isfinite(x).all() and np.isfinite(t).all()):
        raise DataValidationError(
            "ratings and reference must be complete (no NaN): Cronbach's components need every "
            "target scored on every dimension"
        )
    d = x - t
    grand = d.mean()
    rows = d.mean(axis=1) - grand
    cols = d.mean(axis=0) - grand
    inter = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + grand
    return CronbachComponents(
        elevation=float(grand**2),
        differential_elevation=float(np.mean(rows**2)),
        stereotype_accuracy=float(np.mean(cols**2)),
        differential_accuracy=float(np.mean(inter**2)),
        mean_squared_deviation=float(np.mean(d**2)),
        signed_elevation=float(grand),
        n_targets=int(x.shape[0]),
        n_dimensions=int(x.shape[1]),
    )
