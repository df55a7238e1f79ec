"""The result of an audit: findings (derived sets below k) and the smallest derived count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FINDING_COLUMNS", "AuditResult", "findings_frame"]

FINDING_COLUMNS = ("question", "relation", "n", "expression", "cells")
"""Columns of :attr:`AuditResult.findings`."""


@dataclass(frozen=True, eq=False)
class AuditResult:
    """The outcome of an audit.

    Attributes
    ----------
    findings : pandas.DataFrame
        One row per derived set with 1 ≤ n ≤ k − 1: ``question`` (the breakdown table, missing
        for unit totals or the exact audit), ``relation`` (``block``, ``column``, ``row``,
        ``subtree``, ``cut``; ``group`` or ``set`` from the exact audit), ``n``, ``expression``
        (the signed sum of published groups that yields it) and ``cells`` (where its
        respondents are). Empty means proven safe.
    min_n : int or None
        The smallest positive count of any derived set (None: nothing non-empty is derived).
    method : str
        ``fast`` or ``exact``.
    """

    findings: pd.DataFrame
    min_n: int | None
    method: str

    @property
    def safe(self) -> bool:
        """True when nothing between 1 and k − 1 can be derived."""
        return self.findings.empty


def findings_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Findings as a frame with :data:`FINDING_COLUMNS`, smallest n first.

    A set derived in two ways is listed once (the first way, local relations before the rest).
    """
    frame = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    frame = frame.drop_duplicates(subset=["question", "n", "cells"])
    frame["n"] = frame["n"].astype(np.int64)
    return frame.sort_values(["n", "question", "relation"], na_position="first").reset_index(
        drop=True
    )
