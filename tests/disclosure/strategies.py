"""Small organisations for the disclosure tests: hand-made builders and hypothesis strategies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from analysis.disclosure import AtomCounts, Structure, build_structure, count_atoms, group_counts


@dataclass(frozen=True)
class Case:
    """A structure, its respondents, and a minimum group size."""

    structure: Structure
    data: pd.DataFrame
    k: int

    @property
    def counts(self) -> AtomCounts:
        return count_atoms(self.structure, self.data)

    @property
    def n(self) -> np.ndarray:
        return group_counts(self.structure, self.counts)

    def published(self, frame: pd.DataFrame) -> dict[str, bool]:
        return dict(zip(frame["group"], frame["published"], strict=True))


def respondents(unit: str, count: int, **answers: list[object]) -> list[dict[str, object]]:
    """``count`` respondents at ``unit``; each answer list is cycled (None = no answer)."""
    return [{"unit": unit, **{q: v[i % len(v)] for q, v in answers.items()}} for i in range(count)]


def frame(rows: list[dict[str, object]], questions: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", *questions])


def tree(parents: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"unit": list(parents), "parent": list(parents.values())})


def unit_case(parents: dict[str, str | None], sizes: dict[str, int], k: int = 5) -> Case:
    """Only unit totals: ``sizes`` respondents directly at each unit."""
    rows = [row for u, size in sizes.items() for row in respondents(u, size)]
    return Case(build_structure(tree(parents)), frame(rows, []), k)


@st.composite
def cases(draw: st.DrawFn, max_units: int = 12, max_questions: int = 3) -> Case:
    """Random trees (1–4 levels), group sizes with 0 and small ones, background mixes, k."""
    n_units = draw(st.integers(1, max_units))
    parents: dict[str, str | None] = {"U0": None}
    depth = {"U0": 0}
    for i in range(1, n_units):
        options = [u for u, d in depth.items() if d < 3]
        p = draw(st.sampled_from(options))
        parents[f"U{i}"] = p
        depth[f"U{i}"] = depth[p] + 1
    n_questions = draw(st.integers(0, max_questions))
    breakdowns = {
        f"q{j}": [f"c{c}" for c in range(draw(st.integers(2, 4)))] for j in range(n_questions)
    }
    rows: list[dict[str, object]] = []
    for u in parents:
        size = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 16]))
        for _ in range(size):
            row: dict[str, object] = {"unit": u}
            for q, cats in breakdowns.items():
                answers: list[str | None] = [*cats, *cats, None]
                row[q] = draw(st.sampled_from(answers))
            rows.append(row)
    k = draw(st.integers(3, 7))
    return Case(build_structure(tree(parents), breakdowns), frame(rows, list(breakdowns)), k)


def close_breakdowns(structure: Structure, mask: np.ndarray) -> np.ndarray:
    """Hide the category groups of hidden units (what the fast audit requires)."""
    out = mask.copy()
    for q, cats in enumerate(structure.categories):
        sl = structure.category_slice(q)
        block = out[sl].reshape(structure.n_units, len(cats)) & out[: structure.n_units, None]
        out[sl] = block.ravel()
    return out
