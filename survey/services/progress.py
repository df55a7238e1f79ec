"""Response counts while a round is open, through the gate.

Counts are as of the end of yesterday (the date is all a response stores), so nobody can watch
the count move when a colleague submits; a unit below k, or one that would reveal such a unit
by subtraction, shows no count at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import rollup
from survey import anonymity
from survey.models import Response, SurveyRound
from survey.services.aggregates import round_units


@dataclass(frozen=True)
class UnitProgress:
    unit_id: int
    code: str
    name: str
    depth: int
    headcount: int
    shown: bool
    responses: int | None

    @property
    def rate(self) -> float | None:
        if not self.shown or not self.headcount or self.responses is None:
            return None
        return self.responses / self.headcount


def progress(session: Session, survey_round: SurveyRound, today: dt.date) -> list[UnitProgress]:
    units = round_units(session, survey_round.id)
    query = select(Response.unit_id).where(Response.round_id == survey_round.id)
    if survey_round.status == "open":
        query = query.where(Response.submitted_on < today)
    respondent_units = pd.Series(session.scalars(query).all(), dtype="int64")
    gated = anonymity.gate_counts(units, respondent_units, survey_round.min_group_size)
    shown = gated.set_index("unit")
    heads = rollup(
        units.loc[:, ["unit", "headcount"]], units.loc[:, ["unit", "parent"]], columns="headcount"
    ).set_index("unit")["headcount"]
    parent = dict(zip(units["unit"], units["parent"], strict=True))

    def depth(unit: int) -> int:
        d = 0
        while not pd.isna(parent[unit]):
            unit, d = int(parent[unit]), d + 1
        return d

    rows = [
        UnitProgress(
            unit_id=int(u.unit),
            code=u.code,
            name=u.name,
            depth=depth(int(u.unit)),
            headcount=int(heads[u.unit]),
            shown=bool(shown.loc[u.unit, "shown"]),
            responses=shown.loc[u.unit, "n"],
        )
        for u in units.itertuples()
    ]
    return _tree_order(rows, parent)


def _tree_order(rows: list[UnitProgress], parent: dict[int, object]) -> list[UnitProgress]:
    by_parent: dict[object, list[UnitProgress]] = {}
    for row in rows:
        value = parent[row.unit_id]
        key = None if pd.isna(value) else int(str(value))
        by_parent.setdefault(key, []).append(row)
    ordered: list[UnitProgress] = []

    def walk(key: object) -> None:
        for row in sorted(by_parent.get(key, []), key=lambda r: r.code):
            ordered.append(row)
            walk(row.unit_id)

    walk(None)
    return ordered
