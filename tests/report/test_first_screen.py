"""The first screen answers the three readers, and the interviewer report puts excerpt and anchors side by side.

Data: SYNTHETIC (calib.simulate, planted and clean configurations from conftest.py). The
expected answers are the planted truth of calib.simulate's default cast (docs/simulate.md):
severe r01, lenient r02, ambiguous 'tradeoffs'; the numbers quoted must be the ones the
sections computed (no second computation).
"""

from __future__ import annotations

import html.parser
import re

from calib.report import summary_dict, write_report
from calib.report.feedback import build_feedback


def test_three_readers_in_order(planted_results):
    s = summary_dict(planted_results)
    assert [a["audience"] for a in s["audiences"]] == [
        "Rubric designer",
        "Interview-programme lead",
        "Grader builder",
    ]
    assert s["headline"] == [f"{a['audience']}: {a['answer']}" for a in s["audiences"]]
    assert all(a["section"] in s["sections"] for a in s["audiences"])


def test_rubric_designer_answer_is_the_top_rubric_recommendation(planted_results, clean_results):
    rubric_recs = [
        r
        for r in planted_results.recommendations
        if r.rule in ("anchor_ambiguity", "redundant_dims", "unused_level")
    ]
    ans = planted_results.audiences[0]["answer"]
    assert rubric_recs and ans.startswith(rubric_recs[0].title)
    assert "'tradeoffs'" in ans  # the planted ambiguous dimension
    # clean data: no rubric rule fires, and the answer says so instead of inventing one
    assert not [
        r for r in clean_results.recommendations if r.rule in ("anchor_ambiguity", "unused_level")
    ]
    assert clean_results.audiences[0]["answer"].startswith("No rubric change indicated")


def test_programme_lead_answer_quotes_the_sections_numbers(planted_results):
    """First "can we trust today's scores?": Phi of the mean of today's raters per dimension."""
    ans = planted_results.audiences[1]["answer"]
    plan = planted_results.section("reliability_planning").facts
    now = plan["reliability_now"]
    ok = sum(v >= 0.8 for v in now.values())
    k = sorted(plan["current_raters"].values())[len(now) // 2]
    assert ans.startswith(f"Today's scores (the mean of {k:g} raters) reach reliability 0.80 on ")
    assert f"on {ok} of {len(now)} dimensions" in ans
    assert "fewer raters" not in ans
    named = set(re.search(r"calibration session \(([^)]*)\)", ans).group(1).split(", "))
    recs = {
        r
        for rec in planted_results.recommendations
        if rec.rule == "rater_calibration"
        for r in rec.evidence["raters"]
    }
    assert named == recs and {"r01", "r02"} <= named  # planted severe and lenient raters


def test_grader_builder_answer_without_graders(planted_results):
    # no grader rows in simulated data: the answer says what to run (with a grader: test_report.py)
    assert planted_results.audiences[2]["answer"].startswith("No automated grader")


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.order: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.order.append(a.get("class") or a.get("id") or "")


def test_cards_come_before_the_sections_in_the_html(planted_report):
    p = _Text()
    p.feed((planted_report / "report.html").read_text())
    assert p.order[0] == "glance" and p.order[1] == "overview"
    text = (planted_report / "report.html").read_text()
    assert text.count('class="card"') == 3
    md = (planted_report / "report.md").read_text()
    assert "## At a glance" in md and "**Rubric designer**" in md


def test_feedback_excerpt_and_anchors_side_by_side(planted, tmp_path):
    res = build_feedback(planted[1], "r01")
    write_report(res, tmp_path, inputs=planted[1], template="feedback")
    page = (tmp_path / "report.html").read_text()
    ex = res.section("differences").facts["examples"]
    assert ex and page.count('<div class="side">') == len(ex)
    blocks = page.split('<div class="side">')[1:]
    for e, block in zip(ex, blocks):  # one block holds the excerpt and both anchors
        body = block.split("</div>\n</div>")[0]
        assert html_escape(e["excerpt"][:40]) in body
        assert html_escape(e["your_anchor"]) in body and html_escape(e["consensus_anchor"]) in body
    # what to practise starts with the largest clear difference
    by_dim = res.section("summary").facts["by_dimension"]
    worst = max(by_dim, key=lambda d: abs(by_dim[d]["mean_diff"] or 0))
    name = planted[1].rubric.dimension(worst).name
    assert res.section("practice").facts["items"][0].startswith(f"On {name} ")
    assert f"start with {name}," in res.section("practice").takeaway


def html_escape(t: str) -> str:
    from markupsafe import escape  # jinja2's own autoescape

    return str(escape(t))


def test_agreement_table_shows_each_statistic_with_its_ci(planted_report, planted_results):
    """The displayed cells are the agreement stage's own estimate and bootstrap CI, rounded."""
    t = planted_results.section("agreement").tables["by_dimension"]
    page = (planted_report / "report.html").read_text()
    for r in t.itertuples():
        for c in ("alpha_ordinal", "icc", "qwk_mean", "exact_agreement", "adjacent_agreement"):
            est, lo, hi = getattr(r, c), getattr(r, f"{c}_low"), getattr(r, f"{c}_high")
            assert f"<td>{est:.2f} [{lo:.2f}, {hi:.2f}]</td>" in page, (r.dimension, c)


def test_every_figure_has_titled_axes_and_numeric_alt_text(planted_results):
    """Both axes carry a title and the alt text quotes the figure's numbers.

    SVG text is kept as text (svg.fonttype none). Tick labels are single tokens ("0.4",
    "problem_framing"); axis titles are phrases, so a figure needs at least two phrases of 8+
    characters (x and y titles). Before axis titles were added, forest plots had one.
    """
    import xml.etree.ElementTree as ET

    for sec in planted_results.sections:
        for f in sec.figures:
            assert re.search(r"\d", f.alt) and len(f.alt) > 40, f.key
            texts = [
                "".join(t.itertext()).strip()
                for t in ET.fromstring(f.svg.encode()).iter()
                if t.tag.endswith("}text")
            ]
            phrases = [t for t in texts if " " in t and len(t) >= 8]
            assert len(phrases) >= 2, (f.key, texts)
