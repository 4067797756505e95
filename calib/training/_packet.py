"""The scoring packet: one offline HTML page an interviewer scores a round on, plus a CSV template.

The page is self-contained (inline CSS and one inline script allowed by its hash in a
Content-Security-Policy that forbids every fetch), escapes all transcript and rubric text
(jinja2 autoescape; the page's data travels as JSON in a non-executed script element, with
``<``, ``>`` and ``&`` escaped by jinja2's ``tojson``), saves progress in the browser's
``localStorage`` and downloads the interviewer's scores as a CSV in the long ratings layout
``calib ingest --ratings`` reads as is. It is blind: it is built from the transcripts and ids of
the set only, never from the reference scores.
"""

from __future__ import annotations

import base64
import hashlib
import os
from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd

from calib.errors import ConfigError
from calib.rubric import Rubric
from calib.training._escape import md, write_csv
from calib.training._reference import ReferenceSet

__all__ = ["write_packet", "PACKET_CSV_COLUMNS", "packet_storage_key"]

#: Columns of the CSV the page downloads (the canonical long ratings layout + rationale, run_id).
PACKET_CSV_COLUMNS = (
    "transcript_id",
    "rater_id",
    "rater_type",
    "dimension",
    "score",
    "rubric_id",
    "rubric_version",
    "rated_at",
    "rationale",
    "run_id",
)


def _template_text(name: str) -> str:
    return resources.files("calib.training").joinpath("templates", name).read_text("utf-8")


def packet_storage_key(reference_set: ReferenceSet, rubric: Rubric) -> str:
    """``localStorage`` key of a packet: one per set and rubric, so rounds never mix."""
    return f"calib-packet:{reference_set.set_id}:{rubric.content_hash[:12]}"


def check_rubric(reference_set: ReferenceSet, rubric: Rubric) -> None:
    """Refuse a rubric other than the one the set's reference scores were given on."""
    if (rubric.id, rubric.version) != (reference_set.rubric_id, reference_set.rubric_version):
        raise ConfigError(
            f"rubric {rubric.source_path or rubric.id}: {rubric.id} v{rubric.version} is not the "
            f"set's rubric ({reference_set.rubric_id} v{reference_set.rubric_version})"
        )
    if reference_set.rubric_hash and rubric.content_hash != reference_set.rubric_hash:
        raise ConfigError(
            f"rubric {rubric.source_path or rubric.id}: same id and version as the set's rubric but "
            f"different content (hash {rubric.content_hash[:12]} vs "
            f"{reference_set.rubric_hash[:12]}); use the rubric the store was validated against"
        )


def _transcript_view(row: pd.Series) -> dict:
    turns = [
        {"speaker": str(t.get("speaker", "")), "text": str(t.get("text", ""))} for t in row["turns"]
    ]
    return {
        "transcript_id": str(row["transcript_id"]),
        "question_id": str(row.get("question_id", "")),
        "question_type": str(row.get("question_type", "")),
        "turns": turns,
    }


def render_packet(reference_set: ReferenceSet, rubric: Rubric) -> str:
    """The packet page as a string (see :func:`write_packet`)."""
    check_rubric(reference_set, rubric)
    # only these two fields of the set are used: ids/order and the transcripts (blind by design)
    ids = reference_set.transcript_ids
    tr = reference_set.transcripts.set_index(reference_set.transcripts["transcript_id"].astype(str))
    transcripts = [_transcript_view(tr.loc[t]) for t in ids]
    synthetic = any(
        isinstance(m, dict) and m.get("synthetic") for m in tr.get("metadata", pd.Series([]))
    )
    script = _template_text("packet.js")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    data = {
        "set_id": reference_set.set_id,
        "run_id": f"training:{reference_set.set_id}",
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "transcripts": ids,
        "dimensions": list(rubric.dimension_ids),
        "storage_key": packet_storage_key(reference_set, rubric),
    }
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    template = env.from_string(_template_text("packet.html.j2"))
    return template.render(
        rubric=rubric,
        set_id=reference_set.set_id,
        transcripts=transcripts,
        data=data,
        script=script,
        script_hash=script_hash,
        synthetic=synthetic,
    )


def template_frame(reference_set: ReferenceSet, rubric: Rubric) -> pd.DataFrame:
    """The fallback CSV: one row per transcript, one blank column per dimension (wide layout)."""
    df = pd.DataFrame(
        {
            "transcript_id": reference_set.transcript_ids,
            "rater_id": "",
            "rater_type": "human",
            "rubric_id": rubric.id,
            "rubric_version": rubric.version,
            "run_id": f"training:{reference_set.set_id}",
        }
    )
    for d in rubric.dimension_ids:
        df[d] = ""
    return df


def write_packet(reference_set: ReferenceSet, rubric: Rubric, out: str | os.PathLike) -> Path:
    """Write the scoring packet of a round into folder ``out``; return the page's path.

    Writes ``packet.html`` (the page), ``scores_template.csv`` (fallback: wide layout, one row
    per transcript; fill ``rater_id`` and a level per dimension) and ``README.md``.

    Parameters
    ----------
    reference_set : ReferenceSet
        Only its transcript ids and transcripts are used: the packet is blind.
    rubric : Rubric
        Must be the set's rubric (same id, version and content hash).
    out : path
        Output folder (created).

    Returns
    -------
    Path
        ``out/packet.html``.

    Raises
    ------
    ConfigError
        The rubric is not the set's rubric.

    Examples
    --------
    >>> write_packet(read_reference_set("set/"), load_rubric("rubric.yaml"), "packet/")  # doctest: +SKIP
    PosixPath('packet/packet.html')
    """
    page = render_packet(reference_set, rubric)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "packet.html"
    path.write_text(page, encoding="utf-8")
    write_csv(template_frame(reference_set, rubric), out / "scores_template.csv")
    (out / "README.md").write_text(_readme(reference_set, rubric), encoding="utf-8")
    return path


def _readme(rs: ReferenceSet, rubric: Rubric) -> str:
    return "\n".join(
        [
            f"# Scoring packet {md(rs.set_id)}",
            "",
            f"{len(rs.transcript_ids)} transcripts to score on every dimension of "
            f"{md(rubric.title)} ({md(rubric.id)} v{md(rubric.version)}).",
            "",
            "1. Open `packet.html` in a browser (it works offline; nothing is sent anywhere).",
            "2. Enter your interviewer id once, at the top.",
            "3. Score every transcript on every dimension; add a rationale where you can.",
            "   Progress is saved in this browser as you go: reopen the file to continue.",
            "4. Click **Download my scores (CSV)** and send the file to your programme lead.",
            "",
            "If the page does not work for you, fill in `scores_template.csv` instead: your id in",
            "`rater_id` on every row and one level per dimension column; leave the other columns.",
            "",
        ]
    )
