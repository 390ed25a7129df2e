"""The layers of the house (docs/architecture.md), read from the source with ``ast``: which package may import
which, no import cycle between the project's modules, and no private name (``_x``) taken from another module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("constructions", "lemmas", "verify")
SCRIPTS = ("benchmarks",)  # not importable as a package; they may use public names only

# room -> the project packages it must not import (prefix match on the dotted module name)
FORBIDDEN = {
    "constructions": ("lemmas", "verify"),
    "lemmas": ("verify",),
    "verify.certify": ("verify.claims", "verify.registry", "verify.__main__", "verify.runner", "verify.selftest",
                       "verify.report", "verify.plots", "verify.replay", "lemmas"),
    "verify.reference": ("constructions", "lemmas", "verify.claims", "verify.certify"),
    "verify.gamma_smooth": ("constructions", "lemmas", "verify.claims", "verify.certify"),
    "verify.tasks": ("lemmas", "verify.claims", "verify.certify"),
    "verify.stats": ("constructions", "lemmas", "verify.claims"),
    "verify.mutants": ("verify", "lemmas"),
    "verify.checks": ("lemmas", "verify.claims"),
    "verify.result": ("constructions", "lemmas", "verify"),
}
# outside verify/claims, verify reaches the builders only through the claim registry
NO_LEMMAS = ("verify.registry", "verify.__main__", "verify.runner", "verify.selftest", "verify.report",
             "verify.replay", "verify.plots", "verify.strategies", "verify.taskrun")


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            rel = p.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


MODS = modules()
BENCH = {f"benchmarks.{p.stem}": p for p in sorted((ROOT / "benchmarks").glob("*.py"))}


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every import statement of the module."""
    tree = ast.parse(path.read_text(), str(path))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [a.name for a in node.names]
            # "from . import x" imports the module x
            if node.module is None or f"{mod}.{names[0]}" in MODS:
                out += [(f"{mod}.{n}" if f"{mod}.{n}" in MODS else mod, [], node.lineno) for n in names]
            else:
                out.append((mod, names, node.lineno))
    return out


def project(mod: str) -> bool:
    return mod.split(".")[0] in PACKAGES


def under(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def upward_imports(name: str, path: Path) -> list[str]:
    """The imports of module ``name`` (source at ``path``) that go against the arrows of FORBIDDEN / NO_LEMMAS."""
    bad = []
    for room, banned in FORBIDDEN.items():
        if not under(name, room):
            continue
        for mod, _, line in imports(name, path):
            bad += [f"{name}:{line} imports {mod} (room {room} may not import {b})" for b in banned
                    if under(mod, b) and not under(mod, room)]
    if name in NO_LEMMAS:
        bad += [f"{name}:{line} imports {mod} (verify reaches builders through the claim registry)"
                for mod, _, line in imports(name, path) if under(mod, "lemmas")]
    return bad


@pytest.mark.parametrize("name", sorted(MODS))
def test_no_import_from_a_higher_layer(name):
    bad = upward_imports(name, MODS[name])
    assert not bad, "\n".join(bad)


def private_uses(name: str, path: Path) -> list[str]:
    """Private names (``_x``) that module ``name`` imports from another project module or reads from one."""
    tree = ast.parse(path.read_text())
    bad = []
    aliases = set()
    for mod, names, line in imports(name, path):
        if project(mod) and mod != name:
            bad += [f"{name}:{line} imports private {n} from {mod}" for n in names
                    if n.startswith("_") and n != "__version__"]
    for node in ast.walk(tree):  # ``import x as m`` then ``m._y``
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            aliases |= {a.asname or a.name.split(".")[0] for a in node.names}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            bad.append(f"{name}:{node.lineno} reads private {node.value.id}.{node.attr}")
    return bad


@pytest.mark.parametrize("name", sorted(MODS) + sorted(BENCH))
def test_no_private_name_imported_from_another_module(name):
    bad = private_uses(name, MODS.get(name) or BENCH[name])
    assert not bad, "\n".join(bad)


def test_the_checks_see_an_upward_import_and_a_private_name(tmp_path):
    """A module of constructions/ importing verify, and one reading a private name, are both reported."""
    p = tmp_path / "m.py"
    p.write_text("from verify.report import _hidden, table\nimport verify.report as r\nx = r._other\n")
    assert upward_imports("constructions.fake", p)
    assert upward_imports("lemmas.fake", p)
    got = private_uses("lemmas.fake", p)
    assert any("_hidden" in b for b in got) and any("r._other" in b for b in got)
    p.write_text("from constructions.fnn import FNN\n")
    assert not upward_imports("lemmas.fake", p) and not private_uses("lemmas.fake", p)


def test_no_import_cycle_between_modules():
    graph = {n: {m for m, _, _ in imports(n, p) if m in MODS and m != n} for n, p in MODS.items()}
    # a package's __init__ importing its own submodules is not a cycle of the layers
    for n in graph:
        graph[n] = {m for m in graph[n] if not (m.startswith(n + ".") and MODS[n].name == "__init__.py")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cyc = stack[stack.index(m):] + [m]
                pytest.fail("import cycle: " + " -> ".join(cyc))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)


def test_architecture_page_names_every_room():
    """docs/architecture.md names every package folder and every module of verify/certify and verify/claims."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    rooms = {str(p.relative_to(ROOT)) + "/" for pkg in PACKAGES for p in [ROOT / pkg, *(ROOT / pkg).rglob("*")]
             if p.is_dir() and p.name != "__pycache__"}
    missing = [r for r in sorted(rooms) if r not in text]
    assert not missing, f"docs/architecture.md does not mention {missing}"
