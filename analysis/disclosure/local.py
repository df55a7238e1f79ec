"""Local relations, checked for every node of a table at once.

Each is a directed cut of the table graph (:mod:`analysis.disclosure.tables`), hence a set an
attacker can derive. The engine fixes all violated ones in a batch before it asks the exact
minimum-cut programme (:mod:`analysis.disclosure.dicut`) for anything less obvious; they are
the relations that usually bind, so that programme rarely finds more.

``block``
    a known unit minus its known sub-units (its sink's in-edges): "parent minus children",
    including the parent's own respondents and hidden children.
``column``
    a published category group minus its published sub-groups in that category (a source's
    out-edges): "category at the parent minus the same category in the children". ``G``'s
    column is the organisation's ``rest`` (no answer / unpublished categories) plus categories
    nobody publishes.
``row``
    a unit's block minus the category cells only it uses: "the unit's total minus its published
    categories", i.e. its unanswered remainder plus its hidden categories.
``region``
    a unit's subtree minus its published categories is its ``rest`` plus its hidden categories;
    a published unit below it that hides no other category can be subtracted whole (its total
    minus its own categories, plus its categories the upper unit hides). What is left is the
    remainder of the region in between — the ``column`` relation of the never-published
    columns.
``shared``
    the ``row`` relation of the units fed by one column block (e.g. a hidden category cell of a
    unit that lies in its parent's column block): their blocks minus every column block that
    lies wholly inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from analysis.disclosure.structure import Structure
from analysis.disclosure.tables import Table, take

__all__ = ["LocalChecks", "Violation"]

Cut = tuple[np.ndarray, np.ndarray, bool]


@dataclass(frozen=True)
class Violation:
    """A violated local relation: its kind, the node it is anchored at (-1 = G) and its count."""

    kind: str
    anchor: int
    n: float


def _small(values: np.ndarray, k: int) -> list[tuple[int, float]]:
    idx = np.flatnonzero((values >= 1) & (values < k))
    return [(int(i), float(values[i])) for i in idx]


class LocalChecks:
    """The local relations of one table: their counts, violations, and cuts."""

    def __init__(self, structure: Structure, table: Table) -> None:
        self.structure = structure
        self.table = table
        self.pw = np.where(table.present, table.weight, 0.0)

    # --- row -------------------------------------------------------------------------------
    @cached_property
    def private(self) -> np.ndarray:
        """Present edges whose source has no other present edge."""
        t = self.table
        from_src = t.present & (t.source >= 0)
        priv = from_src & (take(t.src_outdeg, t.source) == 1)
        from_g = t.present & (t.source < 0)
        g_at_sink = from_g.sum(axis=1)
        g_private = (g_at_sink > 0) & (g_at_sink == t.g_outdeg)
        return np.asarray(priv | (from_g & g_private[:, None]))

    def row_weights(self) -> np.ndarray:
        priv = self.private
        weights = np.where(priv, 0.0, self.pw).sum(axis=1)
        real = priv.any(axis=1) & (self.table.present & ~priv).any(axis=1)
        return np.asarray(np.where(real, weights, 0.0))

    # --- region ----------------------------------------------------------------------------
    @cached_property
    def regions(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (sink s, sink t) with s in t's region (t itself included)."""
        t = self.table
        n_cat = t.n_cat
        src = t.source[:, :n_cat]
        own = (src >= 0) & (take(t.src_unit, src) == t.sink_unit[:, None])
        hidden = ((~own) * (1 << np.arange(n_cat))).sum(axis=1).astype(np.int64)
        below, above = [np.arange(t.n_sinks)], [np.arange(t.n_sinks)]
        path = [hidden]  # hidden masks of the sinks on (t, s], nearest to s first
        s_idx = np.arange(t.n_sinks)
        cur = t.sink_parent.copy()
        while True:
            alive = cur >= 0
            if not alive.any():
                break
            s_idx, cur = s_idx[alive], cur[alive]
            path = [p[alive] for p in path]
            top = hidden[cur]
            # a sink w on the way down carves its subtree out when it hides nothing more
            ok = np.all([(p & ~top) != 0 for p in path], axis=0)
            below.append(s_idx[ok])
            above.append(cur[ok])
            path.append(top)
            cur = t.sink_parent[cur]
        return np.concatenate(below), np.concatenate(above)

    def region_weights(self) -> np.ndarray:
        t = self.table
        s, top = self.regions
        src_depth = np.where(t.source >= 0, self.structure.depth[take(t.src_unit, t.source)], -1)
        depth = self.structure.depth[t.sink_unit]
        outside = src_depth[s] < depth[top][:, None]
        weights = np.bincount(top, weights=(self.pw[s] * outside).sum(axis=1), minlength=t.n_sinks)
        has_kids = np.zeros(t.n_sinks, dtype=bool)
        has_kids[t.sink_parent[t.sink_parent >= 0]] = True
        return np.asarray(np.where(has_kids, weights, 0.0))

    # --- shared ----------------------------------------------------------------------------
    @cached_property
    def feeds(self) -> sparse.csr_matrix:
        """(sources + G) × sinks incidence of the present edges; G is the last row."""
        t = self.table
        src = np.where(t.source >= 0, t.source, t.n_sources)
        rows, cols = src[t.present], np.nonzero(t.present)[0]
        return sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(t.n_sources + 1, t.n_sinks)
        )

    @cached_property
    def outdeg(self) -> np.ndarray:
        """Present out-edges of each source (G last)."""
        return np.asarray(self.feeds.sum(axis=1)).ravel()

    @cached_property
    def anchors(self) -> np.ndarray:
        """Sources (not G) feeding at least two sinks: the anchors of ``shared`` relations."""
        return np.flatnonzero(self.outdeg[:-1] >= 2)

    @cached_property
    def inside(self) -> sparse.csr_matrix:
        """(i, b) = 1 when every sink source b feeds is also fed by anchor i."""
        feeds, outdeg = self.feeds, self.outdeg
        shared = (feeds[self.anchors] @ feeds.T).tocoo()
        keep = (shared.data == outdeg[shared.col]) & (outdeg[shared.col] > 0)
        return sparse.csr_matrix(
            (np.ones(int(keep.sum())), (shared.row[keep], shared.col[keep])), shape=shared.shape
        )

    def shared_weights(self) -> np.ndarray:
        t = self.table
        feeds, inside, outdeg = self.feeds[self.anchors], self.inside, self.outdeg
        weights = feeds @ t.sink_w - inside @ np.append(t.src_w, t.g_w)
        edges_in = feeds @ t.present.sum(axis=1) - inside @ outdeg
        out = np.zeros(t.n_sources)
        out[self.anchors] = np.where(edges_in > 0, weights, 0.0)
        return out

    # --- all -------------------------------------------------------------------------------
    def violations(self, k: int, *, blocks: bool = True, staged: bool = False) -> list[Violation]:
        """Every violated relation (count between 1 and k − 1), smallest first.

        With ``staged`` the costlier ``shared`` relation is only checked when the others hold
        (the engine fixes those first anyway).
        """
        t = self.table
        found: list[Violation] = []
        if blocks:
            found += [Violation("block", i, n) for i, n in _small(t.sink_w, k)]
        found += [Violation("column", i, n) for i, n in _small(t.src_w, k)]
        if 1 <= t.g_w < k:
            found.append(Violation("column", -1, t.g_w))
        found += [Violation("row", i, n) for i, n in _small(self.row_weights(), k)]
        if t.n_sinks > 1:
            found += [Violation("region", i, n) for i, n in _small(self.region_weights(), k)]
        if t.n_sources and not (staged and found):
            found += [Violation("shared", i, n) for i, n in _small(self.shared_weights(), k)]
        found.sort(key=lambda v: (v.n, v.kind, v.anchor))
        return found

    def cut(self, v: Violation) -> Cut:
        """The node set X (sinks, sources, G) whose directed cut is the violated relation."""
        t = self.table
        n_sink, n_src = t.n_sinks, t.n_sources
        if v.kind == "block":
            sink_in = np.ones(n_sink, dtype=bool)
            sink_in[v.anchor] = False
            return sink_in, np.ones(n_src, dtype=bool), True
        if v.kind == "column":
            src_in = np.zeros(n_src, dtype=bool)
            if v.anchor >= 0:
                src_in[v.anchor] = True
            return np.zeros(n_sink, dtype=bool), src_in, v.anchor < 0
        if v.kind == "row":
            sink_in = np.ones(n_sink, dtype=bool)
            sink_in[v.anchor] = False
            priv = self.private[v.anchor]
            src = t.source[v.anchor]
            src_in = np.ones(n_src, dtype=bool)
            src_in[src[priv & (src >= 0)]] = False
            return sink_in, src_in, not bool((priv & (src < 0)).any())
        if v.kind == "region":
            s, top = self.regions
            region = np.zeros(n_sink, dtype=bool)
            region[s[top == v.anchor]] = True
            src_sink = np.searchsorted(t.sink_unit, t.src_unit)
            return ~region, ~region[src_sink], True
        fed = self.feeds[v.anchor].toarray().ravel() > 0
        row = int(np.searchsorted(self.anchors, v.anchor))
        inside = self.inside[row].toarray().ravel() > 0
        return ~fed, ~inside[:-1], not bool(inside[-1])
