"""Generate ``tests/agreement/data/irrcac_0.4.4.json``: reference values from Gwet's irrCAC.

irrCAC 0.4.4 (Gwet's reference implementation of the chance-corrected agreement coefficients,
https://github.com/afergadis/irrCAC) pins ``scipy==1.12`` and only works with pandas 2, so it
cannot be installed next to the versions of numpy/pandas/scipy that calib supports today. Its
values are therefore computed ONCE, in a throwaway environment, and stored as a fixture that
the tests compare against (the tests never import irrCAC). Every input matrix is stored next
to its reference values, so the fixture is self-contained.

Regenerate (only needed when a case is added)::

    python -m venv /tmp/irr
    /tmp/irr/bin/pip install 'irrCAC==0.4.4' 'pandas<3'
    /tmp/irr/bin/python tests/agreement/make_irrcac_fixtures.py

The output is deterministic (seeded inputs, sorted keys), so a regeneration that changes
nothing leaves the file byte-identical.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _agreement_data import KRIPPENDORFF_2011, random_ratings  # noqa: E402

OUT = HERE / "data" / "irrcac_0.4.4.json"

METHODS = ("fleiss", "gwet", "bp", "conger")
WEIGHTS = ("identity", "linear", "quadratic")
CATEGORIES = [1.0, 2.0, 3.0, 4.0, 5.0]  # a full scale with an unused level


def _matrix(x: np.ndarray) -> list[list[float | None]]:
    return [[None if math.isnan(v) else float(v) for v in row] for row in np.asarray(x, float)]


def _f(v) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def main() -> None:
    import irrCAC
    from irrCAC import datasets
    from irrCAC.raw import CAC, Weights
    from irrCAC.table import CAC as TableCAC

    def est(x, method, weights="identity", categories=None):
        cac = CAC(pd.DataFrame(x), weights=weights, categories=categories, digits=15)
        return getattr(cac, method)()["est"]

    out: dict = {
        "irrCAC_version": irrCAC.__version__ if hasattr(irrCAC, "__version__") else "0.4.4",
        "generated_by": "tests/agreement/make_irrcac_fixtures.py",
        "note": "Reference values from irrCAC 0.4.4 (Gwet); null = missing rating.",
    }

    # 1. multi-rater coefficients on random data, with and without an explicit category set
    multirater = []
    for seed in range(5):
        x = random_ratings(seed, n_units=50, n_raters=3 + seed % 3, q=4, missing=0.2)
        case = {"seed": seed, "x": _matrix(x), "values": {}}
        for w in WEIGHTS:
            for method in METHODS:
                case["values"][f"{method}|{w}|observed"] = _f(
                    est(x, method, w)["coefficient_value"]
                )
                case["values"][f"{method}|{w}|full_scale"] = _f(
                    est(x, method, w, CATEGORIES)["coefficient_value"]
                )
        multirater.append(case)
    out["multirater"] = {"categories": CATEGORIES, "cases": multirater}

    # 2. Scott's pi from a 3x3 contingency table (irrCAC.table)
    x = random_ratings(8, n_units=80, n_raters=2, q=3, missing=0.0)
    ct = pd.crosstab(x[:, 0], x[:, 1]).reindex(
        index=[1.0, 2.0, 3.0], columns=[1.0, 2.0, 3.0], fill_value=0
    )
    out["scott_table"] = {
        "x": _matrix(x),
        "scott_pi": _f(TableCAC(ct, digits=15).scott()["est"]["coefficient_value"]),
    }

    # 3. percent agreement p_a (identity weights)
    x = random_ratings(4, n_units=40, n_raters=4, missing=0.3)
    out["percent_agreement"] = {"x": _matrix(x), "pa": _f(est(x, "fleiss")["pa"])}

    # 4. analytic standard errors and confidence intervals
    se_cases = []
    for seed in range(3):
        x = np.vstack([random_ratings(seed, 40, 4, 4, 0.25), np.full((2, 4), np.nan)])
        for w in ("identity", "quadratic"):
            values = {}
            for method in ("fleiss", "gwet", "bp"):
                e = est(x, method, w)
                values[method] = {
                    "coefficient_value": _f(e["coefficient_value"]),
                    "se": _f(e["se"]),
                    "confidence_interval": [_f(v) for v in e["confidence_interval"]],
                }
            se_cases.append({"seed": seed, "weights": w, "x": _matrix(x), "values": values})
    out["standard_errors"] = se_cases

    # 5. Gwet (2014) handbook data sets shipped by irrCAC
    handbook = {}
    for name in ("raw_4raters", "raw_5observers"):
        df = getattr(datasets, name)().astype(float)
        values = {}
        for w in WEIGHTS:
            for method in METHODS:
                values[f"{method}|{w}"] = _f(est(df, method, w)["coefficient_value"])
        values["krippendorff|identity"] = _f(
            est(df, "krippendorff", "identity")["coefficient_value"]
        )
        values["krippendorff|quadratic"] = _f(
            est(df, "krippendorff", "quadratic")["coefficient_value"]
        )
        handbook[name] = {"x": _matrix(df.to_numpy()), "values": values}
    out["handbook"] = handbook

    # 6. Gwet's "bipolar" weights for a 1-5 scale (the custom weights matrix path)
    out["bipolar_weights_1_5"] = [
        [float(v) for v in row] for row in np.asarray(Weights(CATEGORIES).bipolar(), float)
    ]

    # 7. irrCAC's "ordinal" weights in Krippendorff's alpha (not Krippendorff's ordinal metric)
    out["krippendorff_2011_ordinal_weights_alpha"] = _f(
        CAC(pd.DataFrame(KRIPPENDORFF_2011), weights="ordinal", digits=15).krippendorff()["est"][
            "coefficient_value"
        ]
    )

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
