"""Token prices and run cost ("unknown", never 0, when no price is known).

A price table maps a model name to USD per million tokens::

    gpt-4o-mini: {input_per_mtok: 0.15, output_per_mtok: 0.60}
    local-model: {input_per_mtok: 0, output_per_mtok: 0}   # explicit zero = free

No price ships with calib (prices change; an out-of-date default would be silently wrong):
pass one with ``prices=`` / ``--prices FILE`` (YAML or JSON), or under ``prices:`` in the
grader config file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import yaml

from calib._yaml import load_yaml
from calib.errors import ConfigError

__all__ = ["PriceTable", "load_prices"]


class PriceTable:
    """USD per million input/output tokens, by model name.

    Examples
    --------
    >>> t = PriceTable({"m": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}})
    >>> t.cost("m", 1_000_000, 500_000)
    2.0
    >>> t.cost("other", 10, 10)
    'unknown'
    """

    def __init__(
        self, prices: Mapping[str, Mapping[str, float]] | None = None, source: str = "prices"
    ):
        self._prices: dict[str, tuple[float, float]] = {}
        for model, entry in (prices or {}).items():
            try:
                self._prices[str(model)] = (
                    float(entry["input_per_mtok"]),
                    float(entry["output_per_mtok"]),
                )
            except (KeyError, TypeError, ValueError):
                raise ConfigError(
                    f"{source}: {model}: need numeric input_per_mtok and output_per_mtok"
                ) from None

    def __contains__(self, model: str) -> bool:
        return model in self._prices

    def cost(
        self, model: str, prompt_tokens: int | None, completion_tokens: int | None
    ) -> float | str:
        """Cost in USD, or ``"unknown"`` when the model or the token counts are unknown."""
        if model not in self._prices or prompt_tokens is None or completion_tokens is None:
            return "unknown"
        pin, pout = self._prices[model]
        return (prompt_tokens * pin + completion_tokens * pout) / 1_000_000


def load_prices(path: str | Path) -> PriceTable:
    """Read a price table from a YAML or JSON file (``{model: {input_per_mtok, output_per_mtok}}``).

    A top-level ``prices:`` key may wrap the table. Raises :class:`~calib.errors.ConfigError`
    naming the file (and model) when it cannot be read or a price is not a number.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "prices.yaml")
    >>> _ = open(path, "w").write("gpt-4o-mini: {input_per_mtok: 0.15, output_per_mtok: 0.6}\\n")
    >>> load_prices(path).cost("gpt-4o-mini", 1_000_000, 0)
    0.15
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else load_yaml(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read price table ({exc})") from None
    if isinstance(data, dict) and "prices" in data:
        data = data["prices"]
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping model -> {{input_per_mtok, output_per_mtok}}"
        )
    return PriceTable(data, source=str(path))
