import pytest
from io_helpers import DIMS, HEADER, RUBRIC, rating_line, transcript, write_jsonl


@pytest.fixture
def rubric_path():
    return RUBRIC


@pytest.fixture
def good_files(tmp_path):
    t = write_jsonl(tmp_path / "transcripts.jsonl", [transcript(f"t{i}") for i in range(1, 4)])
    lines = [
        rating_line(f"t{i}", r, d, 1 + (i + j) % 4)
        for i in range(1, 4)
        for j, r in enumerate(["r1", "r2"])
        for d in DIMS
    ]
    r = tmp_path / "ratings.csv"
    r.write_text(HEADER + "".join(lines), encoding="utf-8")
    return t, r
