"""Issue 11 items 4, 11, 12, 13: grade commits atomically, hostile LLM answers, API-key masking,
dead endpoints, and listing/dropping grader runs. Data: the SYNTHETIC sample (6 transcripts)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("httpx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import Action, ScriptedChatServer  # noqa: E402

from calib.cli.main import main  # noqa: E402
from calib.graders.llm import LLMGrader, ResponseCache, RetryPolicy  # noqa: E402
from calib.graders.llm.parse import MAX_ANSWER_CHARS, parse_answer  # noqa: E402
from calib.graders.llm.provider import ChatResponse, mask_secret  # noqa: E402
from calib.io import list_runs, read_ratings, read_table, table_names  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
N = 6
FAST = "llm:\n  response_format: json_object\n  retry: {max_attempts: 2, base_delay_s: 0.01, max_delay_s: 0.02}\n"


@pytest.fixture
def server():
    srv = ScriptedChatServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def store(tmp_path):
    from calib.io import ingest

    lines = (SAMPLE / "transcripts.jsonl").read_text().splitlines()[:N]
    ids = {json.loads(line)["transcript_id"] for line in lines}
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    ratings = pd.read_csv(SAMPLE / "ratings.csv", dtype=str)
    ratings[ratings["transcript_id"].isin(ids)].to_csv(tmp_path / "r.csv", index=False)
    out = tmp_path / "store"
    ingest([tmp_path / "t.jsonl"], [tmp_path / "r.csv"],
           rubric=REPO / "rubrics" / "ml_interview_v1.yaml", store=out)  # fmt: skip
    return out


def _fast(tmp_path) -> Path:
    f = tmp_path / "fast.yaml"
    f.write_text(FAST)
    return f


def _llm_args(store, server_url, tmp_path, *extra):
    return ["grade", "--store", str(store), "--grader", "llm", "--base-url", server_url,
            "--model", "judge-m", "--no-progress", "--config", str(_fast(tmp_path)), *extra]  # fmt: skip


# ---------------------------------------------------------------------------- item 4
_KILLER = textwrap.dedent(
    """
    import os, sys
    import calib.io._store as st
    kill_at = int(os.environ["CALIB_TEST_KILL_AT"])
    seen = [0]
    orig = st._write_atomic
    def write(path, data):
        if path.name == "calib-store.json":
            seen[0] += 1
            if seen[0] == kill_at:
                os._exit(137)  # SIGKILL-like: no cleanup, no finally
        return orig(path, data)
    st._write_atomic = write
    from calib.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_grade_killed_at_any_store_write_resumes_complete(store, kill_at):
    # Before: ratings, evidence and the run record were three commits; a kill after the first
    # left ratings without evidence or run record, and a resume added nothing (0 evidence rows).
    args = ["grade", "--store", str(store), "--grader", "rules", "--run-id", "r-kill"]
    env = {**os.environ, "CALIB_TEST_KILL_AT": str(kill_at), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _KILLER, *args], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode in (0, 137), proc.stderr
    # whatever the kill left, the store is consistent: all three or none
    machine = read_ratings(store, rater_type="rule")
    ev = read_table(store, "grader_evidence")
    runs = read_table(store, "grader_runs")
    assert (len(machine) == 0) == (len(ev) == 0) == (len(runs) == 0)
    assert main(args) == 0  # resume
    machine = read_ratings(store, rater_type="rule")
    ev = read_table(store, "grader_evidence")
    runs = read_table(store, "grader_runs")
    assert len(machine) == N * 8
    assert set(ev["transcript_id"]) == set(machine["transcript_id"]) and len(ev) > 0
    assert runs["run_id"].tolist() == ["r-kill"]
    assert main(args) == 0  # a further rerun adds nothing
    assert len(read_table(store, "grader_runs")) == 1
    assert len(read_table(store, "grader_evidence")) == len(ev)


# ---------------------------------------------------------------------------- item 11
@pytest.mark.parametrize(
    "answer",
    [
        "[" * 100_000 + "]" * 100_000,  # 100,000 deep
        '{"score": ' * 50_000 + "1" + "}" * 50_000,
        "{" * 1_000_000,  # 1 MB of braces (quadratic before)
        '{"scores": [' + '{"dimension": "data", "score": 3}, ' * 300_000 + "]}",  # 10 MB
    ],
    ids=["deep-list", "deep-object", "1MB-braces", "10MB"],
)
def test_hostile_answer_never_crashes_and_is_not_stored_whole(
    server, store, tmp_path, answer, capsys
):
    server.responder = lambda body, default: Action(content=answer)
    args = _llm_args(store, server.base_url, tmp_path, "--run-id", "hostile")
    assert main(args) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    outputs = read_table(store, "llm_outputs")
    assert len(outputs) == N * 8 and (outputs["status"] == "ok").all()
    assert outputs["raw_text"].str.len().max() <= MAX_ANSWER_CHARS + 100
    ratings = read_ratings(store, rater_type="llm")
    assert ratings["score"].isna().all()  # nothing usable in these answers
    cache = store / "llm_cache.sqlite"
    assert cache.stat().st_size < 5 * MAX_ANSWER_CHARS * N  # not 10 MB per answer
    # a rerun answers from the cache and still does not crash (it crashed on every rerun)
    server.responder = lambda body, default: Action(status=500)
    n_before = server.n_requests
    assert main([*args[:-1], "hostile-2"]) == 0
    assert server.n_requests == n_before


def test_cached_hostile_answer_never_crashes_a_run(tmp_path):
    # an answer cached by an older calib (stored whole, before parsing) must not crash
    cache_path = tmp_path / "c.sqlite"
    from calib.graders.llm.cache import cache_key  # noqa: F401

    c = ResponseCache(cache_path)
    c._con.execute(
        "INSERT INTO responses (key, value, created_at) VALUES (?, ?, 0)",
        ("k-deep", json.dumps({"text": "[" * 200_000, "finish_reason": "stop"})),
    )
    c._con.execute(
        "INSERT INTO responses (key, value, created_at) VALUES (?, ?, 0)",
        ("k-nested-json", "[" * 100_000 + "]" * 100_000),
    )
    c._con.commit()
    r = c.get("k-deep")
    assert len(r.text) <= MAX_ANSWER_CHARS + 100
    assert c.get("k-nested-json") is None  # unreadable entry: a miss, not a crash
    c.close()


def test_parse_is_linear_and_total():
    # every shape returns one ParsedScore per dimension and never raises
    dims = ["data", "modeling"]
    for text in [
        "[" * 99_000,
        "{" * 99_000,
        '{"a": "' + "\\" * 50_000,
        "data " * 19_000,
        ('"data" "score": 1 ') * 4_000,
        "```json\n{" * 8_000,
        None,
        12345,
    ]:
        got = parse_answer(text, "stop", dims, 1, 4)
        assert [p.dimension for p in got] == dims
    big = "x" * (MAX_ANSWER_CHARS + 1)
    assert parse_answer(big, "stop", dims, 1, 4)[0].unscored_reason.startswith("too long")
    assert len(ChatResponse(big, "stop").text) < MAX_ANSWER_CHARS + 100


# ---------------------------------------------------------------------------- item 12
KEY = "sk-proj-Zx81Qw73Lk55Pp09Mn27Vb64Rt18"


def _fragments(text: str, key: str = KEY, n: int = 8) -> list[str]:
    return [key[i : i + n] for i in range(len(key) - n + 1) if key[i : i + n] in text]


def test_key_echoed_across_the_truncation_point_is_masked(
    server, store, tmp_path, monkeypatch, capsys, caplog
):
    # Before: the body was cut to 300 characters first and masked after, so a key straddling
    # the cut lost its tail and its first characters went to stderr and the store.
    monkeypatch.setenv("CALIB_HARDEN_KEY", KEY)
    bodies = [
        "x" * 285 + KEY + " trailing",  # straddles the 300-character cut
        f"invalid key {KEY[:20]} (prefix) and {KEY[-12:]} (suffix)",  # pieces
        "Authorization: Bearer some-other-token-xyz",
    ]
    server.script(*[Action(status=401, raw_body=b.encode()) for b in bodies] * 10)
    args = _llm_args(store, server.base_url, tmp_path, "--api-key-env", "CALIB_HARDEN_KEY")
    assert main(args) == 1  # nothing but 401s: no answer, nothing written
    out = capsys.readouterr()
    texts = [out.out, out.err, caplog.text]
    for t in texts:
        assert _fragments(t) == [], _fragments(t)
        assert "some-other-token" not in t
    for f in store.rglob("*"):
        if f.is_file():
            data = f.read_bytes().decode("latin-1")
            assert _fragments(data) == [], f


def test_mask_secret_masks_first_then_truncates():
    text = "y" * 295 + KEY
    masked = mask_secret(text, KEY, limit=300)
    assert _fragments(masked, n=5) == [] and masked.endswith("***")
    assert mask_secret("Bearer abc.def-ghi", None) == "Bearer ***"
    assert mask_secret("key=" + KEY[3:15] + ";", KEY) == "key=***;"
    assert mask_secret("short sk-1 here", "sk-1") == "short *** here"


# ---------------------------------------------------------------------------- item 13
def _dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens: connection refused
    return f"http://127.0.0.1:{port}/v1"


def test_dead_endpoint_stops_exits_1_and_writes_nothing(store, tmp_path, capsys):
    before = {n: len(read_table(store, n)) for n in table_names(store)}
    args = ["grade", "--store", str(store), "--grader", "llm", "--base-url", _dead_url(),
            "--model", "m", "--no-progress", "--config", str(_fast(tmp_path)),
            "--mode", "per_dimension", "--concurrency", "1"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "consecutive calls could not connect" in err and "Traceback" not in err
    assert "Nothing was written" in err
    assert {n: len(read_table(store, n)) for n in table_names(store)} == before
    assert "llm_outputs" not in table_names(store) and "grader_runs" not in table_names(store)


def test_connection_failures_stop_after_the_documented_threshold():
    from calib.graders.llm import MAX_CONSECUTIVE_CONNECTION_FAILURES, EndpointUnreachable

    tr = pd.DataFrame(
        {"transcript_id": [f"t{i}" for i in range(40)],
         "turns": [[{"speaker": "candidate", "text": "hello"}]] * 40}
    )  # fmt: skip
    from calib.rubric import load_rubric

    g = LLMGrader(base_url=_dead_url(), model="m", progress=False, concurrency=1,
                  retry=RetryPolicy(max_attempts=2, base_delay_s=0.0, max_delay_s=0.0),
                  response_format="text")  # fmt: skip
    with pytest.raises(
        EndpointUnreachable, match=f"{MAX_CONSECUTIVE_CONNECTION_FAILURES} consecutive"
    ):
        g.grade(tr, load_rubric(REPO / "rubrics" / "ml_interview_v1.yaml"))


def test_runs_lists_and_drops_a_grader_run(server, store, tmp_path, capsys):
    human = len(read_ratings(store, rater_type="human"))
    assert main(["grade", "--store", str(store), "--grader", "rules", "--run-id", "rules-1"]) == 0
    assert main(_llm_args(store, server.base_url, tmp_path, "--run-id", "llm-1")) == 0
    capsys.readouterr()
    assert main(["runs", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "rules-1" in out and "llm-1" in out
    runs = list_runs(store).set_index("run_id")
    assert runs.loc["llm-1", "ratings"] == N * 8 and runs.loc["llm-1", "recorded"]
    assert main(["runs", "--store", str(store), "--drop", "llm-1"]) == 0
    assert "dropped run llm-1" in capsys.readouterr().out
    assert list(list_runs(store)["run_id"]) == ["rules-1"]
    assert len(read_ratings(store, rater_type="llm")) == 0
    assert len(read_table(store, "llm_outputs")) == 0
    assert len(read_ratings(store, rater_type="human")) == human
    assert len(read_ratings(store, rater_type="rule")) == N * 8
    # unknown run: exit 1, clear message
    assert main(["runs", "--store", str(store), "--drop", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no grader run 'nope'" in err and "Traceback" not in err
    # grading again after the drop re-uses the cached answers
    n = server.n_requests
    assert main(_llm_args(store, server.base_url, tmp_path, "--run-id", "llm-2")) == 0
    assert server.n_requests == n and len(read_ratings(store, rater_type="llm")) == N * 8
