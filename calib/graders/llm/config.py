"""Build an :class:`~calib.graders.llm.LLMGrader` from a YAML config file plus overrides.

File layout (every key optional except ``base_url`` and ``model``, which may also come from
the command line; a top-level ``llm:`` mapping may wrap them)::

    llm:
      base_url: http://127.0.0.1:8000/v1
      model: qwen2.5-7b-instruct
      api_key_env: OPENAI_API_KEY      # the variable's NAME; the key is never in the file
      mode: per_dimension              # or: all
      template: v1                     # or: v2
      samples: 3
      temperature: 0.7
      max_tokens: 512
      top_p: 0.95
      seed: 7
      response_format: auto            # json_schema | json_object | text
      logprobs: true
      top_logprobs: 5
      concurrency: 8
      timeout_s: 60
      retry: {max_attempts: 4, base_delay_s: 0.5, max_delay_s: 20, max_retry_after_s: 120}
      cache: store/llm_cache.sqlite
      prices: {qwen2.5-7b-instruct: {input_per_mtok: 0, output_per_mtok: 0}}
      extra_params: {repeat_penalty: 1.1}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from calib._yaml import load_yaml
from calib.errors import ConfigError, GraderError
from calib.graders.llm.pricing import PriceTable
from calib.graders.llm.retry import RetryPolicy
from calib.graders.llm.runner import LLMGrader

__all__ = ["load_llm_config", "llm_grader_from_config", "LLM_CONFIG_KEYS"]

LLM_CONFIG_KEYS = frozenset(
    {
        "base_url", "model", "api_key_env", "mode", "template", "samples", "temperature", "max_tokens",
        "top_p", "seed", "response_format", "logprobs", "top_logprobs", "concurrency", "timeout_s",
        "retry", "cache", "prices", "extra_params", "progress", "jitter_seed",
    }
)  # fmt: skip
_RETRY_KEYS = {"max_attempts", "base_delay_s", "max_delay_s", "max_retry_after_s"}


def load_llm_config(path: str | Path | None) -> dict:
    """Read the ``llm`` settings of a YAML config file (``{}`` when ``path`` is None).

    Raises
    ------
    ConfigError
        Naming the file and key for unreadable YAML, a non-mapping, or an unknown key.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "llm.yaml")
    >>> _ = open(path, "w").write("llm:\\n  model: m\\n  samples: 3\\n")
    >>> load_llm_config(path)
    {'model': 'm', 'samples': 3}
    """
    if path is None:
        return {}
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    section = dict(data.get("llm", data))
    section.pop("grader", None)  # shared key: which grader the file was written for
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: llm: expected a mapping")
    prefix = "llm." if "llm" in data else ""
    unknown = sorted(set(section) - LLM_CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: {prefix}{unknown[0]}: unknown key; known: {', '.join(sorted(LLM_CONFIG_KEYS))}"
        )
    if "retry" in section:
        if not isinstance(section["retry"], dict) or set(section["retry"]) - _RETRY_KEYS:
            raise ConfigError(
                f"{path}: {prefix}retry: expected a mapping with keys {sorted(_RETRY_KEYS)}"
            )
    if any(k.lower() in {"api_key", "key", "token"} for k in section):
        raise ConfigError(
            f"{path}: put the API key in an environment variable and name it in api_key_env"
        )
    return dict(section)


def llm_grader_from_config(
    config: Mapping[str, Any], source: str = "config", **overrides: Any
) -> LLMGrader:
    """An :class:`LLMGrader` from config settings; non-None ``overrides`` (CLI options) win.

    Examples
    --------
    >>> g = llm_grader_from_config({"base_url": "http://127.0.0.1:8000/v1", "model": "m"},
    ...                            samples=3, temperature=0.7, progress=False)
    >>> g.samples, g.params["temperature"]
    (3, 0.7)
    """
    settings = dict(config)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(settings) - LLM_CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown LLM grader setting")
    retry = settings.pop("retry", None)
    if isinstance(retry, dict):
        settings["retry"] = RetryPolicy(**retry)
    prices = settings.pop("prices", None)
    if prices is not None:
        settings["prices"] = (
            prices
            if isinstance(prices, PriceTable)
            else PriceTable(prices, source=f"{source}: prices")
        )
    if "cache" in settings:
        settings["cache_path"] = settings.pop("cache")
    try:
        return LLMGrader(**settings)
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except GraderError:
        raise
