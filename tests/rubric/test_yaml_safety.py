"""Issue 11.7: alias bombs and duplicate keys in rubric and config YAML are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from calib._yaml import load_yaml
from calib.cli.main import cli
from calib.errors import ConfigError, RubricError
from calib.rubric import load_rubric

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


def _bomb(levels: int, width: int, anchor: str = "a0") -> str:
    """The classic 'billion laughs': level k is a list of `width` aliases of level k-1."""
    lines = [f'{anchor}: &{anchor} ["lol"]']
    prev = anchor
    for k in range(1, levels + 1):
        name = f"{anchor[0]}{k}"
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
        prev = name
    return "\n".join(lines) + "\n", prev


def test_billion_laughs_rubric_is_refused(tmp_path):
    body, last = _bomb(9, 9)  # 9**9 = 387 million strings from ~1 KB
    p = tmp_path / "bomb.yaml"
    p.write_text(body + f"id: x\ndescription: *{last}\n")
    assert p.stat().st_size < 1500
    with pytest.raises(RubricError, match="alias") as info:
        load_rubric(p)
    assert str(p) in str(info.value)


def test_moderate_alias_expansion_is_refused_where_it_was_accepted(tmp_path):
    # 10**6 expanded nodes: safe_load accepted this (and the content hash expanded it);
    # it is now refused before anything walks the expansion
    doc = yaml.safe_load(RUBRIC.read_text())
    body, last = _bomb(6, 10, anchor="b0")
    p = tmp_path / "r.yaml"
    lines = ["description:"]
    lines += ["  " + line for line in body.splitlines()]
    lines.append(f"  all: *{last}")
    p.write_text(
        yaml.safe_dump({k: v for k, v in doc.items() if k != "description"}, sort_keys=False)
        + "\n".join(lines)
        + "\n"
    )
    assert isinstance(yaml.safe_load(p.read_text())["description"], dict)  # plain YAML accepts it
    with pytest.raises(RubricError, match="alias"):
        load_rubric(p)


def test_small_aliases_are_still_fine():
    doc = load_yaml("base: &b {weight: 1}\nx: *b\ny: *b\nz: {<<: *b, weight: 2}\n")
    assert doc == {
        "base": {"weight": 1},
        "x": {"weight": 1},
        "y": {"weight": 1},
        "z": {"weight": 2},
    }


def test_recursive_alias_is_refused():
    with pytest.raises(yaml.YAMLError, match="recursive alias"):
        load_yaml("a: &a [1, *a]\n")


def test_duplicate_key_in_rubric_names_file_key_and_lines(tmp_path):
    text = RUBRIC.read_text()
    # a second 'version:' at the top level silently overrode the first before
    p = tmp_path / "dup.yaml"
    p.write_text(text + "version: '9.9'\n")
    assert yaml.safe_load(p.read_text())["version"] == "9.9"  # what plain safe_load did
    with pytest.raises(RubricError) as info:
        load_rubric(p)
    msg = str(info.value)
    assert str(p) in msg and "duplicate key 'version'" in msg and "line" in msg


def test_duplicate_nested_key_is_refused(tmp_path):
    text = RUBRIC.read_text().replace("weight:", "weight: 1.0\n    weight:", 1)
    if "weight:" not in RUBRIC.read_text():
        text = RUBRIC.read_text().replace("    name:", "    name: X\n    name:", 1)
    p = tmp_path / "dup2.yaml"
    p.write_text(text)
    with pytest.raises(RubricError, match="duplicate key"):
        load_rubric(p)


def test_cli_refuses_bomb_and_duplicates_without_traceback(tmp_path):
    body, last = _bomb(9, 9)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(body + f"id: x\ndescription: *{last}\n")
    dup = tmp_path / "dup.yaml"
    dup.write_text(RUBRIC.read_text() + "title: Other\n")
    runner = CliRunner()
    for path, what in [(bomb, "alias"), (dup, "duplicate key 'title'")]:
        res = runner.invoke(cli, ["rubric", "show", str(path)])
        assert res.exit_code == 1, res.output
        assert what in res.output and str(path) in res.output
        assert "Traceback" not in res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)


def test_llm_config_and_prices_refuse_duplicates(tmp_path):
    from calib.graders.llm import load_llm_config, load_prices

    cfg = tmp_path / "llm.yaml"
    cfg.write_text("llm:\n  model: a\n  model: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'model'"):
        load_llm_config(cfg)
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "m: {input_per_mtok: 1, output_per_mtok: 2}\nm: {input_per_mtok: 0, output_per_mtok: 0}\n"
    )
    with pytest.raises(ConfigError, match="duplicate key 'm'"):
        load_prices(prices)


def test_training_gate_file_refuses_duplicates(tmp_path):
    from calib.training._gate import load_gate

    gate = tmp_path / "gate.yaml"
    gate.write_text("min_exact: 0.5\nmin_exact: 0.9\n")
    with pytest.raises(ConfigError, match="duplicate key 'min_exact'"):
        load_gate(gate)
