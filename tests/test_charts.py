"""The server-drawn SVG charts: each has a title, a description and axis labels for people who
cannot see it, escapes every text it is given, and draws empty or one-month data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from oneforone.core.charts import line_chart, stacked_columns

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures reseed reference data

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own charts, not untrusted input


def test_a_line_chart_has_a_title_a_description_and_both_axis_labels() -> None:
    svg = _parse(
        line_chart(
            ["Jan 26", "Feb 26", "Mar 26"],
            [("Registered", [5, 8, 8]), ("Owed", [5, 8, 2])],
            title="Devices over time",
            desc="8 registered, 2 owed",
            x_label="Month",
            y_label="Devices",
            area=0,
        )
    )
    assert svg.get("role") == "img"
    assert svg.find(f"{NS}title").text == "Devices over time"  # type: ignore[union-attr]
    assert svg.find(f"{NS}desc").text == "8 registered, 2 owed"  # type: ignore[union-attr]
    texts = [t.text for t in svg.iter(f"{NS}text")]
    assert "Month" in texts
    assert "Devices" in texts
    assert "8" in texts, "the value axis names the peak"
    assert len(list(svg.iter(f"{NS}polyline"))) == 2
    assert len(list(svg.iter(f"{NS}polygon"))) == 1, "the area series is filled"


def test_a_stacked_column_adds_its_series_and_labels_every_point() -> None:
    svg = _parse(
        stacked_columns(
            ["Jan", "Feb"],
            [("Ghana", [3, 0]), ("<Nigeria & co>", [2, 4])],
            title="Origins",
            desc="where from",
            x_label="Month issued",
            y_label="Units",
        )
    )
    titles = [t.text for t in svg.iter(f"{NS}title")]
    assert "Jan Ghana: 3" in titles
    assert "Feb <Nigeria & co>: 4" in titles, "text is escaped, so the SVG still parses"
    assert len([r for r in svg.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]) == 3


def test_charts_draw_no_data_and_a_single_month() -> None:
    for chart in (line_chart, stacked_columns):
        _parse(chart([], [], title="t", desc="nothing yet", x_label="x", y_label="y"))
        _parse(chart(["Jan"], [("a", [0])], title="t", desc="d", x_label="x", y_label="y"))
