"""Classes that hold themselves (trees) or each other are mapped like any other.

Their hooks meet themselves while they are built: the inner one then looks the
finished codec up when called. Before, building them recursed until Python gave up.
"""

from __future__ import annotations

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper
from dynamorm_async.convert import TypeRegistry


@attrs.define
class Node:
    id: str
    children: list[Node] = attrs.Factory(list)
    parent_hint: Node | None = None


@attrs.define
class Team:
    name: str
    lead: Person | None = None


@attrs.define
class Person:
    name: str
    teams: list[Team] = attrs.Factory(list)


def tree(depth: int, width: int = 2, prefix: str = "n") -> Node:
    if depth == 0:
        return Node(prefix)
    return Node(prefix, [tree(depth - 1, width, f"{prefix}.{i}") for i in range(width)])


@pytest.mark.parametrize("registry", [None, TypeRegistry()], ids=["default", "own registry"])
def test_a_tree_reads_back_as_written(registry):
    nodes = Mapper(Node, table="nodes", partition_key="id", registry=registry)
    written = tree(4)
    written.children[0].parent_hint = Node("hint", [Node("x")])
    item = nodes.encode(written)
    assert item["children"]["L"][1]["M"]["children"]["L"][0]["M"]["id"] == {"S": "n.1.0"}
    assert nodes.decode(item) == written


def test_classes_that_hold_each_other_read_back_as_written():
    people = Mapper(Person, table="people", partition_key="name")
    written = Person("ann", [Team("db", Person("bob", [Team("ops")])), Team("web")])
    assert people.decode(people.encode(written)) == written
    teams = Mapper(Team, table="teams", partition_key="name")
    team = Team("db", Person("ann", [Team("x", Person("cy"))]))
    assert teams.decode(teams.encode(team)) == team


def test_a_bad_value_deep_in_a_tree_is_named():
    nodes = Mapper(Node, table="nodes", partition_key="id")
    item = nodes.encode(tree(2))
    item["children"]["L"][1]["M"]["children"]["L"][0]["M"]["id"] = {"N": "5"}
    with pytest.raises(ConversionError) as caught:
        nodes.decode(item)
    assert "children" in str(caught.value)
    with pytest.raises(ConversionError):
        nodes.encode(Node("a", [Node("b", ["not a node"])]))  # type: ignore[list-item]
