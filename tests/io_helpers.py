"""Shared test data builders for the io tests (canonical transcripts and rating rows)."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"
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


def transcript(tid: str, **over) -> dict:
    rec = {
        "transcript_id": tid,
        "question_id": "q-recsys",
        "question_type": "ml_system_design",
        "interviewed_at": "2026-03-02T10:00:00Z",
        "turns": [
            {
                "speaker": "interviewer",
                "text": "Design a recommendation system for an e-commerce platform.",
            },
            {
                "speaker": "candidate",
                "text": "Before picking a model: what are we optimising, conversion or clicks?",
            },
        ],
        "metadata": {"seniority": "senior", "cohort": "2026-Q1"},
    }
    rec.update(over)
    return rec


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


HEADER = "transcript_id,rater_id,rater_type,dimension,score,rubric_id,rubric_version,rated_at\n"


def rating_line(
    tid, rater, dim, score, version="1.0", rubric_id="ml_interview", rated_at="2026-03-03T09:00:00Z"
):
    return f"{tid},{rater},human,{dim},{score},{rubric_id},{version},{rated_at}\n"
