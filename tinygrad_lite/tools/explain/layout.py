"""Where the explainer page draws each node: a layered layout, left to right, in Python.

The page (``explain``) draws a graph of ops and tensors without the Graphviz program, so
the positions are computed here, by the usual recipe for drawing a computation (Sugiyama's,
as Graphviz's ``dot`` does it, in a few steps):

1. **layers**: every op goes one column right of its latest input, so data flows left to
   right; a leaf (a parameter, a constant) goes just left of the op that uses it;
2. **order**: within each column, nodes are sorted a few times by the mean position of
   their neighbours (the barycenter heuristic), which removes most crossings; an edge
   that skips columns gets an invisible waypoint in each, so that it is routed too;
3. **coordinates**: columns as wide as their widest node; each node moved towards its
   neighbours' height without overlapping the one above it.

Modules make the graph nested: the ops a ``Linear`` ran sit inside a frame named after it.
A *scope* is one call of a module, laid out on its own first (its inputs enter as ports on
its left edge, its outputs leave on its right edge), then placed in its parent as one big
node. A folded scope is a small box instead, and gets a picture of its own (a *view*) that
the page opens when the box is clicked. ``fold`` picks which scopes to fold so that a view
keeps about ``limit`` nodes, however large the network.

>>> nodes = [Node(0, 0, 40, 20, leaf=True), Node(1, 0, 40, 20), Node(2, 0, 40, 20)]
>>> views = layout(nodes, [(0, 0, 1), (1, 1, 2)], [Scope(0, -1, "")], folded=set())
>>> [(n["node"], n["x"], n["y"]) for n in views[0]["nodes"]]
[(0, 0.0, 0.0), (1, 80.0, 0.0), (2, 160.0, 0.0)]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

ROOT = 0  # the scope of the whole computation
COLUMN_GAP = 40.0  # between columns
ROW_GAP = 14.0  # between nodes of a column
PAD = 10.0  # inside a module's frame, around its content
TITLE = 18.0  # the frame's name, above its content
BOX_HEIGHT = 38.0  # a folded module
SWEEPS = 4  # barycenter passes, each down then up
SETTLE = 6  # passes that move nodes towards their neighbours
COPIES = 3  # a leaf used by this many parts of a picture or fewer is drawn beside each


@dataclass(frozen=True)
class Node:
    """A node to place: a graph node id, the scope it belongs to, its size."""

    node: int
    scope: int
    width: float
    height: float
    leaf: bool = False  # a parameter or constant: placed next to its first consumer


@dataclass(frozen=True)
class Scope:
    """One module call: its id (ROOT is 0), its parent's, the title of its frame or box."""

    scope: int
    parent: int
    title: str


# ---------------------------------------------------------------------------- folding


def fold(nodes: list[Node], scopes: list[Scope], limit: int) -> set[int]:
    """The scopes to fold so that the top picture shows at most about ``limit`` nodes.

    Scopes at the same depth fold together, deepest first kept open: depth d folded means
    each scope d levels below the root is one box. The deepest cut that fits is taken; if
    none fits, the shallowest one that still shows more than one box (folding everything
    into a single box would show nothing). A scope that holds the whole graph is never
    folded.
    """
    depth = _depths(scopes)
    parent = {s.scope: s.parent for s in scopes}
    everything = _whole_graph_scopes(nodes, scopes)
    cuts: dict[int, set[int]] = defaultdict(set)  # depth -> the scopes there that may fold
    for s in scopes:
        if s.scope != ROOT and s.scope not in everything:
            cuts[depth[s.scope]].add(s.scope)
    holders = []  # for each node, the scopes around it
    for n in nodes:
        chain, scope = set(), n.scope
        while scope != ROOT:
            chain.add(scope)
            scope = parent[scope]
        holders.append(chain)

    def shown(folded: set[int]) -> int:  # the boxes, and the nodes in no box
        return len(folded) + sum(1 for chain in holders if not chain & folded)

    for cut in sorted(cuts, reverse=True):  # the deepest cut that fits
        if shown(cuts[cut]) <= limit:
            return cuts[cut] if shown(set()) > limit else set()
    for cut in sorted(cuts):  # else the shallowest with more than one box
        if len(cuts[cut]) > 1:
            return cuts[cut]
    return set()


def _depths(scopes: list[Scope]) -> dict[int, int]:
    """Depth of each scope (ROOT 0); parents are listed before their children."""
    depth = {ROOT: 0}
    for s in scopes:
        if s.scope != ROOT:
            depth[s.scope] = depth[s.parent] + 1
    return depth


def _whole_graph_scopes(nodes: list[Node], scopes: list[Scope]) -> set[int]:
    """Scopes on the chain from the root that hold every node but a few (a model called
    once around all of it: folding it would leave a single box)."""
    inside: dict[int, int] = defaultdict(int)  # nodes in each scope, children included
    parent = {s.scope: s.parent for s in scopes}
    for n in nodes:
        s = n.scope
        while s != ROOT:
            inside[s] += 1
            s = parent[s]
    total = len(nodes)
    return {s for s, count in inside.items() if count * 4 >= total * 3}


# ---------------------------------------------------------------------------- layout


def layout(
    nodes: list[Node],
    edges: list[tuple[int, int, int]],
    scopes: list[Scope],
    folded: set[int],
    box_width: dict[int, float] | None = None,
) -> list[dict[str, Any]]:
    """The pictures (views) of the graph: the root's first, then one per folded scope.

    ``edges`` are (edge id, source node, target node); ``scopes`` list parents before
    children. Each view is a dict of plain lists (``nodes``, ``edges``, ``frames``,
    ``boxes``, ``ports``) with absolute coordinates, ready to be drawn as SVG.
    """
    children: dict[int, list[int]] = defaultdict(list)
    for s in scopes:
        if s.scope != ROOT:
            children[s.parent].append(s.scope)
    titles = {s.scope: s.title for s in scopes}
    parent = {s.scope: s.parent for s in scopes}
    size = {n.node: (n.width, n.height) for n in nodes}
    widths = box_width or {}
    local: dict[int, _Local] = {}
    # Children before parents: a scope's size is known before its parent places it.
    for scope in reversed(_preorder(children)):
        members = [n for n in nodes if n.scope == scope]
        local[scope] = _Local(scope, members, children[scope], edges, nodes, parent)
        inner = {c: local[c] for c in children[scope]}
        sizes = {
            c: (widths.get(c, 120.0), BOX_HEIGHT)
            if c in folded
            else (inner[c].width + 2 * PAD, inner[c].height + 2 * PAD + TITLE)
            for c in children[scope]
        }
        local[scope].place(size, sizes)
    views: list[dict[str, Any]] = []
    todo = [(ROOT, -1)]  # (scope, the view its box is drawn in), in the order views are made
    while todo:
        scope, parent_view = todo.pop(0)
        view = _View(len(views), scope, parent_view, titles)
        view.draw(local, folded, todo, first_free=len(views) + 1 + len(todo))
        views.append(view.as_dict())
    return views


def _preorder(children: dict[int, list[int]]) -> list[int]:
    order, stack = [], [ROOT]
    while stack:
        s = stack.pop()
        order.append(s)
        stack.extend(reversed(children[s]))
    return order


# Keys of the things placed in one scope's picture:
#   ("n", node)        a node of this scope
#   ("c", node, k)     the k-th copy of a leaf that several parts of this scope use
#   ("s", scope)       a child scope (a frame, or a box when folded)
#   ("in", node)       a port on the left edge: node (outside) feeds something inside
#   ("out", node)      a port on the right edge: node (inside) feeds something outside
#   ("d", i)           a waypoint of a long edge
Key = tuple[Any, ...]


class _Local:
    """One scope laid out by itself, in its own coordinates (0, 0 at its top left)."""

    def __init__(
        self,
        scope: int,
        members: list[Node],
        child_scopes: list[int],
        edges: list[tuple[int, int, int]],
        nodes: list[Node],
        parent: dict[int, int],
    ) -> None:
        self.scope = scope
        where = {n.node: n.scope for n in nodes}
        self.leaves = {n.node for n in members if n.leaf}
        chain: dict[int, list[int]] = {}  # scope -> itself and its ancestors

        def ancestors(s: int) -> list[int]:
            if s not in chain:
                found = [s]
                while found[-1] != ROOT:
                    found.append(parent[found[-1]])
                chain[s] = found
            return chain[s]

        def represent(node: int) -> Key | None:
            """What stands for ``node`` here: itself, the child scope holding it, or None."""
            path = ancestors(where[node])
            if path[0] == scope:
                return ("n", node)
            if scope in path:
                return ("s", path[path.index(scope) - 1])
            return None

        # (source key, target key, the graph node whose value travels, edge ids)
        links: dict[tuple[Key, Key, int], list[int]] = {}
        for edge_id, src, dst in edges:
            a, b = represent(src), represent(dst)
            if a is None and b is None or a == b:
                continue
            if a is None:
                a = ("in", src)
            if b is None:
                b = ("out", src)
            links.setdefault((a, b, src), []).append(edge_id)
        self.links = links
        # Nodes and child scopes in the order they were computed (node ids follow it).
        first = {c: min(n.node for n in nodes if c in ancestors(n.scope)) for c in child_scopes}
        inner: list[tuple[int, Key]] = [(n.node, ("n", n.node)) for n in members]
        inner += [(first[c], ("s", c)) for c in child_scopes]
        # Ports first: in a column, ties in the ordering keep this order.
        self.items: list[Key] = sorted(
            {a for a, _, _ in links if a[0] == "in"}, key=_first_use(edges)
        )
        self.items += [key for _, key in sorted(inner)]
        self.items += sorted({b for _, b, _ in links if b[0] == "out"}, key=_first_use(edges))
        self.pos: dict[Key, tuple[float, float, float, float]] = {}
        self.uses: dict[Key, int] = {}  # leaves and ports drawn without their edges: uses
        self.routes: list[tuple[Key, Key, int, list[int], list[Key]]] = []
        self.width = self.height = 0.0

    def place(
        self, size: dict[int, tuple[float, float]], scope_size: dict[int, tuple[float, float]]
    ) -> None:
        """Layers, order, coordinates, for this scope's items (child scopes' sizes given)."""
        dims: dict[Key, tuple[float, float]] = {}
        for key in self.items:
            if key[0] == "n":
                dims[key] = size[key[1]]
            elif key[0] == "s":
                dims[key] = scope_size[key[1]]
            else:
                dims[key] = (0.0, 0.0)
        links = self._copy_shared_leaves(dims)
        layer = self._layers(links)
        columns = self._route(links, layer, dims)
        self._order(columns)
        self._coordinates(columns, dims)

    def _copy_shared_leaves(
        self, dims: dict[Key, tuple[float, float]]
    ) -> list[tuple[Key, Key, int, list[int]]]:
        """A leaf used by a few parts of this picture is drawn once beside each of them; a
        leaf used by many (a recurrent cell's weights, used at each of 25 steps) once, at
        the left, marked with its number of uses instead of as many long edges."""
        users: dict[Key, list[Key]] = defaultdict(list)
        for a, b, _ in self.links:
            if (a[0] == "in" or (a[0] == "n" and a[1] in self.leaves)) and b not in users[a]:
                users[a].append(b)  # (an input port too: data that enters a frame)
        self.uses = {a: len(b) for a, b in users.items() if len(b) > COPIES}
        links = []
        for (a, b, src), ids in self.links.items():
            if a in self.uses:
                continue  # not drawn
            if a[0] == "n" and a in users and len(users[a]) > 1:
                copy = ("c", a[1], users[a].index(b))
                if copy not in dims:
                    dims[copy] = dims[a]
                    self.items.append(copy)
                a = copy
            links.append((a, b, src, ids))
        for leaf, used_by in users.items():
            if leaf[0] == "n" and 1 < len(used_by) <= COPIES:
                self.items.remove(leaf)
        return links

    def _layers(self, links: list[tuple[Key, Key, int, list[int]]]) -> dict[Key, int]:
        """Column of each item: ops one right of their latest input, ports at the edges,
        leaves just left of their first consumer."""
        preds: dict[Key, list[Key]] = defaultdict(list)
        for a, b, _, _ in links:
            preds[b].append(a)
        is_leaf = {k for k in self.items if k[0] == "c" or (k[0] == "n" and k[1] in self.leaves)}
        layer: dict[Key, int] = {}
        for key in self.items:  # recorded order: every input comes before its use
            if key[0] == "in":
                layer[key] = 0
        for key in self.items:
            if key[0] in ("n", "s") and key not in is_leaf:
                layer[key] = 1  # filled in below, in order
        for key in self.items:  # in the order computed: inputs have their column already
            if key not in layer or key[0] not in ("n", "s"):
                continue
            inputs = [layer.get(a, -1) for a in preds[key] if a not in is_leaf]
            layer[key] = max([0, *inputs]) + 1
        # An op fed only by leaves and ports (x[t] of a sequence) moves right, next to its
        # first use, instead of waiting in the first column with a long edge.
        succs: dict[Key, list[Key]] = defaultdict(list)
        for a, b, _, _ in links:
            succs[a].append(b)
        for key in reversed(self.items):
            if (
                key in layer
                and key[0] in ("n", "s")
                and not any(a not in is_leaf and a[0] != "in" for a in preds[key])
            ):
                later = [layer[b] for b in succs[key] if b in layer and b[0] != "out"]
                if later:
                    layer[key] = max(layer[key], min(later) - 1)
        last = max(layer.values(), default=0) + 1
        for key in self.items:
            if key[0] == "out":
                layer[key] = last
        for key in is_leaf:
            users = [layer[b] for a, b, _, _ in links if a == key and b in layer]
            layer[key] = max(0, min(users, default=1) - 1)
        return layer

    def _route(
        self,
        links: list[tuple[Key, Key, int, list[int]]],
        layer: dict[Key, int],
        dims: dict[Key, tuple[float, float]],
    ) -> list[list[Key]]:
        """Columns of keys, with a waypoint in every column a long edge crosses."""
        columns: list[list[Key]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
        for key in self.items:
            columns[layer[key]].append(key)
        self.preds: dict[Key, list[Key]] = defaultdict(list)
        self.succs: dict[Key, list[Key]] = defaultdict(list)
        for a, b, src, ids in links:
            path = [a]
            for col in range(layer[a] + 1, layer[b]):
                waypoint = ("d", len(dims))
                dims[waypoint] = (0.0, 0.0)
                columns[col].append(waypoint)
                path.append(waypoint)
            path.append(b)
            for u, v in zip(path, path[1:]):
                self.succs[u].append(v)
                self.preds[v].append(u)
            self.routes.append((a, b, src, ids, path[1:-1]))
        return columns

    def _order(self, columns: list[list[Key]]) -> None:
        """Barycenter sweeps: sort each column by its neighbours' mean position."""
        index = {k: i for col in columns for i, k in enumerate(col)}
        for _ in range(SWEEPS):
            for c in range(1, len(columns)):
                _sort_column(columns[c], self.preds, index)
            for c in range(len(columns) - 2, -1, -1):
                _sort_column(columns[c], self.succs, index)

    def _coordinates(self, columns: list[list[Key]], dims: dict[Key, tuple[float, float]]) -> None:
        x = 0.0
        left: list[float] = []
        widths: list[float] = []
        for col in columns:
            width = max((dims[k][0] for k in col), default=0.0)
            left.append(x)
            widths.append(width)
            x += width + COLUMN_GAP
        center: dict[Key, float] = {}
        for col in columns:  # stacked top-down to start with
            y = 0.0
            for k in col:
                center[k] = y + dims[k][1] / 2
                y += dims[k][1] + ROW_GAP
        for i in range(SETTLE):
            order = range(len(columns)) if i % 2 == 0 else range(len(columns) - 1, -1, -1)
            for c in order:
                col = columns[c]
                wanted = [_mean_y(k, self.preds, self.succs, center) for k in col]
                _pack(col, wanted, dims, center)
        top = min((center[k] - dims[k][1] / 2 for col in columns for k in col), default=0.0)
        for c, col in enumerate(columns):
            for k in col:
                w, h = dims[k]
                self.pos[k] = (left[c] + (widths[c] - w) / 2, center[k] - h / 2 - top, w, h)
        self.width = max(x - COLUMN_GAP, 0.0)
        self.height = max((y + h for _, y, _, h in self.pos.values()), default=0.0)
        # Ports sit on the frame's edges.
        for k, (_, y, _, _) in list(self.pos.items()):
            if k[0] == "in":
                self.pos[k] = (0.0, y, 0.0, 0.0)
            elif k[0] == "out":
                self.pos[k] = (self.width, y, 0.0, 0.0)


def _first_use(edges: list[tuple[int, int, int]]) -> Any:
    first: dict[int, int] = {}
    for i, (_, src, _) in enumerate(edges):
        first.setdefault(src, i)
    return lambda key: first.get(key[1], 0)


def _sort_column(col: list[Key], neighbours: dict[Key, list[Key]], index: dict[Key, int]) -> None:
    def barycenter(k: Key) -> float:
        near = [index[n] for n in neighbours.get(k, ()) if n in index]
        return sum(near) / len(near) if near else index[k]

    col.sort(key=barycenter)  # stable: ties keep their order
    for i, k in enumerate(col):
        index[k] = i


def _mean_y(
    k: Key, preds: dict[Key, list[Key]], succs: dict[Key, list[Key]], center: dict[Key, float]
) -> float:
    near = [center[n] for n in (*preds.get(k, ()), *succs.get(k, ()))]
    return sum(near) / len(near) if near else center[k]


def _pack(
    col: list[Key], wanted: list[float], dims: dict[Key, tuple[float, float]], center: dict
) -> None:
    """Put each node of a column at its wanted height, or just below the one above it."""
    bottom = -float("inf")
    for k, y in zip(col, wanted):
        h = dims[k][1]
        y = max(y, bottom + h / 2 + (ROW_GAP if bottom > -float("inf") else 0.0))
        center[k] = y
        bottom = y + h / 2


# ----------------------------------------------------------------------------- views


class _View:
    """One picture: a scope's layout with its open children drawn inside, in place."""

    def __init__(self, index: int, scope: int, parent: int, titles: dict[int, str]) -> None:
        self.index, self.scope, self.parent, self.titles = index, scope, parent, titles
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []
        self.boxes: list[dict[str, Any]] = []
        self.ports: list[dict[str, Any]] = []
        self.width = self.height = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "view": self.index,
            "scope": self.scope,
            "parent": self.parent,
            "title": self.titles.get(self.scope, ""),
            "width": round(self.width, 1),
            "height": round(self.height, 1),
            "nodes": self.nodes,
            "edges": self.edges,
            "frames": self.frames,
            "boxes": self.boxes,
            "ports": self.ports,
        }

    def draw(self, local: dict[int, _Local], folded: set[int], todo: list, first_free: int) -> None:
        """Place this scope's items, and its open children's inside their frames; queue a
        view for each folded child (``first_free`` is the number the next one will get)."""
        top = local[self.scope]
        self.width, self.height = top.width, top.height
        stack = [(self.scope, 0.0, 0.0)]
        while stack:
            scope, dx, dy = stack.pop()
            here = local[scope]
            for key, (x, y, w, h) in here.pos.items():
                x, y = x + dx, y + dy
                if key[0] in ("n", "c"):
                    node = {"node": key[1]}
                    if key in here.uses:
                        node["uses"] = here.uses[key]
                    self.nodes.append(_rect(node, x, y, w, h))
                elif key[0] == "s" and key[1] in folded:
                    opens = first_free + len(self.boxes)
                    box = {"scope": key[1], "title": self.titles[key[1]], "opens": opens}
                    self.boxes.append(_rect(box, x, y, w, h))
                    todo.append((key[1], self.index))
                elif key[0] == "s":
                    frame = {"scope": key[1], "title": self.titles[key[1]]}
                    self.frames.append(_rect(frame, x, y, w, h))
                    stack.append((key[1], x + PAD, y + PAD + TITLE))
                elif key[0] in ("in", "out") and (scope == self.scope or key in here.uses):
                    port = {"side": key[0], "node": key[1], **_point(x, y)}
                    self.ports.append({**port, "uses": here.uses.get(key, 0)})
            arriving: dict[Key, list[int]] = defaultdict(list)  # inputs of each node, in order
            for n, route in enumerate(here.routes):
                arriving[route[1]].append(n)
            for n, (a, b, src, ids, waypoints) in enumerate(here.routes):
                start = self._anchor(local, folded, scope, a, src, dx, dy, leaving=True)
                end = self._anchor(local, folded, scope, b, src, dx, dy, leaving=False)
                if b[0] == "n" and len(arriving[b]) > 1:  # spread a node's inputs down its side
                    h = here.pos[b][3]
                    share = sorted(arriving[b], key=lambda m: min(here.routes[m][3]))
                    end[1] = round(
                        here.pos[b][1] + dy + h * (share.index(n) + 1) / (len(share) + 1), 1
                    )
                middle = [_xy(here.pos[k][0] + dx, here.pos[k][1] + dy) for k in waypoints]
                ends_inside = b[0] == "out" or (b[0] == "s" and b[1] not in folded)
                self.edges.append(
                    {"ids": ids, "points": [start, *middle, end], "arrow": not ends_inside}
                )

    def _anchor(
        self,
        local: dict[int, _Local],
        folded: set[int],
        scope: int,
        key: Key,
        src: int,
        dx: float,
        dy: float,
        leaving: bool,
    ) -> list[float]:
        """Where an edge leaves (right side) or enters (left side) the item ``key``."""
        x, y, w, h = local[scope].pos[key]
        x, y = x + dx, y + dy
        if key[0] == "s" and key[1] not in folded:  # at the child's port for this value
            port = ("out", src) if leaving else ("in", src)
            inner = local[key[1]].pos.get(port)
            if inner is not None:
                return _xy(x + PAD + inner[0], y + PAD + TITLE + inner[1])
        if key[0] in ("in", "out"):
            return _xy(x, y)
        return _xy(x + w if leaving else x, y + h / 2)


def _rect(values: dict[str, Any], x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {**values, "x": round(x, 1), "y": round(y, 1), "w": round(w, 1), "h": round(h, 1)}


def _point(x: float, y: float) -> dict[str, float]:
    return {"x": round(x, 1), "y": round(y, 1)}


def _xy(x: float, y: float) -> list[float]:
    return [round(x, 1), round(y, 1)]
