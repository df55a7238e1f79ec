"""Lyhörd's statistics library: pure pandas/numpy/scipy, DataFrames in, DataFrames out.

It imports neither Flask nor SQLAlchemy: the app aggregates in the database (counts per
group × question × value, respondent-level index scores) and hands the small frames to these
functions. Bad input raises ``ValueError`` with a message naming the frame and column.

Modules
-------
items
    Item statistics from counts (:func:`item_stats`: n, mean, SD, median, % positive/negative/
    don't know; :func:`distribution`), additive moments (:func:`moments_from_counts`,
    :func:`moments`, :func:`moments_to_stats`) and subtraction of additive frames for "the rest"
    comparisons (:func:`subtract`, :func:`complement`).
rollup
    Sums over the organisation tree (:func:`rollup`) and each unit's ancestors
    (:func:`ancestors`).
indices
    0–100 indices with reverse scoring: HME/Kolada's item mean (:func:`item_mean`) and COPSOQ's
    respondent mean with a minimum answered share (:func:`respondent_mean`).
compare
    Two-group comparisons with difference, CI, test, p and effect size: Welch's t
    (:func:`compare_means`), Mann–Whitney U from counts (:func:`compare_ordinal`), two
    proportions with Newcombe's CI (:func:`compare_proportions`), all item comparisons at once
    (:func:`compare_items`).
multiplicity
    Benjamini–Hochberg q-values (:func:`adjust_fdr`) and the significance mark that never
    appears beside a hidden group (:func:`mark_significant`).
trends
    Inverse-variance weighted linear trends over rounds (:func:`trend`).
drivers
    Spearman driver analysis with CI, q-values, rank and caveats (:func:`driver_analysis`).
lineage
    Which previous-round units a unit is compared with across reorganisations
    (:func:`resolve_lineage`).

``analysis.disclosure`` (complementary cell suppression) is a separate subpackage.
"""

from analysis.compare import (
    RESULT_COLUMNS,
    compare_items,
    compare_means,
    compare_ordinal,
    compare_proportions,
    mann_whitney_counts,
    two_proportion_test,
    welch_t_test,
)
from analysis.drivers import DriverResult, driver_analysis
from analysis.indices import (
    RULES,
    IndexDefinition,
    ItemMeanResult,
    RespondentMeanResult,
    definitions_frame,
    item_mean,
    item_score,
    respondent_mean,
    respondent_scores,
    validate_definitions,
)
from analysis.items import (
    complement,
    distribution,
    item_stats,
    moments,
    moments_from_counts,
    moments_to_stats,
    subtract,
)
from analysis.lineage import KINDS, resolve_lineage
from analysis.multiplicity import adjust_fdr, mark_significant
from analysis.rollup import ancestors, rollup, validate_tree
from analysis.trends import trend

__all__ = [
    "KINDS",
    "RESULT_COLUMNS",
    "RULES",
    "DriverResult",
    "IndexDefinition",
    "ItemMeanResult",
    "RespondentMeanResult",
    "adjust_fdr",
    "ancestors",
    "compare_items",
    "compare_means",
    "compare_ordinal",
    "compare_proportions",
    "complement",
    "definitions_frame",
    "distribution",
    "driver_analysis",
    "item_mean",
    "item_score",
    "item_stats",
    "mann_whitney_counts",
    "mark_significant",
    "moments",
    "moments_from_counts",
    "moments_to_stats",
    "resolve_lineage",
    "respondent_mean",
    "respondent_scores",
    "rollup",
    "subtract",
    "trend",
    "two_proportion_test",
    "validate_definitions",
    "validate_tree",
    "welch_t_test",
]
