"""No action opens more than the node budget: a search hit opens only its ancestors, an expanded
node with 50 000 kids shows the budget's worth and folds the rest."""

from __future__ import annotations

import pytest

from ckptviz.model.graph import ObjectGraph
from ckptviz.render import DrawOptions, select_view

SIBLINGS = 50_000


@pytest.fixture(scope="module")
def flat() -> ObjectGraph:
    """50 000 variables side by side under the root, as ``tf.train.Checkpoint(v0=…, v1=…)``."""
    return ObjectGraph.from_keys({f"v{i}": ("float32", (2,)) for i in range(SIBLINGS)}, "x/flat")


def test_revealing_one_of_50000_siblings_keeps_the_others_folded(flat: ObjectGraph) -> None:
    target = flat.find("v31337").id
    assert target not in select_view(flat).nodes
    plan = select_view(flat, DrawOptions(reveal=[target], max_nodes=300))
    assert target in plan.nodes and len(plan.nodes) <= 60  # the way to it, a screenful, one stand-in
    (stand_in,) = [s for i, s in plan.nodes.items() if i < 0]
    assert stand_in.hidden_variables == SIBLINGS - (len(plan.nodes) - 2)  # counted, not drawn


def test_expanding_a_node_with_50000_kids_shows_at_most_the_budget(flat: ObjectGraph) -> None:
    plan = select_view(flat, DrawOptions(expand=[0], max_nodes=300))
    assert len(plan.nodes) <= 302
    stand_in = plan.nodes[-1]  # the stand-in for the root's other kids
    assert stand_in.hidden_variables + len(plan.nodes) - 2 == SIBLINGS
    # the stand-in's id names its parent: expanding it is expanding the parent
    assert select_view(flat, DrawOptions(expand=[-1], max_nodes=300)).nodes.keys() == plan.nodes.keys()


def test_a_revealed_node_inside_a_collapsed_one_is_shown() -> None:
    graph = ObjectGraph.from_keys({f"a/b{i}/c": ("float32", (1,)) for i in range(40)}, "x/nested")
    target = graph.find("a/b17/c").id
    assert target not in select_view(graph, DrawOptions(collapse=["a"])).nodes
    plan = select_view(graph, DrawOptions(collapse=["a"], reveal=[target], max_nodes=10))
    assert target in plan.nodes and len(plan.nodes) <= 12  # the hit wins over the fold, within the budget
