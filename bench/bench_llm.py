"""Benchmark the LLM grader's own overhead against a minimal hand-rolled async client.

Run: ``python bench/bench_llm.py [--transcripts 40] [--latency 0.05]``

Both clients talk to the same scripted chat-completions server on 127.0.0.1 (from
``tests/graders/llm_server.py``; synthetic answers), in per-dimension mode, with the same
concurrency. The peer is the best one can do with no features: one shared
``httpx.AsyncClient``, a semaphore, ``json.loads`` of the answer -- no prompt building from
the rubric, no retries, no cache, no parsing fallbacks, no tables. (The ``openai`` client is
timed too when it is installed.) calib's extra work per call should be small next to any real
model's latency: the ratio at a realistic server latency is the number that matters.
Also timed: a fully cached re-run, and ``parse_answer`` against bare ``json.loads``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "graders"))

from _timing import best_of  # noqa: E402  (bench/ is on sys.path when run as a script)
from llm_server import Action, ScriptedChatServer  # noqa: E402

from calib.graders.llm import LLMGrader, build_messages, get_template, parse_answer  # noqa: E402
from calib.rubric import load_rubric  # noqa: E402


def load_transcripts(n: int) -> pd.DataFrame:
    sample = REPO / "datasets" / "sample" / "transcripts.jsonl"
    rows = [json.loads(line) for line in sample.read_text().splitlines()[:n]]
    return pd.DataFrame(rows)[["transcript_id", "turns"]]


async def peer_httpx(base_url: str, requests: list[dict], concurrency: int) -> list:
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(body):
            async with sem:
                r = await client.post(base_url + "/chat/completions", json=body)
                return json.loads(r.json()["choices"][0]["message"]["content"])["score"]

        return await asyncio.gather(*(one(b) for b in requests))


async def peer_openai(base_url: str, requests: list[dict], concurrency: int) -> list:
    from openai import AsyncOpenAI

    sem = asyncio.Semaphore(concurrency)
    async with AsyncOpenAI(base_url=base_url, api_key="none") as client:

        async def one(body):
            async with sem:
                r = await client.chat.completions.create(**body)
                return json.loads(r.choices[0].message.content)["score"]

        return await asyncio.gather(*(one(b) for b in requests))


def best_seconds(fn, repeat: int = 3) -> float:
    return best_of(fn, repeat)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transcripts", type=int, default=40)
    ap.add_argument(
        "--latency", type=float, default=0.05, help="simulated server latency per call (s)"
    )
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "llm.md"))
    args = ap.parse_args()

    rubric = load_rubric(REPO / "rubrics" / "ml_interview_v1.yaml")
    tr = load_transcripts(args.transcripts)
    n_calls = len(tr) * len(rubric.dimension_ids)
    tpl = get_template("v1")
    bodies = []
    for turns in tr["turns"]:
        for d in rubric.dimension_ids:
            msgs = build_messages(tpl, rubric, turns, dimension=d)
            bodies.append({"model": "m", "messages": list(msgs), "temperature": 0.0, "max_tokens": 512,
                           "response_format": {"type": "json_object"}})  # fmt: skip
    rows = []
    for latency in (0.0, args.latency):
        with ScriptedChatServer() as srv:
            if latency:
                srv.responder = lambda body, default, _l=latency: Action(delay=_l)

            def run_calib(cache=None):
                g = LLMGrader(base_url=srv.base_url, model="m", mode="per_dimension", concurrency=args.concurrency,
                              response_format="json_object", progress=False, cache_path=cache)  # fmt: skip
                res = g.grade(tr, rubric)
                assert res.summary["scored"] == n_calls, res.summary

            t_calib = best_seconds(run_calib, args.repeats)
            t_peer = best_seconds(
                lambda: asyncio.run(peer_httpx(srv.base_url, bodies, args.concurrency)),
                args.repeats,
            )
            rows.append(("calib LLMGrader (cold)", latency, n_calls, t_calib, t_calib / t_peer))
            rows.append(("peer: bare httpx + semaphore", latency, n_calls, t_peer, 1.0))
            try:
                import openai  # noqa: F401

                t_oai = best_seconds(
                    lambda: asyncio.run(peer_openai(srv.base_url, bodies, args.concurrency)),
                    args.repeats,
                )
                rows.append(("peer: openai AsyncOpenAI", latency, n_calls, t_oai, t_oai / t_peer))
            except ImportError:
                pass
            if latency == 0.0:
                cache = Path("/tmp") / f"calib-bench-llm-{time.time_ns()}.sqlite"
                run_calib(cache)
                t_warm = best_seconds(lambda: run_calib(cache), args.repeats)
                rows.append(
                    ("calib LLMGrader (all cached)", latency, n_calls, t_warm, t_warm / t_peer)
                )
                for f in cache.parent.glob(cache.name + "*"):
                    f.unlink()

    # parser throughput vs bare json.loads (same answers)
    rng = np.random.default_rng(0)
    answers = [json.dumps({"dimension": "data", "score": int(s), "rationale": "synthetic " * 20})
               for s in rng.integers(1, 5, 20000)]  # fmt: skip
    t_parse = best_seconds(lambda: [parse_answer(a, "stop", ["data"], 1, 4) for a in answers], 3)
    t_json = best_seconds(lambda: [json.loads(a)["score"] for a in answers], 3)

    try:
        import openai

        oai = f", openai {openai.__version__}"
    except ImportError:
        oai = ", openai not installed"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# LLM grader benchmark",
        "",
        f"Peers: httpx {httpx.__version__}{oai}; load average during the run: {load} (2 cores).",
        "",
        f"`python bench/bench_llm.py --transcripts {args.transcripts} --latency {args.latency} "
        f"--concurrency {args.concurrency}`; synthetic sample transcripts, per-dimension mode, local scripted "
        "server (tests/graders/llm_server.py); best of "
        f"{args.repeats}; 2-core machine shared with other jobs, so absolute times are noisy.",
        "",
        "| client | server latency (s) | calls | wall time (s) | calls/s | ratio vs bare httpx | ratio vs best peer |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    best = {
        lat: min(t for name, la, _, t, _ in rows if la == lat and name.startswith("peer"))
        for _, lat, *_ in rows
    }
    for name, lat, n, t, ratio in rows:
        lines.append(
            f"| {name} | {lat:g} | {n} | {t:.3f} | {n / t:.0f} | {ratio:.2f} | {t / best[lat]:.2f} |"
        )
    lines += [
        "",
        "| parser | answers | time (s) | answers/s | ratio vs json.loads |",
        "| --- | --- | --- | --- | --- |",
        f"| calib parse_answer | {len(answers)} | {t_parse:.3f} | {len(answers) / t_parse:.0f} | {t_parse / t_json:.2f} |",
        f"| json.loads + key | {len(answers)} | {t_json:.3f} | {len(answers) / t_json:.0f} | 1.00 |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
