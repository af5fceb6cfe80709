"""The scope tree of a name-based checkpoint (TF1 ``Saver``, Estimator, raw ``SaveV2``): no object
graph, so the keys' ``/``-separated scopes make the tree.

We synthesise one optimizer node per TF1 optimizer name (``model/scope_slots.py`` says which keys
are slots) so the tree draws with the same kinds as an object graph; ``beta1_power`` & co. hang off
the first Adam, as ``iterations`` do in TF2. Object-style keys (``a/.ATTRIBUTES/VARIABLE_VALUE``,
``…/.OPTIMIZER_SLOT/…``) fold into objects.

The tree is the trie of the keys' segments, numbered breadth-first with children sorted by name
(as TF numbers an object graph); slot variables, which no scope reaches, come after. It is built as
columns: each key split once, the scopes found by walking up from distinct paths (each node once,
so a key with thousands of scopes costs linear time), ids given a level at a time with numpy;
``Node`` objects, edges and owners are made on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np

from ..format.entries import Entry
from ..format.naming import OBJECT_GRAPH_KEY
from . import paths as P
from . import scope_slots as S
from .records import KINDS, Attribute, Edge, Node, Slot, value_of

_OPTIMIZER, _VARIABLE, _SLOT, _OTHER = map(KINDS.index, ("optimizer", "variable", "slot", "other"))
_named_tuple = tuple.__new__  # a named tuple from a tuple without a Python call: many at once
_DEEP = 16  # paths deeper than this on average are split segment by segment


def _keys(entries: Mapping[str, Any]) -> S.Keys:
    """The keys sorted and split once, with their shapes (an object graph key left out)."""
    given = list(entries)
    metas = list(entries.values())
    if set(map(type, metas)) <= {Entry}:  # a checkpoint's entries: no conversion needed
        shapes = list(map(attrgetter("shape"), metas))
    else:
        shapes = [value_of(k, m).shape for k, m in zip(given, metas)]
    keys = sorted(given)
    if keys != given:
        shapes = list(map(dict(zip(given, shapes)).__getitem__, keys))
    if OBJECT_GRAPH_KEY in entries:
        at = keys.index(OBJECT_GRAPH_KEY)
        del keys[at], shapes[at]
    cut = list(map(str.rfind, keys, repeat("/")))
    last_id, lasts = _factorize([key[c + 1 :] for key, c in zip(keys, cut)])
    return S.Keys(
        keys,
        dict(zip(keys, range(len(keys)))),
        [key[:c] if c > 0 else "" for key, c in zip(keys, cut)],
        last_id,
        lasts,
        shapes,
        "\n".join(keys),
    )


def _factorize(items: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """``(codes, distinct)`` with ``items[i] == distinct[codes[i]]``, distinct in first-seen order."""
    distinct = list(dict.fromkeys(items))
    code = dict(zip(distinct, range(len(distinct))))
    return np.fromiter(map(code.__getitem__, items), np.int64, len(items)), distinct


class _Trie:
    """Every scope of the paths ``ensure``d.

    ``ensure`` calls are numbered in the order the tree is made (key by key, two per key); a node
    is created by the first call whose path runs through it, which decides its raw local name
    (unescaped when that call's path is an object path) and, among siblings of one name, its rank
    (``created``). ``node(path)`` is the node an ensured path ends at."""

    def __init__(self, count: int) -> None:
        self.first: dict[str, int] = {}  # path -> number of the first call through it
        self.escaped = np.zeros(2 * count, bool)  # per call number: an object (escaped) path

    def ensure_all(self, paths: list[str], calls: list[int]) -> None:
        """Non-empty plain paths of increasing, distinct call numbers (the keys themselves)."""
        self.first.update(zip(paths, calls))

    def ensure(self, path: str, call: int, escaped: bool = False) -> None:
        if path and call < self.first.get(path, call + 1):  # "": the root, made already
            self.first[path] = call
            self.escaped[call] = escaped

    def build(self) -> None:
        sizes = np.fromiter(map(len, self.first), np.int64, len(self.first))
        depths = np.fromiter(map(str.count, self.first, repeat("/")), np.int64, len(self.first))
        if int(sizes @ depths) > _DEEP * int(sizes.sum()) + (1 << 20):
            self._down()  # deep paths: every scope's whole path would cost quadratic memory
        else:
            self._up()
        self.count = len(self.segment)

    def _up(self) -> None:
        """Walking up from the distinct paths a level at a time, a scope known by its path (the
        root by None: ``""`` is a first empty segment); then the first call below each scope."""
        paths: list[str | None] = [None, *self.first]
        pos = dict(zip(paths, range(len(paths))))
        parent = [np.full(1, -1, np.int64)]
        segments: list[str] = [""]
        start = 1
        while start < len(paths):  # each level of new scopes once
            scopes: list[str] = paths[start:]  # type: ignore[assignment]
            cut = list(map(str.rfind, scopes, repeat("/")))
            above = [p[:c] if c >= 0 else None for p, c in zip(scopes, cut)]
            segments += [p[c + 1 :] for p, c in zip(scopes, cut)]
            new = [h for h in dict.fromkeys(above) if h not in pos]
            pos.update(zip(new, range(len(paths), len(paths) + len(new))))
            parent.append(np.fromiter(map(pos.__getitem__, above), np.int64, len(above)))
            start = len(paths)
            paths += new
        count = len(paths)
        self.pos, self.segment = pos, segments
        self.parent = np.concatenate(parent)
        depth = np.ones(count, np.int64)
        depth[0] = 0
        depth[1:] += np.fromiter(map(str.count, paths[1:], repeat("/")), np.int64, count - 1)  # type: ignore[arg-type]
        first = np.full(count, 2 * len(self.escaped) + 1, np.int64)
        first[1 : len(self.first) + 1] = np.fromiter(self.first.values(), np.int64, len(self.first))
        by_depth = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max(initial=0)) + 2))
        for d in range(len(bounds) - 2, 1, -1):  # a scope is created by the first call below it
            level = by_depth[bounds[d] : bounds[d + 1]]
            np.minimum.at(first, self.parent[level], first[level])
        self.created = np.empty(count, np.int64)  # creation order: by first call, shallow first
        self.created[np.lexsort((depth, first))] = np.arange(count)
        local = list(segments)
        for i in (np.flatnonzero(self.escaped[first[1:]]) + 1).tolist():  # made by an object path
            local[i] = P.unescape_local_name(segments[i])
        self.local = local

    def _down(self) -> None:
        """Segment by segment from the root, the paths in call order: memory linear in the paths."""
        kids: dict[tuple[int, str], int] = {}
        parent, segments, local = [-1], [""], [""]
        ends: dict[str | None, int] = {}
        for path, call in sorted(self.first.items(), key=itemgetter(1)):
            node, escaped = 0, bool(self.escaped[call])
            for segment in path.split("/"):
                child = kids.get((node, segment))
                if child is None:
                    child = kids[node, segment] = len(parent)
                    parent.append(node)
                    segments.append(segment)
                    local.append(P.unescape_local_name(segment) if escaped else segment)
                node = child
            ends[path] = node
        self.pos, self.segment, self.local = ends, segments, local
        self.parent = np.asarray(parent, np.int64)
        self.created = np.arange(len(parent))  # made in call order already

    def node(self, path: str) -> int:
        return self.pos[path] if path else 0


class ScopeTree:
    """A scope tree as columns. Ids: ``0`` the root, then breadth-first, then the slot variables
    (the first ``reachable`` ids are the tree's). ``kind_codes`` index ``KINDS``; ``attr_key`` lists
    the keys by node (``attr_ptr``: CSR), each node's in key order; ``node_of`` is each key's node."""

    def __init__(self, entries: Mapping[str, Any]) -> None:
        self._entries = entries
        k = self.k = _keys(entries)
        keys, n = k.keys, len(k.keys)
        tf1 = S.tf1_slots(k)
        is_object = np.zeros(n, bool)
        if P._ATTR_SEP in k.text:  # object-style keys (an object-based checkpoint's, without its graph)
            is_object = np.fromiter(map(str.__contains__, keys, repeat(P._ATTR_SEP)), bool, n)
        tf1_slot = (tf1.var >= 0) & ~is_object
        is_plain = ~is_object & ~tf1_slot
        plain = np.flatnonzero(is_plain)
        estimator = {i: e for i, e in S.estimator_slots(k).items() if is_plain[i]}
        trie = _Trie(n)
        rooted = plain[:1] if n and keys[0] == "" else plain[:0]  # the empty key: the root's own
        plain_keys = list(map(keys.__getitem__, plain[len(rooted) :].tolist()))
        trie.ensure_all(plain_keys, (plain[len(rooted) :] * 2).tolist())
        optimizers: list[str] = []  # the path of every optimizer
        slot_paths: dict[int, tuple[str, str, str]] = {}
        self._attr_of: dict[int, tuple[str, str]] = {}  # object keys: (object path, attribute name)
        for i in np.flatnonzero(is_object).tolist():
            obj, attr = P.split_key(keys[i])  # type: ignore[misc]
            slot = P.split_slot_path(obj)
            self._attr_of[i] = (obj, P.unescape_local_name(attr))
            if slot is not None:
                trie.ensure(slot[0], 2 * i, escaped=True)
                trie.ensure(slot[1], 2 * i + 1, escaped=True)
                optimizers.append(slot[1])
                slot_paths[i] = slot
            else:
                trie.ensure(obj, 2 * i, escaped=True)
        tf1_keys = np.flatnonzero(tf1_slot)
        bases, first = np.unique(tf1.base[tf1_keys], return_index=True)
        for b, i in zip(bases.tolist(), tf1_keys[first].tolist()):
            trie.ensure(tf1.bases[b], 2 * i)  # a TF1 optimizer, made by its first slot
            optimizers.append(tf1.bases[b])
        for i, (_, scope, _) in estimator.items():
            trie.ensure(scope, 2 * i + 1)
            optimizers.append(scope)
        trie.build()
        opt_nodes = sorted({trie.node(p) for p in optimizers})

        # where each key attaches: its scope, or a slot variable no scope reaches (in key order)
        is_detached = tf1_slot.copy()
        is_detached[list(slot_paths)] = True
        detached = np.flatnonzero(is_detached)
        attach = np.empty(n, np.int64)
        attach[detached] = trie.count + np.arange(len(detached))
        attach[rooted] = 0
        attach[plain[len(rooted) :]] = np.fromiter(
            map(trie.pos.__getitem__, plain_keys), np.int64, len(plain_keys)
        )
        for i, (obj, _) in self._attr_of.items():
            if i not in slot_paths:
                attach[i] = trie.node(obj)

        # beta1_power & co. hang off the first Adam made; global_step stays at the root
        parent = trie.parent.copy()
        inserted = trie.created.copy()  # rank among siblings of one local name
        moved: dict[int, str] = {}  # node -> its key, kept as its path
        aliases: list[int] = []
        adams = sorted({trie.node(p) for p in optimizers if p in S.ADAM_FAMILY})
        adam = min(adams, key=trie.created.__getitem__) if adams else -1
        if adam >= 0:
            state = plain[S.adam_state(k.lasts)[k.last_id[plain]]].tolist()
            taken = {trie.segment[c] for c in np.flatnonzero(parent == adam).tolist()}
            for i in state:
                if i in estimator:
                    continue
                node = int(attach[i])
                segment = trie.segment[node]
                if parent[node] != 0:
                    aliases.append(node)
                elif segment not in taken:  # (a scope of that name under it already keeps its place)
                    parent[node] = adam
                    inserted[node] = trie.count + len(moved)  # after its own children
                    moved[node] = segment
                    taken.add(segment)
        self._number(trie, parent, inserted)
        self.reachable = count = trie.count
        self.count = count + len(detached)
        self.to_new = np.concatenate([self.new, np.arange(count, self.count)])  # trie node -> id
        self.node_of = self.to_new[attach]
        self._paths(trie, detached, moved, aliases, adam)
        self._kinds(opt_nodes)
        self._slots(trie, tf1, estimator, slot_paths, is_object)
        self._full_names(is_object)
        del self.new, self.order, self._depth, self._parent

    def _number(self, trie: _Trie, parent: np.ndarray, inserted: np.ndarray) -> None:
        """Ids breadth-first, a level at a time, children sorted by local name (ties: made first)."""
        count, local = trie.count, trie.local
        distinct = sorted(set(local))
        rank = dict(zip(distinct, range(len(distinct))))
        self.has_vars_edge = "vars" in rank  # what a Keras weights file's tree has
        ranks = np.fromiter(map(rank.__getitem__, local), np.int64, count)
        kids = np.lexsort((inserted[1:], ranks[1:], parent[1:])) + 1
        ptr = np.zeros(count + 1, np.int64)
        np.cumsum(np.bincount(parent[1:], minlength=count), out=ptr[1:])
        levels = [np.zeros(1, np.int64)]
        frontier = levels[0]
        kid_list, ptr_list = kids.tolist(), ptr.tolist()
        while True:
            if len(frontier) < 32:  # a narrow level (a deep chain): in Python, no numpy call's overhead
                found = [c for f in frontier.tolist() for c in kid_list[ptr_list[f] : ptr_list[f + 1]]]
                frontier = np.asarray(found, np.int64)
            else:
                starts, lengths = ptr[frontier], ptr[frontier + 1] - ptr[frontier]
                at = np.arange(int(lengths.sum())) + np.repeat(
                    starts - (np.cumsum(lengths) - lengths), lengths
                )
                frontier = kids[at]
            if not len(frontier):
                break
            levels.append(frontier)
        self.order = np.concatenate(levels)  # id -> trie node
        self._depth = np.repeat(np.arange(len(levels)), [len(x) for x in levels])
        self.new = np.empty(count, np.int64)  # trie node -> id
        self.new[self.order] = np.arange(count)
        self._parent = parent

    def _paths(
        self, trie: _Trie, detached: np.ndarray, moved: dict[int, str], aliases: list[int], adam: int
    ) -> None:
        """Parents, segments and edges by id: each tree node's edge from its parent, in id order
        (which is its parent's children in order, parents in order), then the aliases."""
        count, total, new = self.reachable, self.count, self.new
        order = self.order.tolist()
        parent = np.full(total, -1, np.int64)
        parent[1:count] = new[self._parent[self.order[1:]]]
        segment = list(map(trie.segment.__getitem__, order)) + [""] * (total - count)
        local = list(map(trie.local.__getitem__, order[1:]))
        alias = [(int(new[adam]), trie.local[a], int(new[a])) for a in aliases]
        self._edge_parent = np.concatenate([parent[1:count], [p for p, _, _ in alias]]).astype(np.int64)
        self._edge_child = np.concatenate([np.arange(1, count), [c for _, _, c in alias]]).astype(np.int64)
        self._edge_local = local + [name for _, name, _ in alias]
        adjacency = P.Adjacency(total, self._edge_parent, self._edge_child, self._edge_local)
        depth = self._depth.tolist() + [0] * (total - count)
        paths = self.paths = P.NodePaths.of_tree(parent.tolist(), segment, adjacency, depth, count)
        keys = self.k.keys
        # a slot variable's path is its key (its object path for an object-style one)
        paths.special.update(zip(range(count, total), map(keys.__getitem__, detached.tolist())))
        for j in np.flatnonzero(np.isin(detached, list(self._attr_of))).tolist():
            paths.special[count + j] = self._attr_of[int(detached[j])][0]
        for node, key in moved.items():
            paths.special[int(new[node])] = key

    def _kinds(self, opt_nodes: list[int]) -> None:
        """Optimizers, then variables (a node with a ``VARIABLE_VALUE``); slots come with the links."""
        n = len(self.k.keys)
        self.attr_key = np.lexsort((np.arange(n), self.node_of))  # keys by node, then key order
        self.attr_ptr = np.zeros(self.count + 1, np.int64)
        np.cumsum(np.bincount(self.node_of, minlength=self.count), out=self.attr_ptr[1:])
        named_value = np.ones(n, bool)
        for i, (_, name) in self._attr_of.items():
            named_value[i] = name == P.VARIABLE_VALUE
        codes = np.full(self.count, _OTHER, np.int8)
        codes[self.node_of[named_value]] = _VARIABLE
        codes[self.to_new[opt_nodes]] = _OPTIMIZER
        self.kind_codes = codes

    def _slots(
        self,
        trie: _Trie,
        tf1: S.TF1Slots,
        estimator: dict[int, tuple[int, str, str]],
        slot_paths: dict[int, tuple[str, str, str]],
        is_object: np.ndarray,
    ) -> None:
        """The slot links, in key order, made from columns: key, optimizer, variable, name, slot."""
        k, node_of, to_new = self.k, self.node_of, self.to_new
        found = np.flatnonzero(tf1.var >= 0)
        code = tf1.base[found]
        # how many slots of its optimizer each variable (or partition) has says which N is which;
        # object-style keys are counted, though they are no TF1 slots
        heads = tf1.var[found]  # the scope above a slot: its variable's key, or a partition's
        parts = np.flatnonzero(tf1.partition[found])
        heads[parts] = len(k.keys) + _factorize(list(map(k.heads.__getitem__, found[parts].tolist())))[0]
        _, per, counts = np.unique(
            heads * (len(tf1.bases) + 1) + code, return_inverse=True, return_counts=True
        )
        own = ~is_object[found]
        found, code, slot_count = found[own], code[own], counts[per.reshape(-1)][own]
        nth = tf1.n[found]
        cases, which = np.unique((code * (len(k.keys) + 1) + slot_count) * 6 + nth, return_inverse=True)
        named = [
            S.tf1_slot_name(tf1.bases[c // 6 // (len(k.keys) + 1)], c % 6, c // 6 % (len(k.keys) + 1), "")
            for c in cases.tolist()
        ]
        name = np.array([*named, ""], object)[which.reshape(-1)]
        unnamed = name == ""  # an optimizer ckptviz does not know: the slot's suffix
        name[unnamed] = np.array(k.lasts, object)[k.last_id[found[unnamed]]]
        opt_of = to_new[[trie.pos.get(b, 0) for b in tf1.bases] or [0]]  # (those made)
        at, opt, var, slot = found, opt_of[code], node_of[tf1.var[found]], node_of[found]
        other = []
        for i, (v, scope, text) in estimator.items():
            other.append((i, int(to_new[trie.node(scope)]), int(node_of[v]), text, int(node_of[i])))
        if slot_paths:
            variable_of = dict(zip(k.keys, node_of.tolist()))
            for i, (var_path, optimizer, text) in slot_paths.items():
                var_id = variable_of.get(var_path)
                if var_id is None:  # an object-style slot: its variable is an object path, not a key
                    var_id = self.paths.find(var_path)
                if var_id is not None:
                    other.append((i, int(to_new[trie.node(optimizer)]), var_id, text, int(node_of[i])))
        if other:
            more = list(zip(*other))
            at, opt, var, slot = (np.concatenate([x, np.asarray(more[j], np.int64)]) for j, x in ((0, at), (1, opt), (2, var), (4, slot)))  # fmt: skip
            name = np.concatenate([name, np.array(more[3], object)])
        by_key = np.argsort(at, kind="stable")
        self._slot_columns = (opt[by_key], var[by_key], name[by_key], slot[by_key])
        self.kind_codes[slot] = _SLOT

    def _full_names(self, is_object: np.ndarray) -> None:
        """A node's full name: the first key (in key order) it holds as a plain name."""
        keys = self.k.keys
        plain = np.flatnonzero(~is_object)
        if len(plain) and keys[plain[0]] == "":  # the empty key names nothing
            plain = plain[1:]
        full = np.full(self.count, "", object)
        nodes, first = np.unique(self.node_of[plain], return_index=True)
        full[nodes] = list(map(keys.__getitem__, plain[first].tolist()))
        self.full_names: list[str] = full.tolist()

    # -- made on first use -----------------------------------------------------------------------

    @property
    def slots(self) -> list[Slot]:
        """The inferred slot links, in key order."""
        columns = (c.tolist() for c in self._slot_columns)
        return list(map(_named_tuple, repeat(Slot), zip(*columns, repeat(True))))

    @property
    def edges(self) -> list[Edge]:
        parent, child = self._edge_parent.tolist(), self._edge_child.tolist()
        return list(map(_named_tuple, repeat(Edge), zip(parent, self._edge_local, child)))

    def _attribute_names(self) -> list[str]:
        names = [P.VARIABLE_VALUE] * len(self.k.keys)
        for i, (_, name) in self._attr_of.items():
            names[i] = name
        return names

    def node(self, i: int) -> Node:
        keys, entries = self.k.keys, self._entries
        held = self.attr_key[self.attr_ptr[i] : self.attr_ptr[i + 1]].tolist()
        attrs = tuple(
            Attribute(self._attr_of[j][1], "", keys[j], (keys[j],))
            if j in self._attr_of
            else Attribute(P.VARIABLE_VALUE, keys[j], keys[j], (keys[j],))
            for j in held
        )
        return Node(
            id=i,
            kind=KINDS[int(self.kind_codes[i])],
            attributes=attrs,
            values=tuple(value_of(keys[j], entries[keys[j]]) for j in held),
            reachable=i < self.reachable,
            paths=self.paths,
        )

    def holders(self) -> tuple[list[str], list[int]]:
        """The keys by node and then key (``owner``'s order), and each one's node."""
        order = self.attr_key.tolist()
        return list(map(self.k.keys.__getitem__, order)), self.node_of[order].tolist()

    def holder(self, key: str) -> int | None:
        i = self.k.position.get(key)
        return None if i is None else int(self.node_of[i])

    @property
    def owner(self) -> dict[str, tuple[int, str]]:
        """``{key: (node id, attribute name)}``, by node and then key."""
        keys, order = self.k.keys, self.attr_key.tolist()
        names = self._attribute_names()
        at = zip(self.node_of[order].tolist(), map(names.__getitem__, order))
        return dict(zip(map(keys.__getitem__, order), at))


def build_scope_tree(entries: Mapping[str, Any]) -> ScopeTree:
    """The scope tree of ``entries`` (``{key: Entry | (dtype, shape) | {...}}``; an object graph
    key among them is left out)."""
    return ScopeTree(entries)
