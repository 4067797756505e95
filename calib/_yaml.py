"""A strict YAML reader for every YAML file calib reads (rubrics, grader and LLM configs, prices).

``yaml.safe_load`` builds no arbitrary objects, but it still accepts two things that hurt here:

* **Alias bombs** ("billion laughs"): a 1 KB document whose anchors reference lists of aliases
  expands to ~10^9 nodes. PyYAML shares the aliased objects, so loading is fast, but anything
  that walks the result (validation, the canonical JSON of a rubric's content hash) expands it
  and exhausts memory. :func:`load_yaml` counts the nodes of the document *as expanded* (in
  time linear in the composed graph) and refuses it when aliases take that count above
  :data:`MAX_EXPANDED_NODES`; recursive aliases are refused too.
* **Duplicate keys**: YAML says mapping keys are unique, but PyYAML keeps the last value
  silently, so a second ``weight:`` in a rubric would change scores without a word. They are
  refused with the key and both line numbers.

Errors are :class:`yaml.YAMLError` subclasses carrying a ``problem`` and a ``problem_mark``
(line, column), so callers that already report YAML errors with the file name need no change.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_EXPANDED_NODES", "YAMLLimitError", "load_yaml"]

#: Most nodes a document may have once its aliases are expanded (only checked when the
#: document uses aliases). The shipped rubric has ~400; a 0-100 scale with an anchor per level
#: and 20 dimensions has ~20,000.
MAX_EXPANDED_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YAMLLimitError(yaml.YAMLError):
    """A YAML document refused by :func:`load_yaml` (alias expansion or nesting too large)."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark

    def __str__(self) -> str:
        where = f" (line {self.problem_mark.line + 1})" if self.problem_mark else ""
        return f"{self.problem}{where}"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue  # '<<' merges may override keys: that is their purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: SafeConstructor reports it
                    continue
                if first is not None:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key {key!r} (first at line {first.line + 1}); "
                        "YAML keys must be unique",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expanded_size(root: Node, limit: int) -> int:
    """Nodes of the document with every alias expanded; raises past ``limit`` or on a cycle.

    Iterative depth-first walk over the composed graph with one memo entry per distinct node,
    so the time is linear in the graph, not in the (possibly astronomic) expansion.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > limit:
                raise YAMLLimitError(
                    f"aliases expand the document beyond {limit:,} nodes (an alias bomb?); refused",
                    node.start_mark,
                )
            size[nid] = total
            continue
        if nid in size:
            continue
        if nid in on_path:
            raise YAMLLimitError("recursive alias (a node that contains itself); refused",
                                 node.start_mark)  # fmt: skip
        on_path.add(nid)
        stack.append((node, True))
        if not isinstance(node, ScalarNode):
            for child in _children(node):
                if id(child) not in size:
                    stack.append((child, False))
    return size[id(root)]


def _uses_aliases(text: str) -> bool:
    return "*" in text or "<<" in text


def load_yaml(text: str, *, max_expanded_nodes: int = MAX_EXPANDED_NODES) -> Any:
    """Parse one YAML document like ``yaml.safe_load``, refusing alias bombs and duplicate keys.

    Parameters
    ----------
    text : str
        The document.
    max_expanded_nodes : int
        Limit on the node count with aliases expanded (see :data:`MAX_EXPANDED_NODES`).

    Returns
    -------
    object
        The parsed value (None for an empty document).

    Raises
    ------
    yaml.YAMLError
        Invalid YAML; :class:`YAMLLimitError` for an alias expansion past the limit, a
        recursive alias or nesting too deep to parse; ``ConstructorError`` for a duplicate key.

    Examples
    --------
    >>> load_yaml("a: 1\\nb: [x, y]")
    {'a': 1, 'b': ['x', 'y']}
    >>> load_yaml("a: 1\\na: 2")
    Traceback (most recent call last):
    ...
    yaml.constructor.ConstructorError: while constructing a mapping
      in "<unicode string>", line 1, column 1:
        a: 1
        ^
    duplicate key 'a' (first at line 1); YAML keys must be unique
      in "<unicode string>", line 2, column 1:
        a: 2
        ^
    """
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YAMLLimitError("nested too deeply to parse; refused") from None
        if node is None:
            return None
        if _uses_aliases(text):
            _expanded_size(node, max_expanded_nodes)
        try:
            return loader.construct_document(node)
        except RecursionError:
            raise YAMLLimitError("nested too deeply to parse; refused") from None
    finally:
        loader.dispose()
