"""Interviewer calibration training: reference sets, scoring packets, accuracy, certification.

The frame-of-reference training loop: pick reference transcripts with reference scores
(:func:`build_reference_set`), give interviewers a blind scoring packet, measure each
interviewer's accuracy against the reference (Cronbach's 1955 components, agreement, bias per
dimension), certify those within tolerance, and follow progress over rounds.
See ``docs/training.md``.

Examples
--------
>>> from calib.io import read_ratings, read_store_rubric, read_transcripts  # doctest: +SKIP
>>> from calib.training import build_reference_set, write_reference_set  # doctest: +SKIP
>>> rs = build_reference_set(read_ratings("store"), read_transcripts("store"),
...                          read_store_rubric("store"), n=8, experts=["r07", "r08"])  # doctest: +SKIP
>>> write_reference_set(rs, "set/")  # doctest: +SKIP
"""

from calib.training._accuracy import (
    AccuracyResult,
    accuracy_against_reference,
    bias_by_dimension,
    deviation_cells,
)
from calib.training._cronbach import CronbachComponents, cronbach_components
from calib.training._gate import Gate, certify, load_gate
from calib.training._packet import PACKET_CSV_COLUMNS, render_packet, write_packet
from calib.training._progress import RoundResult, compare_rounds
from calib.training._reference import ReferenceSet, build_reference_set
from calib.training._report import (
    TrainingReport,
    build_training_report,
    write_training_report,
)
from calib.training._session import SessionSheet, session_sheet
from calib.training._set_io import read_reference_set, write_reference_set
from calib.training._simulate import simulate_round

__all__ = [
    "AccuracyResult",
    "CronbachComponents",
    "Gate",
    "PACKET_CSV_COLUMNS",
    "ReferenceSet",
    "RoundResult",
    "SessionSheet",
    "TrainingReport",
    "accuracy_against_reference",
    "bias_by_dimension",
    "build_reference_set",
    "build_training_report",
    "certify",
    "compare_rounds",
    "cronbach_components",
    "deviation_cells",
    "load_gate",
    "read_reference_set",
    "render_packet",
    "session_sheet",
    "simulate_round",
    "write_packet",
    "write_reference_set",
    "write_training_report",
]
