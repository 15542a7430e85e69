"""The shape of the code, checked: no import circle in the engine, no Streamlit in it, pages use its public surface."""

from __future__ import annotations

import ast
from pathlib import Path

import playground

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = True) -> set[str]:
    """Modules this file imports: at import time, or anywhere (function-level lazy loads included)."""
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _engine_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (ROOT / "playground").rglob("*.py") if "migrations" not in p.parts}
    return {name: {m for m in _imports(path, False) if m in files} for name, path in files.items()}


def test_no_import_circle_in_the_engine():
    """Lazy imports inside functions count too, and so does the package root: ``from playground import x`` inside the
    engine runs ``playground/__init__``, which imports the session and, through it, every backend."""
    graph = _engine_graph()
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(graph[name]):
            assert state.get(dep) != "open", "import circle: " + " -> ".join([*trail, name, dep])
            if dep not in state:
                visit(dep, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_engine_imports_no_streamlit():
    for path in (ROOT / "playground").rglob("*.py"):
        assert not any(m.split(".")[0] == "streamlit" for m in _imports(path)), path


def test_pages_use_the_public_surface_never_a_backend():
    for path in (ROOT / "pages").glob("*.py"):
        backends = [m for m in _imports(path) if m.startswith("playground.backends")]
        assert not backends, f"{path.name} imports {backends}: go through playground / components"


def test_the_public_surface_is_declared():
    assert playground.__all__ and all(hasattr(playground, name) for name in playground.__all__)
