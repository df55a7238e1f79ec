"""One breakdown table (unit tree × one background question) as a bipartite graph.

This is the object both the engine and the fast audit work on; the module docstring of
:mod:`analysis.disclosure.audit` explains why it captures every derivable set.

Nodes
    *sinks*: the known units — published units, and units known to be empty (n = 0, which an
    attacker may know). A sink stands for its *block*: the unit's own level and the own levels of
    the hidden units below it that are not below another known unit.
    *sources*: the published category groups ``(u, c)``. A source stands for its *column block*:
    category ``c`` in u's subtree minus the subtrees of published ``(w, c)`` below u.
    *G*: one extra source for everything no category group covers (``rest`` always, and
    category ``c`` where no ancestor publishes it).
Edges
    one per sink and answer column (each category, then ``rest``): the respondents of the
    sink's block with that answer, drawn from the source covering them.

A published unit total is the sum of its subtree's sink blocks, a published category group the
sum of its subtree's column blocks in that column, so a linear combination of published figures
is a *potential* on the nodes and the value it gives a cell is ``potential(source) −
potential(sink)``. A 0/1 combination is therefore a *directed cut*: a node set X with no edge
entering it, whose leaving edges are the derived set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from analysis.disclosure.structure import AtomCounts, Structure

__all__ = ["Table", "breakdown_rule_violations", "build_table", "nearest_marked", "take"]


def take(values: np.ndarray, index: np.ndarray, fill: object = 0) -> np.ndarray:
    """``values[index]`` where ``index >= 0``, else ``fill`` (works for empty ``values``)."""
    out = np.full(index.shape, fill, dtype=values.dtype)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


@dataclass(frozen=True, eq=False)
class Table:
    """A breakdown table as a graph (see the module docstring). ``q = -1``: units only.

    Arrays ending in ``_w`` are weights (respondents); ``present`` marks edges whose count is not
    forced to zero by what is published (see :func:`_forced_zero`).
    """

    q: int
    n_cat: int
    sink_unit: np.ndarray
    sink_parent: np.ndarray
    source: np.ndarray
    weight: np.ndarray
    src_unit: np.ndarray
    src_cat: np.ndarray
    src_parent: np.ndarray
    src_group: np.ndarray
    present: np.ndarray
    sink_w: np.ndarray
    src_w: np.ndarray
    g_w: float
    src_outdeg: np.ndarray
    g_outdeg: int

    @property
    def n_sinks(self) -> int:
        """Number of sinks."""
        return len(self.sink_unit)

    @property
    def n_sources(self) -> int:
        """Number of sources other than G."""
        return len(self.src_unit)


def nearest_marked(structure: Structure, marked: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """For each unit (row), ``ids`` of the nearest ancestor-or-self where ``marked``, else -1.

    ``marked`` and ``ids`` are (units,) or (units, columns); walked one tree level at a time.
    """
    out = np.full(marked.shape, -1, dtype=np.int64)
    parent = structure.parent
    for d, level in enumerate(structure.levels):
        inherited = out[parent[level]] if d > 0 else -1
        out[level] = np.where(marked[level], ids[level], inherited)
    return out


def breakdown_rule_violations(structure: Structure, published: np.ndarray) -> np.ndarray:
    """Positions of published category groups whose unit group is hidden."""
    bad = []
    for q in range(len(structure.questions)):
        sl = structure.category_slice(q)
        pub = published[sl].reshape(structure.n_units, -1)
        rows, cols = np.nonzero(pub & ~published[: structure.n_units, None])
        bad.append(sl.start + rows * pub.shape[1] + cols)
    return np.concatenate(bad) if bad else np.zeros(0, dtype=np.int64)


def build_table(
    structure: Structure,
    counts: AtomCounts,
    q: int,
    published: np.ndarray,
    unit_n: np.ndarray,
) -> Table:
    """The graph of question ``q``'s table (``q = -1``: unit totals only).

    ``published`` is a boolean mask over the publishable groups and must satisfy the breakdown
    rule (no published category group of a hidden unit); ``unit_n`` are the unit totals, used to
    treat empty units as known.
    """
    nu = structure.n_units
    known = published[:nu] | (unit_n == 0)
    sink_unit = np.flatnonzero(known)
    sink_of = np.full(nu, -1, dtype=np.int64)
    sink_of[sink_unit] = np.arange(len(sink_unit))
    block = nearest_marked(structure, known, sink_of)
    par = structure.parent[sink_unit]
    sink_parent = np.where(par >= 0, block[np.maximum(par, 0)], -1)

    own = counts.own[:, None] if q < 0 else counts.tables[q]
    n_cat = own.shape[1] - 1
    width = n_cat + 1
    inside = block >= 0
    flat = np.bincount(
        (block[inside][:, None] * width + np.arange(width)).ravel(),
        weights=own[inside].ravel(),
        minlength=len(sink_unit) * width,
    )
    weight = flat.reshape(len(sink_unit), width)

    if n_cat:
        pub = published[structure.category_slice(q)].reshape(nu, n_cat)
        src_unit, src_cat = np.nonzero(pub)
        ids = np.full((nu, n_cat), -1, dtype=np.int64)
        ids[src_unit, src_cat] = np.arange(len(src_unit))
        cover = nearest_marked(structure, pub, ids)
        up = structure.parent[src_unit]
        src_parent = np.where(up >= 0, cover[np.maximum(up, 0), src_cat], -1)
        src_group = structure.offsets[q] + src_unit * n_cat + src_cat
        source = np.column_stack([cover[sink_unit], np.full(len(sink_unit), -1)])
    else:
        src_unit = src_cat = src_parent = src_group = np.zeros(0, dtype=np.int64)
        source = np.full((len(sink_unit), 1), -1, dtype=np.int64)
    present = ~_forced_zero(source, weight, len(src_unit))
    pw = np.where(present, weight, 0.0)
    from_src = present & (source >= 0)
    return Table(
        q=q,
        n_cat=n_cat,
        sink_unit=sink_unit,
        sink_parent=sink_parent,
        source=source,
        weight=weight,
        src_unit=src_unit,
        src_cat=src_cat,
        src_parent=src_parent,
        src_group=src_group,
        present=present,
        sink_w=pw.sum(axis=1),
        src_w=np.bincount(source[from_src], weights=pw[from_src], minlength=len(src_unit)),
        g_w=float(pw[source < 0].sum()),
        src_outdeg=np.bincount(source[from_src], minlength=len(src_unit)),
        g_outdeg=int((present & (source < 0)).sum()),
    )


def _forced_zero(source: np.ndarray, weight: np.ndarray, n_src: int) -> np.ndarray:
    """Edges whose count the attacker can prove to be zero (non-negativity of counts).

    An edge lies in a derived set of total 0 iff it is a zero edge of some directed cut whose
    edges are all zero: X must be closed under predecessors and may not leave along a positive
    edge. So zero edge ``s → t`` is forced iff ``t`` cannot be reached from ``s`` when every
    edge may be walked backwards and positive edges forwards too, i.e. iff ``s`` and ``t`` lie
    in different strongly connected components of that auxiliary graph. Deleting these edges
    gives exactly the attacker's knowledge (the affine hull of non-negative solutions).
    """
    n_sink = source.shape[0]
    g = n_sink + n_src
    tail = np.where(source >= 0, n_sink + source, g).ravel()
    head = np.repeat(np.arange(n_sink), source.shape[1])
    positive = weight.ravel() > 0
    rows = np.concatenate([head, tail[positive]])
    cols = np.concatenate([tail, head[positive]])
    graph = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(g + 1, g + 1))
    _, comp = csgraph.connected_components(graph, directed=True, connection="strong")
    return ((~positive) & (comp[tail] != comp[head])).reshape(source.shape)
