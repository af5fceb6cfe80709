"""Long lists of named layers are grouped by the structure of the layers' names."""

from __future__ import annotations

from ckptviz.render import DrawOptions, select_view
from ckptviz.render.tree import Tree
from tests.render.test_overview import big


def test_a_keras3_layer_list_groups_into_stages_and_blocks() -> None:
    graph = big("resnet50_adam")
    tree = Tree(graph)
    prefixes = {g.prefix for g in tree.groups}
    assert {"conv1", "conv2", "conv4", "conv4_block1", "conv5_block3"} <= prefixes
    stage = next(g for g in range(tree.real, tree.real + len(tree.groups)) if tree.group(g).prefix == "conv4")
    blocks = [tree.group(k).label for k in tree.kids[stage]]
    assert blocks == [f"block{i}" for i in range(1, 7)]  # in the list's order
    block = tree.kids[stage][0]
    names = sorted(graph.common_scope(k) for k in tree.kids[block] if graph.common_scope(k))
    assert names[:2] == ["conv4_block1_0_bn", "conv4_block1_0_conv"] and all(
        n.startswith("conv4_block1_") for n in names
    )
    # every layer hangs in exactly one place: the grouping only re-parents the list's items
    items = [e.child for e in graph.out_edges(graph.find("model/_operations").id)]
    assert sorted(k for k in tree.subtree(graph.find("model/_operations").id) if k in set(items)) == sorted(
        items
    )


def test_the_default_picture_shows_stages_of_folded_blocks_not_numbered_boxes() -> None:
    graph = big("resnet50_adam")
    plan = select_view(graph)
    labels = [plan.labels[i].split("\n")[0] for i in plan.nodes]
    assert {"conv2_*", "conv3_*", "conv4_*", "conv5_*", "conv4_block6_*"} <= set(labels)
    assert not any(label.isdigit() for label in labels)  # no box named by a list index
    block = next(i for i in plan.nodes if plan.labels[i].startswith("conv4_block2_*"))
    assert plan.nodes[block].collapsed and "+24 hidden: 18 variables" in plan.labels[block]
    record = next(n for n in plan.to_dict()["nodes"] if n["id"] == block)
    assert record["path"] == "model/conv4_block2_*" and "group of the" in record["tooltip"]
    opened = select_view(graph, DrawOptions(expand=[block]))  # a group id opens like a node's
    assert not opened.nodes[block].collapsed
    assert "conv4_block2_1_conv" in {opened.labels[i].split("\n")[0] for i in opened.nodes}


def test_lists_of_unnamed_items_are_not_grouped() -> None:
    graph = big("bert_base")
    assert Tree(graph).groups == []


def test_a_group_is_named_back_as_drawn() -> None:
    graph = big("resnet50_adam")
    for name in ("conv4_block2_*", "model/conv4_block2_*"):
        plan = select_view(graph, DrawOptions(focus=name))
        drawn = {plan.labels[i].split("\n")[0] for i in plan.nodes}
        assert "conv4_block2_1_conv" in drawn and "conv3_*" not in drawn
