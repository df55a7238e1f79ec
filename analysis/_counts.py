"""Counts frames as a dense ``group × question`` by ``value`` matrix (private).

A tidy counts frame (``group, question, value, count``) is turned once into a float matrix with
one row per group × question and one column per value ``0..P`` (``P`` = the largest scale of any
question; column 0 holds "vet ej / ej aktuellt"). Every item statistic and every item comparison
is then a handful of numpy operations over that matrix, which keeps a region-wide pass over
millions of rows to about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._validation import (
    as_float,
    check_integer_valued,
    check_nonnegative,
    require_columns,
    scale_lookup,
)


@dataclass(frozen=True)
class WideCounts:
    """Counts of one group × question per row; column ``v`` counts answers with value ``v``."""

    group: pd.Index  # sorted unique groups
    question: pd.Index  # sorted unique questions
    codes: np.ndarray  # combined code group_code * len(question) + question_code, sorted
    scale_points: np.ndarray  # scale points of each row (float)
    matrix: np.ndarray  # rows × (P + 1)

    @property
    def keys(self) -> tuple[pd.Index, pd.Index]:
        """The group and question of each row."""
        nq = len(self.question)
        return self.group.take(self.codes // nq), self.question.take(self.codes % nq)

    def rows_for(self, groups: pd.Series, questions: pd.Series) -> np.ndarray:
        """Row number of each (group, question) pair, or -1 where the pair has no counts."""
        wanted_groups, wanted_questions = pd.Index(groups), pd.Index(questions)
        _check_comparable(self.group, wanted_groups, "group")
        _check_comparable(self.question, wanted_questions, "question")
        g = self.group.get_indexer(wanted_groups)
        q = self.question.get_indexer(wanted_questions)
        wanted = g.astype(np.int64) * len(self.question) + q
        pos = np.searchsorted(self.codes, wanted)
        pos = np.minimum(pos, max(len(self.codes) - 1, 0))
        found = (g >= 0) & (q >= 0) & (len(self.codes) > 0)
        if len(self.codes):
            found &= self.codes[pos] == wanted
        return np.where(found, pos, -1)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Counts rows for ``rows`` (from :meth:`rows_for`); -1 gives a row of zeros."""
        out = np.zeros((len(rows), self.matrix.shape[1]))
        present = rows >= 0
        out[present] = self.matrix[rows[present]]
        return out


def _check_comparable(known: pd.Index, wanted: pd.Index, what: str) -> None:
    """Numeric ids never match text ids: say so instead of finding no counts at all."""
    if len(known) == 0 or len(wanted) == 0:
        return
    numeric_known = pd.api.types.is_numeric_dtype(known.dtype)
    numeric_wanted = pd.api.types.is_numeric_dtype(wanted.dtype)
    if numeric_known != numeric_wanted:
        raise ValueError(
            f"{what} ids of the pairs ({wanted.dtype}) cannot match those of the counts "
            f"({known.dtype}); convert one of them"
        )


def wide_counts(counts: object, questions: object, group: str = "group") -> WideCounts:
    """Validate a counts frame and pivot it to a :class:`WideCounts` matrix.

    Rows repeating the same group, question and value are added together (counts are additive).
    """
    df = require_columns(counts, [group, "question", "value", "count"], "counts")
    value = as_float(df["value"], "counts.value")
    check_integer_valued(value, "counts.value")
    count = as_float(df["count"], "counts.count")
    check_nonnegative(count, "counts.count", allow_nan=False)
    check_integer_valued(count, "counts.count")
    g_codes, g_uniques = pd.factorize(df[group], sort=True)
    q_codes, q_uniques = pd.factorize(df["question"], sort=True)
    # factorize codes missing keys as -1, which spares a separate (slow) isna pass.
    if (g_codes < 0).any():
        raise ValueError(f"counts.{group} must not be missing")
    if (q_codes < 0).any():
        raise ValueError("counts.question must not be missing")
    points_by_question = scale_lookup(questions, pd.Series(q_uniques), name="counts")
    points = points_by_question[q_codes] if len(q_codes) else np.zeros(0)
    if (value < 0).any():
        raise ValueError("counts.value must be 0 (don't know) or 1..scale_points, found negatives")
    above = value > points
    if above.any():
        example = df.loc[above, ["question", "value"]].head(3).to_dict("records")
        raise ValueError(f"counts.value lies above the question's scale_points, e.g. {example}")

    combined = g_codes.astype(np.int64) * len(q_uniques) + q_codes
    codes, row = np.unique(combined, return_inverse=True)
    width = int(points_by_question.max()) + 1 if len(points_by_question) else 1
    flat = np.bincount(
        row * width + value.astype(np.int64), weights=count, minlength=len(codes) * width
    )
    return WideCounts(
        group=pd.Index(g_uniques),
        question=pd.Index(q_uniques),
        codes=codes,
        scale_points=points_by_question[codes % max(len(q_uniques), 1)],
        matrix=flat.reshape(len(codes), width),
    )


def summarise(matrix: np.ndarray, scale_points: np.ndarray) -> dict[str, np.ndarray]:
    """Item statistics for each row of a counts matrix (column 0 = don't know).

    Returns ``n, n_dont_know, sum, sumsq, mean, sd, median, positive, negative`` as arrays;
    ``positive``/``negative`` are counts above/below the scale midpoint ``(p + 1) / 2``.
    """
    answers = matrix[:, 1:]
    values = np.arange(1, answers.shape[1] + 1, dtype=np.float64)
    n = answers.sum(axis=1)
    total = answers @ values
    sumsq = answers @ (values**2)
    midpoint = (scale_points[:, None] + 1.0) / 2.0
    positive = (answers * (values[None, :] > midpoint)).sum(axis=1)
    negative = (answers * (values[None, :] < midpoint)).sum(axis=1)
    mean, sd = mean_sd(n, total, sumsq)
    cumulative = np.cumsum(answers, axis=1)
    lower_rank = np.floor((n + 1) / 2)
    upper_rank = np.floor(n / 2) + 1
    lower = (cumulative < lower_rank[:, None]).sum(axis=1) + 1.0
    upper = (cumulative < upper_rank[:, None]).sum(axis=1) + 1.0
    median = np.where(n > 0, (lower + upper) / 2.0, np.nan)
    return {
        "n": n,
        "n_dont_know": matrix[:, 0],
        "sum": total,
        "sumsq": sumsq,
        "mean": mean,
        "sd": sd,
        "median": median,
        "positive": positive,
        "negative": negative,
    }


def mean_sd(n: np.ndarray, total: np.ndarray, sumsq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample SD (ddof=1) from moments; NaN where n < 1 (mean) or n < 2 (SD).

    Raises ``ValueError`` when the moments are inconsistent (a clearly negative sum of squared
    deviations), which happens when frames that do not nest are subtracted.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        ssd = sumsq - total * mean
        tolerance = 1e-9 * np.maximum(np.abs(sumsq), 1.0)
        if np.any((n > 0) & (ssd < -tolerance)):
            raise ValueError(
                "moments are inconsistent: sumsq is smaller than sum**2 / n "
                "(were frames subtracted that do not nest?)"
            )
        sd = np.where(n >= 2, np.sqrt(np.clip(ssd, 0.0, None) / (n - 1)), np.nan)
    return mean, sd
