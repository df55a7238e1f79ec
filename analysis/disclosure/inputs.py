"""Checks and conversions of the public functions' arguments (ValueError for bad input)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.disclosure.structure import AtomCounts, Structure, count_atoms

__all__ = ["as_counts", "check_k", "hidden_positions", "published_mask"]


def as_counts(structure: Structure, counts: AtomCounts | pd.DataFrame) -> AtomCounts:
    """Accept :class:`AtomCounts` or a respondent-level frame (see :func:`count_atoms`)."""
    if isinstance(counts, pd.DataFrame):
        return count_atoms(structure, counts)
    if not isinstance(counts, AtomCounts) or counts.structure is not structure:
        raise ValueError("counts must be AtomCounts made for this structure (or a DataFrame)")
    return counts


def check_k(k: object) -> int:
    """A minimum group size: a whole number of at least 1."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or int(k) < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
    return int(k)


def hidden_positions(structure: Structure, hidden: object) -> np.ndarray:
    """Publishable positions named by ``hidden``: group ids, a frame with group/published, or
    a boolean mask over the publishable groups."""
    if hidden is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(hidden, np.ndarray) and hidden.dtype == bool:
        if hidden.shape != (structure.n_publishable,):
            raise ValueError(f"a hidden mask must have {structure.n_publishable} entries")
        return np.flatnonzero(hidden)
    if isinstance(hidden, pd.DataFrame):
        if not {"group", "published"} <= set(hidden.columns):
            raise ValueError("initially_hidden frame needs columns group, published")
        ids = hidden.loc[~hidden["published"].astype(bool), "group"].tolist()
    elif isinstance(hidden, str) or not isinstance(hidden, Iterable):
        raise ValueError("initially_hidden must be group ids or a frame with group, published")
    else:
        ids = list(hidden)
    pos = structure.group_positions([str(i) for i in ids])
    return pos[pos < structure.n_publishable]


def published_mask(structure: Structure, published: object) -> np.ndarray:
    """Boolean mask over the publishable groups.

    ``published`` is a result frame of :func:`suppress` (columns ``group, published``), an
    iterable of published group ids, or a boolean array over the publishable groups.
    """
    size = structure.n_publishable
    if isinstance(published, pd.DataFrame):
        if not {"group", "published"} <= set(published.columns):
            raise ValueError("published frame needs columns group, published")
        pos = structure.group_positions(published["group"].astype(str).tolist())
        mask = np.zeros(len(structure.groups), dtype=bool)
        mask[pos] = published["published"].to_numpy(dtype=bool)
        if mask[size:].any():
            raise ValueError("remainders (own:, rest:) are never published")
        return mask[:size]
    if isinstance(published, np.ndarray) and published.dtype == bool:
        if published.shape != (size,):
            raise ValueError(f"published mask must have {size} entries")
        return published.copy()
    if isinstance(published, str) or not isinstance(published, Iterable):
        raise ValueError("published must be a frame, group ids or a boolean mask")
    pos = structure.group_positions([str(g) for g in published])
    if (pos >= size).any():
        raise ValueError("remainders (own:, rest:) are never published")
    mask = np.zeros(size, dtype=bool)
    mask[pos] = True
    return mask
