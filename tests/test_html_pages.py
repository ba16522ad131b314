"""The HTML pages of `report` and `backtest` with hostile label values: whatever an alert's labels hold shows as text
and opens no element or attribute; and the same figures give the same bytes. Without a server: the report reads a
stand-in for Prometheus' answer (its counts are proved on a real one in tests/test_report.py), the backtest page is
rendered from a hand-built outcome."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from generator import report
from generator.backtest import Fired, Outcome, Received, Row, Trace
from generator.backtest_html import html as backtest_html
from generator.incidents import Detection, Incident, Page as IncidentPage
from generator.pipeline import build
from generator.report import Episode
from generator.report_html import html as report_html
from tests.browser import Page
from tests.history import alerts_query

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = '<script>alert("x")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
BREAKOUT = "</title></rect></svg><iframe src=//evil>"
T0 = datetime(2026, 12, 1, 2, tzinfo=timezone.utc).timestamp()


def _safe(text: str, hostile: list[str]) -> Page:
    """The page opens nothing a label wrote, and shows each hostile value as its text."""
    page = Page(text)
    tags = {tag for tag, _, _ in page.elements}
    assert not tags & {"script", "img", "iframe"}, tags
    assert not [a for _, attrs, _ in page.elements for a in attrs if a.startswith("on")]
    for value in hostile:
        assert any(value in t for _, t in page.texts), value
        assert value not in text            # only ever escaped in the source
    return page


@pytest.fixture(scope="module")
def plan():
    return build([ROOT / "specs"], ()).plan


def _figures(plan, labels: dict[str, str]) -> report.Figures:
    # ten minutes firing on two days: two pages of the same alert
    minutes = [T0 + day * 86400 + 60 * k for day in (0, 1) for k in range(10)]
    merged = [({"alertstate": "firing", "team": "ml-platform", "severity": "critical", **labels}, minutes)]
    found = report.report(plan.specs, plan.routing, alerts_query(merged), datetime(2026, 12, 3, tzinfo=timezone.utc))
    return report.figures(found, 60)


def test_a_hostile_alert_label_is_text_in_the_report(plan) -> None:
    figures = _figures(plan, {"alertname": SCRIPT, "service": ATTRIBUTE + BREAKOUT})
    page = _safe(report_html(figures), [SCRIPT, ATTRIBUTE + BREAKOUT])
    assert [r["data-count"] for r in page.rects("noisy-ml-platform", data_count=None)] == ["2"]
    assert [r["data-count"] for r in page.rects("pages-ml-platform", data_count=None)][-1] == "2"


def test_the_same_figures_give_the_same_bytes_and_fetch_nothing(plan) -> None:
    labels = {"alertname": "AIProviderDown", "service": "support-assistant"}
    text = report_html(_figures(plan, labels))
    assert report_html(_figures(plan, labels)) == text
    page = Page(text)
    assert not {tag for tag, _, _ in page.elements} & {"script", "link", "img", "iframe", "object", "embed"}
    assert not [a for _, attrs, _ in page.elements for a in attrs if a in ("src", "href")]
    assert "url(" not in text and "@import" not in text and "@font-face" not in text


def _outcome(alertname: str, provider: str, receiver: str, incident: str) -> Outcome:
    labels = {"alertname": alertname, "service": "support-assistant", "provider": provider, "severity": "critical"}
    fired = Fired(alertname, Episode(tuple(sorted(labels.items())), T0, T0 + 1800), 60)
    row = Row(fired, "support-assistant", f"provider={provider}", "critical", (receiver,), True)
    known = Incident(incident, "support-assistant", T0 - 60, T0 + 600, (alertname,))
    trace = Trace(alertname, (("provider", provider), ("service", "support-assistant")), f'x{{a="{provider}"}}', "<",
                  0.5, 660, ((T0 - 660, 0.99), (T0, 0.1), (T0 + 660, 0.99)))
    return Outcome(T0 - 86400, T0 + 86400, (Received(receiver, 1, 1, 1800),), (3.5,), 0, 0, (row,),
                   (Detection(known, IncidentPage(alertname, fired.episode)),), (SCRIPT,), (trace,))


def test_a_hostile_label_is_text_in_the_backtest() -> None:
    hostile = [SCRIPT, ATTRIBUTE, BREAKOUT, "<b onmouseover=alert(1)>incident</b>"]
    text = backtest_html(_outcome(*hostile))
    page = _safe(text, hostile)
    assert [r["data-count"] for r in page.rects("receivers", data_count=None)] == ["1"]
    assert [r["data-start"] for r in page.rects("episodes", data_start=None)] == [str(int(T0))]
    traced = [a["data-chart"] for tag, a, _ in page.elements if tag == "svg" and a["data-chart"].startswith("trace-")]
    assert traced == [f"trace-{SCRIPT}-provider={ATTRIBUTE}, service=support-assistant"]
    assert backtest_html(_outcome(*hostile)) == text
