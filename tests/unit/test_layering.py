"""Which part of the package may import which: read from the source (every import, those
inside functions and under TYPE_CHECKING too), so a shortcut across layers fails here."""

import ast

import pytest

from conftest import ROOT

PACKAGE = ROOT / "python" / "deploy_actions"
ENTRY_POINTS = {"cli.py", "actionfile.py"}  # the command registry's two readers


def imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)


def modules(folder=""):
    return sorted(p for p in (PACKAGE / folder).rglob("*.py"))


def offending(paths, forbidden):
    return [
        f"{p.relative_to(PACKAGE) if p.is_relative_to(PACKAGE) else p}:{line} imports {name}"
        for p in paths
        for line, name in imports(p)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_only_the_entry_points_import_the_commands():
    """Domain code returns outcomes; what a command does with them is the command's own."""
    outside = [p for p in modules() if p.parent.name != "commands" and p.name not in ENTRY_POINTS]
    assert offending(outside, ["deploy_actions.commands"]) == []


def test_commands_do_not_import_each_other():
    """What two commands share lives in the package both use (remote/access.py, smoke/gate.py, …)."""
    for path in modules("commands"):
        if path.name == "__init__.py":
            continue
        assert offending([path], [f"deploy_actions.commands.{p.stem}" for p in modules("commands")]) == []


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("remote", ["deploy_actions.compose", "deploy_actions.swarm"]),  # SSH knows no kind of deploy
        ("swarm", ["deploy_actions.compose"]),  # swarm-deploy reaches its manager through remote/ only
        ("compose", ["deploy_actions.swarm"]),
    ],
)
def test_deploy_kinds_share_only_the_remote_layer(folder, forbidden):
    assert offending(modules(folder), forbidden) == []


def test_the_rules_see_an_import_under_type_checking(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from deploy_actions.compose import settings\n"
    )
    assert offending([sample], ["deploy_actions.compose"]) != []


def test_only_a_result_annotates_a_failure():
    """Domain code returns outcomes or raises CheckFailed / UsageError; the command's Result
    carries the error annotations, so one failure is annotated once."""
    found = []
    for path in modules():
        if path.parent.name in ("commands", "console") or path.name in ENTRY_POINTS | {"results.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            call = node.func if isinstance(node, ast.Call) else None
            if isinstance(call, ast.Attribute) and call.attr == "error" and getattr(call.value, "id", "") == "reporter":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
