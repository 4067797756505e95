"""Build the held-out set's dev/test files from the hand-written sources in ``src/``.

Run from the repository root: ``python datasets/heldout/build.py``. Deterministic: the same
sources give byte-identical outputs. The split rule (fixed, documented in README.md): within
each wording style, transcripts in id order alternate dev, test, dev, test, ...
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DIMS = [
    "problem_framing",
    "structure",
    "data",
    "modeling",
    "evaluation",
    "tradeoffs",
    "communication",
    "adaptability",
]
SPEAKER = {"I": "interviewer", "C": "candidate"}


def load() -> list[dict]:
    items = []
    for path in sorted((HERE / "src").glob("*.yaml")):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    ids = [t["id"] for t in items]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate transcript id in src/")
    return sorted(items, key=lambda t: t["id"])


def split(items: list[dict]) -> dict[str, str]:
    out, seen = {}, {}
    for t in items:
        k = seen.get(t["style"], 0)
        out[t["id"]] = "dev" if k % 2 == 0 else "test"
        seen[t["style"]] = k + 1
    return out


def main() -> None:
    items = load()
    which = split(items)
    for part in ("dev", "test"):
        rows = [t for t in items if which[t["id"]] == part]
        (HERE / part).mkdir(exist_ok=True)
        with open(HERE / part / "transcripts.jsonl", "w", encoding="utf-8", newline="\n") as fh:
            for i, t in enumerate(rows):
                turns, clock = [], 0.0
                for speaker, text in t["turns"]:
                    turns.append({"speaker": SPEAKER[speaker], "text": text, "start_s": round(clock, 1)})
                    clock += len(text.split()) / 2.5 + 1.5
                rec = {
                    "transcript_id": t["id"],
                    "question_id": t["question_id"],
                    "question_type": t["question_type"],
                    "interviewed_at": f"2026-11-{10 + i // 4:02d}T{9 + i % 4 * 2:02d}:00:00Z",
                    "turns": turns,
                    "metadata": {
                        "style": t["style"],
                        "followup": t["followup"],
                        "candidate_question": bool(t.get("candidate_question", False)),
                        "split": part,
                        "handwritten": True,
                        "synthetic": False,
                    },
                }
                fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
        with open(HERE / part / "ratings.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["transcript_id", "rater_id", "rater_type", "dimension", "score",
                        "rubric_id", "rubric_version", "rated_at"])
            for t in rows:
                if len(t["scores"]) != len(DIMS):
                    raise SystemExit(f"{t['id']}: expected {len(DIMS)} scores")
                for d, s in zip(DIMS, t["scores"]):
                    if s is None:
                        continue
                    w.writerow([t["id"], "expert", "human", d, int(s), "ml_interview", "1.0",
                                "2026-12-06T00:00:00Z"])
    n = {p: sum(v == p for v in which.values()) for p in ("dev", "test")}
    print(f"{len(items)} transcripts: dev {n['dev']}, test {n['test']}")


if __name__ == "__main__":
    main()
