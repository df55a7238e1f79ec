"""The smallest non-empty derived set of a table: a minimum directed cut by dynamic programming.

In a :class:`~analysis.disclosure.tables.Table` a derivable set is a directed cut: a node set X
(sources and sinks) with no edge entering it; the set is the edges leaving it. After the
edges forced to zero are deleted, every non-empty directed cut holds at least one respondent,
so the table is safe iff the lightest non-empty directed cut holds at least k.

The sinks form a tree (the known units), and the source of a sink's category-``c`` edge is the
column block of the nearest published ``(w, c)`` above or at the sink, or G. So whether a source
is in X is decided at the unit that publishes it and *inherited* by every sink below until the
next published ``(w, c)``. A dynamic programme over the unit tree therefore needs, per sink, the
membership bits of the sources its edges come from: one bit per category plus one for G
(``2^(c+1)`` states), and a flag "some edge is already cut" so that the empty cut is excluded.
Per sink and state it keeps ``F0`` (no cut edge in the subtree: 0 or ∞) and ``F1`` (cheapest
subtree with at least one cut edge). A sink may lie in X only if every present in-edge comes
from X; otherwise its in-edges from X are cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.disclosure.tables import Table, take

__all__ = ["Cut", "cut_nodes", "min_dicut", "relation"]

_INF = np.inf


@dataclass(frozen=True, eq=False)
class Cut:
    """A directed cut of a table: which nodes lie in X, and the cut edges (the derived set)."""

    weight: float
    edges: np.ndarray
    sink_in: np.ndarray
    src_in: np.ndarray
    g_in: bool


@dataclass(frozen=True, eq=False)
class _Programme:
    """Tables of the programme, rows in level order (``pos[sink]`` is a sink's row)."""

    pos: np.ndarray
    bits: np.ndarray
    fresh_mask: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    h0: np.ndarray
    h1: np.ndarray
    f0: np.ndarray
    f1: np.ndarray
    sum_m: np.ndarray
    penalty: np.ndarray


def _sink_depth(parent: np.ndarray) -> np.ndarray:
    depth = np.zeros(len(parent), dtype=np.int64)
    cur = parent.copy()
    while (alive := cur >= 0).any():
        depth[alive] += 1
        cur[alive] = parent[cur[alive]]
    return depth


def _fresh_min(h: np.ndarray, fresh: np.ndarray, flips: list[np.ndarray]) -> np.ndarray:
    """Minimise over the bits a sink chooses itself (its published categories)."""
    out = h.copy()
    for c, flip in enumerate(flips):
        rows = np.flatnonzero(fresh[:, c])
        if rows.size:
            sub = out[rows]
            out[rows] = np.minimum(sub, sub[:, flip])
    return out


def _levels(parent: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Sinks ordered level by level, children of one parent next to each other.

    Returns the order and the level boundaries, so each level and each parent's children are
    contiguous slices (views rather than gathers in the programme below).
    """
    depth = _sink_depth(parent)
    pos = np.empty(len(parent), dtype=np.int64)
    order, bounds = [], [0]
    for d in range(int(depth.max()) + 1 if len(parent) else 0):
        nodes = np.flatnonzero(depth == d)
        if d:
            nodes = nodes[np.argsort(pos[parent[nodes]], kind="stable")]
        pos[nodes] = np.arange(bounds[-1], bounds[-1] + len(nodes))
        order.append(nodes)
        bounds.append(bounds[-1] + len(nodes))
    return np.concatenate(order), bounds


def _run(table: Table) -> _Programme:
    n_sink, width = table.source.shape
    n_cat = width - 1
    n_states = 1 << width
    states = np.arange(n_states)
    order, bounds = _levels(table.sink_parent)
    pos = np.empty(n_sink, dtype=np.int64)
    pos[order] = np.arange(n_sink)
    bits = (states[:, None] >> np.arange(width)) & 1
    present = table.present[order]
    mask = (present * (1 << np.arange(width))).sum(axis=1)
    on = (mask[:, None] & states) != 0
    off = (mask[:, None] & ~states) != 0
    weights = np.where(present, table.weight[order], 0.0)
    c1 = np.where(on, weights @ bits.T.astype(float), _INF)
    c0 = np.where(on & off, _INF, 0.0)
    src = table.source[order, :n_cat]
    fresh = (src >= 0) & (take(table.src_unit, src) == table.sink_unit[order, None])
    fresh_mask = (fresh * (1 << np.arange(n_cat))).sum(axis=1).astype(np.int64)
    flips = [states ^ (1 << c) for c in range(n_cat)]

    h0, h1, f0, f1 = (np.empty((n_sink, n_states)) for _ in range(4))
    sum_m = np.zeros((n_sink, n_states))
    sum_0 = np.zeros((n_sink, n_states))
    penalty = np.full((n_sink, n_states), _INF)
    parent_pos = np.where(table.sink_parent[order] >= 0, pos[table.sink_parent[order]], -1)
    for d in range(len(bounds) - 2, -1, -1):
        lv = slice(bounds[d], bounds[d + 1])
        kids = slice(bounds[d + 1], bounds[d + 2]) if d + 2 < len(bounds) else slice(0, 0)
        owner = parent_pos[kids]
        if owner.size:
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            m = np.minimum(f0[kids], f1[kids])
            sum_m[owner[starts]] = np.add.reduceat(m, starts, axis=0)
            sum_0[owner[starts]] = np.add.reduceat(f0[kids], starts, axis=0)
            penalty[owner[starts]] = np.minimum.reduceat(f1[kids] - m, starts, axis=0)
        h0[lv] = c0[lv] + sum_0[lv]
        h1[lv] = np.minimum(c1[lv] + sum_m[lv], c0[lv] + sum_m[lv] + penalty[lv])
        f0[lv] = _fresh_min(h0[lv], fresh[lv], flips)
        f1[lv] = _fresh_min(h1[lv], fresh[lv], flips)
    return _Programme(pos, bits, fresh_mask, c0, c1, h0, h1, f0, f1, sum_m, penalty)


def _solve(table: Table) -> tuple[float | None, _Programme, bool]:
    prog = _run(table)
    tops = np.flatnonzero(table.sink_parent < 0)
    n_states = prog.bits.shape[0]
    best, best_g = _INF, False
    for g, s in ((False, 0), (True, n_states - 1)):
        rows = prog.pos[tops]
        m = np.minimum(prog.f0[rows, s], prog.f1[rows, s])
        value = m.sum() + (prog.f1[rows, s] - m).min()
        if value < best:
            best, best_g = float(value), g
    return (best if np.isfinite(best) else None), prog, best_g


def min_dicut(table: Table, *, below: float = _INF) -> tuple[float | None, Cut | None]:
    """The lightest directed cut with at least one edge: its weight, and the cut itself if the
    weight is below ``below`` (None, None when there is no such cut at all).

    The weight counts present edges only; edges forced to zero are not part of the graph.
    """
    if table.n_sinks == 0:
        return None, None
    best, prog, g = _solve(table)
    if best is None or best >= below:
        return best, None
    tops = np.flatnonzero(table.sink_parent < 0)
    return best, _backtrack(table, prog, best, g, tops)


def _children(parent: np.ndarray) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in range(len(parent))]
    for v, p in enumerate(parent.tolist()):
        if p >= 0:
            kids[p].append(v)
    return kids


def _child_flags(prog: _Programme, kids: list[int], s: int, need: bool) -> list[bool]:
    """Which children carry a cut edge: those that must, plus the cheapest one if ``need``."""
    if not kids:
        return []
    rows = prog.pos[kids]
    f0, f1 = prog.f0[rows, s], prog.f1[rows, s]
    flags = f1 < f0
    if need and not flags.any():
        flags[int(np.argmin(f1 - np.minimum(f0, f1)))] = True
    return flags.tolist()


def _backtrack(table: Table, prog: _Programme, weight: float, g: bool, tops: np.ndarray) -> Cut:
    """Follow the programme's choices down to the cut edges (only into subtrees holding some)."""
    n_states = prog.bits.shape[0]
    states = np.arange(n_states)
    kids = _children(table.sink_parent)
    edges = np.zeros(table.source.shape, dtype=bool)
    s_top = n_states - 1 if g else 0
    flags = _child_flags(prog, tops.tolist(), s_top, True)
    stack = [(int(t), s_top) for t, f in zip(tops.tolist(), flags, strict=True) if f]
    while stack:
        t, s_in = stack.pop()
        r = int(prog.pos[t])
        fixed = (n_states - 1) & ~int(prog.fresh_mask[r])
        cand = states[(states & fixed) == (s_in & fixed)]
        s = int(cand[np.argmin(prog.h1[r, cand])])
        cut_here = (
            prog.c1[r, s] + prog.sum_m[r, s]
            <= prog.c0[r, s] + prog.sum_m[r, s] + prog.penalty[r, s]
        )
        if cut_here:
            edges[t] = table.present[t] & prog.bits[s].astype(bool)
        child_flags = _child_flags(prog, kids[t], s, not cut_here)
        stack.extend((v, s) for v, f in zip(kids[t], child_flags, strict=True) if f)
    return Cut(weight, edges, *cut_nodes(table, edges))


def cut_nodes(table: Table, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The largest X whose cut is ``edges``: the complement Y is as small as possible.

    Y must hold the heads of the cut edges, the source of every other present in-edge of a sink
    in Y, and every sink a source in Y feeds. Keeping Y small keeps the signed sum of published
    groups short and its candidates for hiding next to the derived set.
    """
    g = table.n_sources
    src = np.where(table.source >= 0, table.source, g)
    sink_of_edge, col = np.nonzero(table.present)
    src_of_edge = src[sink_of_edge, col]
    order = np.argsort(src_of_edge, kind="stable")
    starts = np.searchsorted(src_of_edge[order], np.arange(g + 2))
    fed = sink_of_edge[order]
    keep = table.present & ~edges
    y_sink: np.ndarray = np.asarray(edges.any(axis=1))
    y_src = np.zeros(g + 1, dtype=bool)
    frontier = np.flatnonzero(y_sink)
    while frontier.size:
        needed = np.unique(src[frontier][keep[frontier]])
        needed = needed[~y_src[needed]]
        y_src[needed] = True
        lo, size = starts[needed], starts[needed + 1] - starts[needed]
        ends = np.cumsum(size)
        total = int(ends[-1]) if size.size else 0
        reach = fed[np.repeat(lo - ends + size, size) + np.arange(total)]
        frontier = np.unique(reach[~y_sink[reach]])
        y_sink[frontier] = True
    return ~y_sink, ~y_src[:g], not bool(y_src[g])


def relation(
    table: Table, sink_in: np.ndarray, src_in: np.ndarray, g_in: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The published groups a cut is derived from, their coefficients, and what hiding each gains.

    The derived set is ``Σ_{sources in X} column block − Σ_{sinks in X} block``; written in
    published groups a group's coefficient is ``[node in X] − [parent node in X]`` for a
    category group and ``[parent in X] − [node in X]`` for a unit group (G is the parent of the
    top nodes). Hiding a group merges its node into its parent node; the *gain* is the weight
    that then joins the cut (the block of the member on the far side; unlimited for a top unit,
    whose block then lies in no published group).

    Returns
    -------
    groups, coefficients, gains : numpy.ndarray
        Group positions (``structure.groups``) with a non-zero coefficient.
    """
    sp = table.sink_parent
    parent_in = np.where(sp >= 0, sink_in[np.maximum(sp, 0)], g_in)
    sink_coef = parent_in.astype(int) - sink_in.astype(int)
    sink_gain = np.where(
        sp < 0, _INF, np.where(sink_in, table.sink_w, table.sink_w[np.maximum(sp, 0)])
    )
    sp_src = table.src_parent
    src_parent_in = np.where(sp_src >= 0, src_in[np.maximum(sp_src, 0)], g_in)
    src_coef = src_in.astype(int) - src_parent_in.astype(int)
    parent_w = np.where(sp_src >= 0, table.src_w[np.maximum(sp_src, 0)], table.g_w)
    src_gain = np.where(src_in, parent_w, table.src_w)
    ks = np.flatnonzero(sink_coef)
    ka = np.flatnonzero(src_coef)
    groups = np.concatenate([table.sink_unit[ks], table.src_group[ka]])
    coefs = np.concatenate([sink_coef[ks], src_coef[ka]])
    gains = np.concatenate([sink_gain[ks], src_gain[ka]])
    return groups, coefs, gains
