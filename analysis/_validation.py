"""Input checks shared by the modules of :mod:`analysis` (private).

Every public function validates its input here and raises :class:`ValueError` with a message that
names the frame and the offending column, so that a caller sees *what* was wrong rather than a
``KeyError`` deep inside pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def require_frame(frame: object, name: str) -> pd.DataFrame:
    """Return ``frame`` if it is a DataFrame, else raise ``ValueError``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    return frame


def require_columns(frame: object, columns: Iterable[str], name: str) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding every column in ``columns``."""
    df = require_frame(frame, name)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {[str(c) for c in df.columns]}"
        )
    return df


def require_nonempty(frame: pd.DataFrame, name: str) -> None:
    """Raise if ``frame`` has no rows."""
    if len(frame) == 0:
        raise ValueError(f"{name} is empty")


def as_float(values: object, name: str) -> np.ndarray:
    """Convert a column or array to float64, raising ``ValueError`` if it is not numeric."""
    try:
        arr = pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric") from exc
    return np.asarray(arr, dtype=np.float64)


def check_nonnegative(values: np.ndarray, name: str, *, allow_nan: bool = True) -> None:
    """Raise if any value is negative (or NaN when ``allow_nan`` is false) or infinite."""
    if np.isinf(values).any():
        raise ValueError(f"{name} must be finite")
    if not allow_nan and np.isnan(values).any():
        raise ValueError(f"{name} must not be missing")
    with np.errstate(invalid="ignore"):
        bad = values < 0
    if bad.any():
        raise ValueError(f"{name} must not be negative ({int(bad.sum())} negative value(s))")


def check_integer_valued(values: np.ndarray, name: str) -> None:
    """Raise if any value is NaN or has a fractional part."""
    if np.isnan(values).any():
        raise ValueError(f"{name} must not be missing")
    if (values != np.floor(values)).any():
        raise ValueError(f"{name} must be whole numbers")


def check_confidence(confidence: float) -> None:
    """Raise unless 0 < confidence < 1."""
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def check_alpha(alpha: float) -> None:
    """Raise unless 0 < alpha < 1."""
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")


def as_column_list(columns: str | Sequence[str]) -> list[str]:
    """Normalise a column name or a sequence of names to a list."""
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def scale_lookup(
    questions: object, question_values: pd.Series, *, name: str = "counts"
) -> np.ndarray:
    """Return the scale points of each entry of ``question_values``.

    ``questions`` must have columns ``question, scale_points`` with unique questions and whole
    scale points of at least 2. Unknown questions raise ``ValueError``.
    """
    q = require_columns(questions, ["question", "scale_points"], "questions")
    if q["question"].duplicated().any():
        dupes = q.loc[q["question"].duplicated(), "question"].unique().tolist()[:5]
        raise ValueError(f"questions lists some question more than once, e.g. {dupes}")
    points = as_float(q["scale_points"], "questions.scale_points")
    check_integer_valued(points, "questions.scale_points")
    if (points < 2).any():
        raise ValueError("questions.scale_points must be at least 2")
    position = pd.Index(q["question"]).get_indexer(question_values)
    if (position < 0).any():
        unknown = pd.unique(np.asarray(question_values)[position < 0])[:5].tolist()
        raise ValueError(f"{name}: question(s) not in questions: {unknown}")
    return points[position]
