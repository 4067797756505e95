"""Vectorised evaluation of compiled signal rules over a turns table.

Every rule runs once over *all* turns with pyarrow's RE2 kernels (no Python loop over
transcripts or turns); Python only touches the few turns that produced evidence.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calib.graders.rules._reasoning import (
    _JARGON_RX,
    _MARKER_RX,
    BARE_CREDIT,
    HEDGE_CREDIT,
    NUMBER_RX,
    negated_regex,
    split_units,
    unit_features,
)
from calib.graders.rules._schema import DimensionSignals, Matcher, Rule

__all__ = ["evaluate_dimension", "EVIDENCE_COLUMNS"]

EVIDENCE_COLUMNS = [
    "transcript_id",
    "dimension",
    "signal",
    "weight",
    "span_text",
    "turn_index",
    "start",
    "end",
    "count",
]

# Words too common to show that an answer picked up the interviewer's constraint.
_STOPWORDS = pd.Index(
    """the and for that this with what would you your have has had are was were will can could
    should about into from then than them they their there these those which when where while
    how why who its it's our out not but all any also just like some more most much very been
    being does did doing let's lets okay yeah well sure think going want need make use using
    say said now let how's what's that's thing things way really get got one two
    change changes changed changing handle handles affect affects approach design differently
    still case anything something""".split()
)
_TOKEN_RE = r"[a-z0-9]+"


class _Texts:
    """Unit texts (candidate sentences, whole interviewer turns) as pyarrow arrays, sliced
    once per speaker, with the per-unit reasoning features and the whole turns.
    """

    def __init__(self, turns: pd.DataFrame):
        self.whole = turns
        units = split_units(turns)
        self.turns = units
        self.feats = unit_features(units)
        self.all = pa.array(units["text"].to_numpy(dtype=object), pa.string())
        self._rows: dict[str, np.ndarray] = {}
        self._arr: dict[str, pa.Array] = {}

    def rows(self, speaker: str) -> np.ndarray:
        if speaker not in self._rows:
            if speaker == "any":
                self._rows[speaker] = np.arange(len(self.turns))
            else:
                self._rows[speaker] = np.flatnonzero(self.turns["speaker"].to_numpy() == speaker)
        return self._rows[speaker]

    def arr(self, speaker: str) -> pa.Array:
        if speaker not in self._arr:
            self._arr[speaker] = self.all.take(pa.array(self.rows(speaker)))
        return self._arr[speaker]


def _count(arr: pa.Array, m: Matcher) -> np.ndarray:
    return pc.count_substring_regex(arr, m.regex).to_numpy(zero_copy_only=False).astype(np.int64)


def _spans(texts: _Texts, rows: np.ndarray, m: Matcher) -> pd.DataFrame:
    """First match of ``m`` in each given turn row: span text and character offsets."""
    if len(rows) == 0:
        return pd.DataFrame({"row": rows, "span_text": [], "start": [], "end": []})
    arr = texts.all.take(pa.array(rows))
    body = m.regex[4:] if m.regex.startswith("(?i)") else m.regex
    matched = pc.struct_field(pc.extract_regex(arr, f"(?i)(?P<m>{body})"), [0])
    found = matched.to_numpy(zero_copy_only=False)
    start = pc.find_substring_regex(arr, m.regex).to_numpy(zero_copy_only=False).astype(np.int64)
    # RE2 reports byte offsets; they equal character offsets for ASCII text. Convert the
    # (rare) non-ASCII rows in Python.
    ascii_ = pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)
    if not ascii_.all():
        texts_np = arr.to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(~ascii_ & (start >= 0)):
            start[i] = len(texts_np[i].encode("utf-8")[: start[i]].decode("utf-8", "ignore"))
    lengths = pc.fill_null(pc.utf8_length(matched), 0)
    lengths = lengths.to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.DataFrame({"row": rows, "span_text": found, "start": start, "end": start + lengths})


def _evidence(
    texts: _Texts,
    rows: np.ndarray,
    counts: np.ndarray,
    m: Matcher,
    dim: str,
    signal: str,
    weight: float,
) -> pd.DataFrame:
    spans = _spans(texts, rows, m)
    t = texts.turns
    off = t["offset"].to_numpy()[rows]
    found = spans["start"].to_numpy() >= 0
    spans["start"] = np.where(found, spans["start"].to_numpy() + off, spans["start"].to_numpy())
    spans["end"] = np.where(found, spans["end"].to_numpy() + off, spans["end"].to_numpy())
    return pd.DataFrame(
        {
            "pos": t["pos"].to_numpy()[rows],
            "transcript_id": t["transcript_id"].to_numpy()[rows],
            "dimension": dim,
            "signal": signal,
            "weight": float(weight),
            "span_text": spans["span_text"].to_numpy(),
            "turn_index": t["turn_index"].to_numpy()[rows],
            "start": spans["start"].to_numpy(),
            "end": spans["end"].to_numpy(),
            "count": counts,
        }
    )


def _body(m: Matcher) -> str:
    return m.regex[4:] if m.regex.startswith("(?i)") else m.regex


def _phrases(rule: Rule, texts: _Texts, n: int, words: np.ndarray, dim: str):
    rows = texts.rows(rule.speaker)
    arr = texts.arr(rule.speaker)
    counts = _count(arr, rule.match)
    if rule.negation == "drop" and counts.any():
        neg = pc.count_substring_regex(arr, negated_regex(_body(rule.match)))
        counts = np.maximum(counts - neg.to_numpy(zero_copy_only=False).astype(np.int64), 0)
    credit = counts.astype(float)
    if rule.evidence != "any":
        # one unit is one piece of evidence: a list of five metric names in one sentence
        # counts once, not five times
        credit = np.minimum(credit, 1.0)
        q = texts.feats["qualified"].to_numpy()[rows]
        if rule.evidence == "reasoned":
            credit = credit * np.where(q, 1.0, BARE_CREDIT)
            if rule.weight > 0:
                credit = credit * np.where(texts.feats["hedged"].to_numpy()[rows], HEDGE_CREDIT, 1)
        else:  # bare: only matches in units without a reason, consequence, comparison, number
            credit = credit * ~q
    pos = texts.turns["pos"].to_numpy()[rows]
    if rule.evidence == "reasoned":
        # bare mentions together earn at most one BARE_CREDIT per transcript: repeating a
        # keyword without a reason ten times is still a bare keyword
        q = texts.feats["qualified"].to_numpy()[rows]
        argued = np.bincount(pos, weights=np.where(q, credit, 0.0), minlength=n)
        bare = np.bincount(pos, weights=np.where(q, 0.0, credit), minlength=n)
        total = argued + np.minimum(bare, BARE_CREDIT)
    else:
        total = np.bincount(pos, weights=credit, minlength=n)
    if rule.count == "presence":
        value = np.minimum(total, 1.0)
    elif rule.count == "capped":
        value = np.minimum(total, rule.cap) / rule.cap
    else:  # per_100_words: density, so long answers do not win by length alone
        value = np.minimum(100.0 * total / np.maximum(words, 1.0), rule.cap) / rule.cap
    hit = credit > 0
    ev = _evidence(texts, rows[hit], counts[hit], rule.match, dim, rule.id, rule.weight)
    return value, ev


def _reasoning_rule(rule: Rule, texts: _Texts, n: int, words: np.ndarray, dim: str):
    """Structure measures over candidate units (no phrase list of their own)."""
    rows = texts.rows("candidate")
    f = texts.feats.iloc[rows]
    q = f["qualified"].to_numpy()
    if rule.measure == "bare_jargon":
        per_unit = f["jargon"].to_numpy() * ~q
        rx = _JARGON_RX
    elif rule.measure == "reasoned_units":
        per_unit = (q & ~f["hedged"].to_numpy()).astype(np.int64)
        rx = _MARKER_RX
    elif rule.measure == "quantified_units":
        per_unit = (f["numbers"].to_numpy() > 0).astype(np.int64)
        rx = NUMBER_RX
    elif rule.measure == "early_question":
        # a question in the candidate's own first turn
        first_turn = texts.turns["turn_index"].to_numpy()[rows]
        first = pd.Series(first_turn).groupby(texts.turns["pos"].to_numpy()[rows]).transform("min")
        is_first = first_turn == first.to_numpy()
        asks = pc.match_substring(texts.arr("candidate"), "?").to_numpy(zero_copy_only=False)
        per_unit = (is_first & asks).astype(np.int64)
        rx = r"[^?]*\?"
    else:  # comparisons
        per_unit = (f["markers"].to_numpy() > 0).astype(np.int64)
        rx = _MARKER_RX
    pos = texts.turns["pos"].to_numpy()[rows]
    total = np.bincount(pos, weights=per_unit, minlength=n)
    if rule.measure == "early_question":
        total = np.minimum(total, 1.0)
    if rule.count == "per_100_words":
        total = 100.0 * total / np.maximum(words, 1.0)
    value = np.clip(total - rule.free, 0.0, rule.cap) / rule.cap
    hit = per_unit > 0
    m = Matcher((), (), rx, re.compile(rx))
    ev = _evidence(texts, rows[hit], per_unit[hit].astype(np.int64), m, dim, rule.id, rule.weight)
    return value, ev


def _first_key(texts: _Texts, m: Matcher, n: int):
    """Position (turn_index, byte offset) of the first candidate match per transcript."""
    rows = texts.rows("candidate")
    off = pc.find_substring_regex(texts.arr("candidate"), m.regex).to_numpy(zero_copy_only=False)
    ok = off >= 0
    t = texts.turns
    off = off + t["offset"].to_numpy()[rows]
    key = t["turn_index"].to_numpy()[rows][ok].astype(np.float64) * 1e9 + off[ok]
    first = np.full(n, np.inf)
    np.minimum.at(first, t["pos"].to_numpy()[rows][ok], key)
    # the row of that first match, for the evidence
    best = pd.DataFrame({"pos": t["pos"].to_numpy()[rows][ok], "key": key, "row": rows[ok]})
    best = best.sort_values(["pos", "key"], kind="stable").drop_duplicates("pos")
    return first, best["row"].to_numpy()


def _before(rule: Rule, texts: _Texts, n: int, dim: str):
    first_a, rows_a = _first_key(texts, rule.first, n)
    first_b, rows_b = _first_key(texts, rule.then, n)
    value = (np.isfinite(first_a) & (first_a < first_b)).astype(float)
    ev_a = _evidence(
        texts,
        rows_a,
        np.ones(len(rows_a), np.int64),
        rule.first,
        dim,
        f"{rule.id}.first",
        rule.weight,
    )
    ev_b = _evidence(
        texts,
        rows_b,
        np.ones(len(rows_b), np.int64),
        rule.then,
        dim,
        f"{rule.id}.then",
        rule.weight,
    )
    return value, pd.concat([ev_a, ev_b], ignore_index=True)


def _tokens(arr: pa.Array, pair: np.ndarray) -> pd.DataFrame:
    split = pc.split_pattern_regex(pc.utf8_lower(arr), r"[^a-z0-9]+")
    flat = pc.list_flatten(split).to_numpy(zero_copy_only=False)
    parent = pc.list_parent_indices(split).to_numpy(zero_copy_only=False)
    tok = pd.DataFrame({"pair": pair[parent], "token": flat})
    keep = (tok["token"].str.len() >= 3) & ~tok["token"].isin(_STOPWORDS)
    return tok[keep].drop_duplicates()


def _any(arr: pa.Array, m: Matcher | None) -> np.ndarray:
    """Whether each text matches ``m`` (all False for an absent or empty matcher)."""
    if m is None or not (m.phrases or m.patterns) or len(arr) == 0:
        return np.zeros(len(arr), bool)
    return _count(arr, m) > 0


# --- follow-ups: structure, not trigger words alone -------------------------------------
# New information stated as a fact ("The stores only get deliveries every three days") or a
# stakeholder rule ("Legal doesn't want ...") changes the problem as much as a "what if".
_CHANGE_RX = re.compile(
    r"(?i)\b(?:now|new|next (?:month|quarter|year|week)|this year|only|no longer|anymore|"
    r"instead|going to|half|a third|percent|per cent|doubl\w*|tripl\w*|complain\w*|says|"
    r"said|wants?|decided|policy|requires?|has to|have to|must|can't|cannot|not allowed|"
    r"turns out|actually|started|starting|stopped|launch\w*|moves? to|expand\w*|"
    r"went up|went down|dropped|doesn't want|don't want|won't|cut)\b"
)
_ACK_RX = re.compile(
    r"(?i)^\s*(?:ok(?:ay)?|sure|yes|yeah|right|good|great|thanks|thank you|cool|agreed|"
    r"exactly|correct|that's right|that's good|that's fair|fair enough|mm+|hm+)\b[\s,.!]*"
)
# A question that checks in ("does that work?", "shall I go on?") invites the interviewer
# to steer; any other question asks for information, and the reply is an answer.
_CHECK_IN_RX = re.compile(
    r"(?i)\b(?:does that (?:make sense|work|sound)|does this (?:make sense|work)|"
    r"should i|shall i|do you want me|want me to|would you like|go deeper|"
    r"is that (?:ok|okay|fine|alright)|any part|level of detail|go on|continue)\b"
)
_REQUEST_RX = re.compile(
    r"(?i)\?|\b(?:walk me through|take me through|talk me through|tell me|show me|"
    r"explain|describe)\b"
)
# The candidate changes the design: a subject + action verb, or an imperative action.
_ACTION_VERBS = (
    r"add|adds|drop|switch|move|moves|replace|cap|limit|precompute|pre-compute|cache|split|"
    r"route|send|forecast|widen|re-?fit|retrain|re-run|rerun|re-train|evaluate|measure|"
    r"lean|fall back|shift|stop|raise|lower|reduce|increase|mark|flag|put|set|train|build|"
    r"weight|give|collect|download|distil\w*|log|show|treat|filter|block|boost|remove|"
    r"swap|run|predict|estimate|compute|store|embed|rank|sample|hold back|tell|compare|"
    r"separate|require|require|page|make|introduce|restrict|prioriti[sz]e|trigger|"
    r"detect|exclude|include|leave|count|check|use|keep \w+ (?:but|and then)|delay|"
    r"expect|model|re-?weight|fine-?tune|cut|ask|watch|monitor|mine|pick|choose|"
    r"re-?label|label|upload|serve|push|publish|update|recompute|rebuild|redesign"
)
_ACTION_RX = re.compile(
    rf"(?i)(?:\b(?:i'd|i would|i will|i'll|we'd|we would|we will|we'll|we could|i could|"
    rf"we can|i can|i'm going to|let's|we need to|we'd need to|we have to|i need to|i|we|"
    rf"then i|so i|you'd|you would)\s+(?:\w+\s+){{0,2}}?(?:{_ACTION_VERBS})\b)|"
    rf"(?:^\W*(?:\w+,?\s+){{0,2}}?(?:{_ACTION_VERBS})\b)"
)
_HEDGE_ONLY_RX = re.compile(r"(?i)\b(?:maybe|perhaps|i guess|i suppose|not sure|i think)\b")
_CONTENT_RX = re.compile(r"[a-z][a-z'-]{3,}")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _CONTENT_RX.findall(text.lower())} - _STOP5


_STOP5 = {w[:5] for w in _STOPWORDS} | {
    w[:5]
    for w in """that this there then than with would could should about which their them
    they what when where your have will just like really okay yeah also because some more
    much very well sure think know make made maybe probably actually basically""".split()
}


def _is_followup(rule: Rule, text: str, prev_candidate: str) -> bool:
    """Does an interviewer turn (after the candidate has spoken) change the problem?"""
    if rule.unless is not None and (rule.unless.phrases or rule.unless.patterns):
        if rule.unless.py.search(text):
            return False
    # an answer to the candidate's own information question is not a follow-up, unless the
    # interviewer goes on to ask for something
    tail = " ".join(re.split(r"(?<=[.!?])\s+", prev_candidate.strip())[-2:])
    if "?" in tail and not _CHECK_IN_RX.search(tail):
        rest = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)
        after = rest[1] if len(rest) > 1 else ""
        if not _REQUEST_RX.search(after) and "?" not in rest[0]:
            return False
    if rule.trigger.py.search(text):
        return True
    for sent in re.split(r"(?<=[.!?])\s+", text.strip()):
        body = _ACK_RX.sub("", sent).strip()
        if body.endswith("?") or len(body.split()) < 4:
            continue
        if _CHANGE_RX.search(body):
            return True
    return False


def _response_credit(rule: Rule, followup: str, response: str, earlier: str):
    """Credit for the candidate turn after a follow-up, and the span that decided it.

    1 for two or more changes to the design that bring content not already in the
    follow-up or the earlier answer, 0.6 for one; halved when every change is hedged;
    at most 0.5 when it matches ``partial``; at most 0.25 when it matches ``deflection``;
    0 without any change, however many of the follow-up's words it repeats.
    """
    units = [u for u in re.split(r"(?<=[.!?;])\s+|,\s+(?:and|so|but|then)\s+", response) if u]
    known = _stems(followup) | _stems(earlier)
    n_actions, hedged, span = 0, 0, None
    for u in units:
        m = _ACTION_RX.search(u)
        if not m:
            continue
        if m.group(0).lower() in followup.lower():
            continue  # the follow-up's own words ("... we can show the customer")
        new = _stems(u) - known
        if len(new) < 2:
            continue  # restates the follow-up or the earlier design
        jargon = len(re.findall(_JARGON_RX, u))
        marks = len(re.findall(_MARKER_RX, u))
        if jargon >= 3 and 4 * marks < jargon:
            continue  # a list of buzzwords, not a change
        n_actions += 1
        hedged += bool(_HEDGE_ONLY_RX.search(u))
        if span is None:
            span = m.group(0)
    if n_actions == 0:
        credit, why = 0.0, "ignored"
    else:
        credit, why = (1.0 if n_actions >= 2 else 0.6), "addressed"
        if hedged == n_actions:
            credit *= 0.5
    if rule.partial is not None and (rule.partial.phrases or rule.partial.patterns):
        pm = rule.partial.py.search(response)
        if pm and credit > 0:
            credit, why, span = min(credit, 0.5), "partial", pm.group(0)
    if rule.deflection is not None and (rule.deflection.phrases or rule.deflection.patterns):
        dm = rule.deflection.py.search(response)
        if dm and credit > 0.25 and n_actions < 2:
            credit, why, span = min(credit, 0.25), "deflected", dm.group(0)
        elif dm and n_actions == 0:
            why, span = "deflected", dm.group(0)
    return credit, why, span


def _followup(rule: Rule, texts: _Texts, n: int, dim: str):
    t = texts.whole
    pos = t["pos"].to_numpy()
    spk = t["speaker"].to_numpy()
    txt = t["text"].to_numpy(dtype=object)
    tid = t["transcript_id"].to_numpy()
    tix = t["turn_index"].to_numpy()
    n_trig = np.zeros(n, np.int64)
    credit_sum = np.zeros(n)
    ev_rows = []
    i = 0
    while i < len(t):
        j = i
        while j < len(t) and pos[j] == pos[i]:
            j += 1
        earlier, prev_cand = "", ""
        for k in range(i, j):
            if spk[k] == "candidate":
                earlier += " " + txt[k]
                prev_cand = txt[k]
                continue
            if spk[k] != "interviewer" or not earlier:
                continue
            if not _is_followup(rule, txt[k], prev_cand):
                continue
            nxt = next((r for r in range(k + 1, j) if spk[r] == "candidate"), None)
            if nxt is None:
                continue
            credit, why, span = _response_credit(rule, txt[k], txt[nxt], earlier)
            n_trig[pos[k]] += 1
            credit_sum[pos[k]] += credit
            tm = rule.trigger.py.search(txt[k])
            tspan = tm.group(0) if tm else txt[k][:80]
            tstart = tm.start() if tm else 0
            ev_rows.append(
                (
                    tid[k],
                    dim,
                    f"{rule.id}.trigger",
                    rule.weight,
                    tspan,
                    tix[k],
                    tstart,
                    tstart + len(tspan),
                    1,
                    pos[k],
                )  # fmt: skip
            )
            start = txt[nxt].find(span) if span else -1
            ev_rows.append(
                (
                    tid[nxt],
                    dim,
                    f"{rule.id}.{why}",
                    rule.weight,
                    span,
                    tix[nxt],
                    start,
                    start + len(span) if span and start >= 0 else -1,
                    int(credit > 0),
                    pos[nxt],
                )  # fmt: skip
            )
        i = j
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(
            n_trig > 0,
            credit_sum / np.maximum(n_trig, 1),
            np.nan if rule.if_no_trigger == "unscored" else 0.0,
        )
    ev = pd.DataFrame(ev_rows, columns=[*EVIDENCE_COLUMNS, "pos"])
    ev = ev[["pos", *EVIDENCE_COLUMNS]]
    return value, ev, n_trig


def evaluate_dimension(signals: DimensionSignals, texts: _Texts, n: int, words: np.ndarray):
    """Evaluate all rules of one dimension.

    Returns
    -------
    values : pandas.DataFrame
        One column per rule (values in [0, 1], NaN where a follow-up rule had nothing to
        judge), one row per transcript position.
    evidence : pandas.DataFrame
    missing_trigger : numpy.ndarray of object
        Per transcript, the id of a ``if_no_trigger: unscored`` rule that found no trigger.
    """
    cols, evs = {}, []
    missing = np.full(n, None, dtype=object)
    for rule in signals.rules:
        if rule.type == "phrases":
            v, ev = _phrases(rule, texts, n, words, signals.dimension)
        elif rule.type == "reasoning":
            v, ev = _reasoning_rule(rule, texts, n, words, signals.dimension)
        elif rule.type == "before":
            v, ev = _before(rule, texts, n, signals.dimension)
        else:
            v, ev, n_trig = _followup(rule, texts, n, signals.dimension)
            if rule.if_no_trigger == "unscored":
                missing = np.where((n_trig == 0) & (missing == None), rule.id, missing)  # noqa: E711
        cols[rule.id] = v
        evs.append(ev)
    return pd.DataFrame(cols), pd.concat(evs, ignore_index=True), missing
