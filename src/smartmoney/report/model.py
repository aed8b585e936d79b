"""What a report is made of: sentences that cite facts, sections, and the data of each chart.

A report is assembled from facts and metric tables; nothing in report/ computes a metric.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Sentence:
    """One sentence of the narrative and the facts it states (their ids and values)."""

    text: str
    facts: tuple[dict, ...]

    @property
    def fact_ids(self) -> list[str]:
        return [fact["id"] for fact in self.facts]

    def to_dict(self) -> dict:
        return {"text": self.text, "fact_ids": self.fact_ids, "facts": list(self.facts)}


@dataclass(frozen=True)
class Section:
    """A titled part of the note, in the order a prime-brokerage weekly has them."""

    key: str
    title: str
    sentences: tuple[Sentence, ...]

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title,
                "sentences": [sentence.to_dict() for sentence in self.sentences]}


@dataclass(frozen=True)
class Chart:
    """The data of one chart (a tidy table) with its title, axis labels and date."""

    key: str
    title: str
    data: pd.DataFrame
    x: str
    y: str
    kind: str                        # "line", "stacked_bar", "heatmap", "bar"
    series: str | None = None        # the column that splits the data into series, if any
    x_label: str = ""
    y_label: str = ""
    note: str = ""
    sorted: bool = True              # bar charts: sort the bars by value (else keep the data's order)


@dataclass(frozen=True)
class Report:
    """The weekly note for one as-of date."""

    store: str
    as_of: dt.date
    headline: tuple[Sentence, ...]
    sections: tuple[Section, ...]
    charts: tuple[Chart, ...] = field(default_factory=tuple)
    subject: str = "Hedge fund positioning"  # what the note is about
    dating: str = "week ending"              # how its date reads: "week ending", "as of"

    def to_dict(self) -> dict:
        return {"store": self.store, "as_of": self.as_of.isoformat(),
                "headline": [sentence.to_dict() for sentence in self.headline],
                "sections": [section.to_dict() for section in self.sections],
                "charts": [{"key": c.key, "title": c.title, "kind": c.kind, "x": c.x, "y": c.y,
                            "series": c.series, "rows": len(c.data)} for c in self.charts]}
