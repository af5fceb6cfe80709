"""The text tree: its folded lines count what they hide as the objects themselves do."""

from __future__ import annotations

import re

from ckptviz.model.checkpoint import human_size
from ckptviz.render.plan import redundant_lists
from ckptviz.render.text import text_tree
from ckptviz.render.tree import tree_of
from tests.render.test_dot import resnet


def test_folded_lines_count_the_hidden_objects() -> None:
    graph = resnet()
    tree = tree_of(graph, redundant_lists(graph))

    def folded(owner: int) -> tuple[str, str, str]:  # counted with Node objects
        hidden = [i for k in tree.kids[owner][3:] for i in tree.subtree(k) if not tree.is_group(i)]
        variables = sum(graph.nodes[i].kind in ("variable", "slot") for i in hidden)
        return str(len(hidden)), str(variables), human_size(sum(graph.nodes[i].nbytes for i in hidden))

    shown = re.findall(r"… (\d+) more: (\d+) variables, (.+)", text_tree(graph, max_children=3))
    model, optimizer = (graph.find(p).id for p in ("model", "optimizer"))
    assert folded(model) in shown and folded(optimizer) in shown
    assert folded(model) == ("502", "320", "90.1 MiB")
