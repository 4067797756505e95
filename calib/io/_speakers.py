"""Speaker names -> roles (interviewer / candidate) for transcripts from real tools.

Transcription and meeting tools label turns with people's *names* ("Priya Shah"), sometimes
with a role ("INTERVIEWER (Marco Rossi)"), sometimes with a generic label ("SPEAKER_00").
calib's data model needs a role per turn. A role is decided for each speaker of a file, in
this order:

1. **Role in the label.** A label holding one role word (``interviewer``, ``candidate``,
   ``interviewee``, ``applicant``; any case) has that role: ``Interviewer``,
   ``INTERVIEWER (Marco Rossi)``, ``Sam Lee (candidate)``.
2. **A map.** ``--interviewers "Priya Shah,Marco Rossi"`` and/or ``--speaker-map FILE`` (CSV or
   YAML, name -> role). Names match ignoring case, accents' composition and repeated spaces.
3. **Completion.** When rules 1-2 gave the file an interviewer but no candidate, every other
   speaker is a candidate; when they gave a candidate but no interviewer, every other speaker
   is an interviewer.
4. **Heuristic** (no role known for any speaker of the file). Each speaker gets one point for
   each of: speaking the most words, having the lowest share of turns that ask a question
   (contain ``?``), and *not* opening the conversation. The speaker with the most points, at
   least 2 of 3 and strictly more than every other speaker, and whose share of question turns
   is strictly the lowest, is the candidate; everyone else is an interviewer. Otherwise (a tie, or a single speaker) the file is ambiguous and is
   quarantined with its speakers listed, so a map can be given.

Speaker names are kept on the turns (``name``); the inferred mapping is reported.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from calib.errors import ConfigError

__all__ = [
    "ROLE_WORDS",
    "SpeakerRoles",
    "load_speaker_map",
    "normalise_name",
    "role_from_label",
    "infer_roles",
]

#: words that name a role in a speaker label (lower case) -> role
ROLE_WORDS: dict[str, str] = {
    "interviewer": "interviewer",
    "interviewers": "interviewer",
    "candidate": "candidate",
    "interviewee": "candidate",
    "applicant": "candidate",
}
_GROUP_WORDS = {
    **ROLE_WORDS,
    "candidates": "candidate",
    "interviewees": "candidate",
    "applicants": "candidate",
}

_ROLE_RE = re.compile(r"\b(" + "|".join(ROLE_WORDS) + r")\b", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """Key used to match speaker names: NFC, case-folded, single spaces, no zero-width chars.

    Examples
    --------
    >>> normalise_name("  Priya   SHAH ")
    'priya shah'
    """
    text = unicodedata.normalize("NFC", str(name))
    text = re.sub(r"[\u200b-\u200d\ufeff]", "", text)
    return " ".join(text.split()).casefold()


def role_from_label(label: str) -> tuple[str | None, str]:
    """Role named in a speaker label (if exactly one role word) and the person's name.

    The name is empty when the label is only a role (``Interviewer``).

    Examples
    --------
    >>> role_from_label("INTERVIEWER (Marco Rossi)")
    ('interviewer', 'Marco Rossi')
    >>> role_from_label("Priya Shah")
    (None, 'Priya Shah')
    >>> role_from_label("Candidate")
    ('candidate', '')
    """
    label = " ".join(str(label).split())
    found = {ROLE_WORDS[m.lower()] for m in _ROLE_RE.findall(label)}
    if len(found) != 1:
        return None, label
    role = found.pop()
    rest = _ROLE_RE.sub(" ", label)
    rest = re.sub(r"[()\[\]{}<>]", " ", rest)
    rest = " ".join(rest.split()).strip(" -–—:,;|/")
    return role, rest


@dataclass
class SpeakerRoles:
    """Known name -> role assignments (from ``--interviewers`` and ``--speaker-map``)."""

    roles: dict[str, str] = field(default_factory=dict)
    #: speaker names known to be names (normalised) though their role is not known
    names: set[str] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        interviewers: str | Iterable[str] | None = None,
        speaker_map: str | os.PathLike | Mapping[str, str] | None = None,
    ) -> SpeakerRoles:
        """Combine a comma-separated interviewer list and a map (file or mapping)."""
        roles: dict[str, str] = {}
        if speaker_map is not None:
            mapping = (
                speaker_map if isinstance(speaker_map, Mapping) else load_speaker_map(speaker_map)
            )
            for name, role in mapping.items():
                roles[normalise_name(name)] = _check_role(role, f"speaker map entry {name!r}")
        if interviewers:
            names = interviewers.split(",") if isinstance(interviewers, str) else interviewers
            for name in names:
                if str(name).strip():
                    roles[normalise_name(name)] = "interviewer"
        return cls(roles)

    def __bool__(self) -> bool:
        return bool(self.roles)

    def get(self, name: str) -> str | None:
        return self.roles.get(normalise_name(name))


def _check_role(role: object, where: str) -> str:
    text = str(role).strip().lower()
    if text in ROLE_WORDS:
        return ROLE_WORDS[text]
    raise ConfigError(f"{where}: role must be interviewer or candidate (any case), got {role!r}")


def load_speaker_map(path: str | os.PathLike) -> dict[str, str]:
    """Read a speaker map: CSV (``name,role`` with or without a header) or YAML.

    YAML may be a mapping ``name: role`` or ``{interviewers: [...], candidates: [...]}``.

    Examples
    --------
    >>> load_speaker_map("speakers.csv")  # doctest: +SKIP
    {'Priya Shah': 'interviewer', 'Sam Lee': 'candidate'}
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: speaker map not found")
    text = p.read_text(encoding="utf-8-sig")
    out: dict[str, str] = {}
    if p.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        from calib._yaml import load_yaml  # safe loader with an alias-expansion limit

        try:
            doc = load_yaml(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML ({exc})") from exc
        if not isinstance(doc, dict):
            raise ConfigError(f"{p}: expected a mapping of name: role")
        for key, value in doc.items():
            group = _GROUP_WORDS.get(str(key).strip().lower())
            if isinstance(value, list) and group:
                for name in value:
                    out[str(name)] = group
            elif isinstance(value, str):
                out[str(key)] = _check_role(value, f"{p}: {key}")
            else:
                raise ConfigError(f"{p}: {key}: expected a role (interviewer/candidate)")
        return out
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = [
        r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if rows and rows[0] and rows[0][-1].strip().lower() == "role":
        rows = rows[1:]
    for i, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise ConfigError(f"{p}: row {i}: expected name and role, got {row!r}")
        out[row[0].strip()] = _check_role(row[1], f"{p}: row {i}")
    return out


@dataclass
class RoleDecision:
    """Roles for one file's speakers, how they were decided, or why they could not be."""

    roles: dict[str, str]  # speaker label -> role
    method: str  # "labels", "map", "heuristic"
    problem: str | None = None


def _stats(turns: list[dict]) -> dict[str, dict]:
    stats: dict[str, dict] = {}
    for i, t in enumerate(turns):
        s = stats.setdefault(t["label"], {"turns": 0, "words": 0, "questions": 0, "first": i})
        s["turns"] += 1
        s["words"] += len(str(t["text"]).split())
        s["questions"] += "?" in str(t["text"])
    return stats


def _describe(stats: Mapping[str, dict]) -> str:
    return "; ".join(
        f"{name!r}: {s['turns']} turns, {s['words']} words, {s['questions']} with a question"
        for name, s in stats.items()
    )


def infer_roles(turns: list[dict], known: SpeakerRoles | None = None) -> RoleDecision:
    """Decide a role for each speaker label of one transcript (rules in the module docstring).

    Parameters
    ----------
    turns : list of dict
        Turns in order with ``label`` (the speaker as written) and ``text``.
    known : SpeakerRoles, optional
        Names with a known role.

    Returns
    -------
    RoleDecision
        ``roles`` maps every label to a role, or ``problem`` says why it could not.

    Examples
    --------
    >>> d = infer_roles([
    ...     {"label": "Priya", "text": "Hi! How would you design a feed ranker?"},
    ...     {"label": "Sam", "text": "I would start from the objective and the data we have."},
    ...     {"label": "Priya", "text": "What metric?"},
    ...     {"label": "Sam", "text": "Long-term engagement, measured by seven-day retention."}])
    >>> d.roles, d.method
    ({'Priya': 'interviewer', 'Sam': 'candidate'}, 'heuristic')
    """
    known = known or SpeakerRoles()
    labels = list(dict.fromkeys(t["label"] for t in turns))
    roles: dict[str, str] = {}
    method = "labels"
    for label in labels:
        role, name = role_from_label(label)
        if role is None:
            role = known.get(label) or known.get(name)
            if role is not None:
                method = "map"
        if role is not None:
            roles[label] = role
    rest = [lab for lab in labels if lab not in roles]
    if not rest:
        return RoleDecision(roles, method)
    given = set(roles.values())
    if given == {"interviewer"}:
        roles.update(dict.fromkeys(rest, "candidate"))
        return RoleDecision(roles, method)
    if given == {"candidate"}:
        roles.update(dict.fromkeys(rest, "interviewer"))
        return RoleDecision(roles, method)
    stats = _stats(turns)
    if given:  # both roles known, yet more speakers: cannot place them
        return RoleDecision(
            roles,
            method,
            f"speaker(s) {', '.join(map(repr, rest))} have no role (not in --interviewers or "
            f"--speaker-map) while the file already has both roles; speakers: {_describe(stats)}",
        )
    if len(labels) < 2:
        return RoleDecision(
            {},
            "heuristic",
            f"only one speaker ({_describe(stats)}): cannot tell the interviewer from the "
            "candidate; give --interviewers or --speaker-map",
        )
    most_words = max(s["words"] for s in stats.values())
    rates = {lab: s["questions"] / s["turns"] for lab, s in stats.items()}
    low_rate = min(rates.values())
    points = {
        lab: (s["words"] == most_words)
        + (rates[lab] == low_rate and len(set(rates.values())) > 1)
        + (s["first"] != 0)
        for lab, s in stats.items()
    }
    best = max(points.values())
    top = [lab for lab, p in points.items() if p == best]
    lowest = [lab for lab, r in rates.items() if r == low_rate]
    # the candidate must ask questions least often (uniquely) and win one more signal
    if best < 2 or len(top) != 1 or lowest != top:
        return RoleDecision(
            {},
            "heuristic",
            "ambiguous speakers: cannot tell the interviewer from the candidate (speakers: "
            f"{_describe(stats)}); give --interviewers or --speaker-map",
        )
    candidate = top[0]
    return RoleDecision(
        {lab: ("candidate" if lab == candidate else "interviewer") for lab in labels},
        "heuristic",
    )
