"""The shape of the code, checked: the engine stands in layers with no import circle and no Streamlit; pages and
components reach it only through its public surface, never a backend; the public surface changes only on purpose."""

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


# The engine's floors, bottom first. A module imports only from its own floor or those below; a new module must be
# given a floor here, so where it stands is a decision, not an accident.
LAYERS = {
    "ground: what a request, an event, an error and a role are; input checks": [
        "playground.errors",
        "playground.i18n",
        "playground.access",
        "playground.public_url",
        "playground.metrics",
        "playground.redact",
        "playground.retention",
        "playground.context",
        "playground.formatting",
        "playground.params",
        "playground.events",
        "playground.classify",
        "playground.images",
    ],
    "facts: the catalog, prices, budgets, hardware, weights, credentials, the store and the serving line": [
        "playground.catalog",
        "playground.hardware",
        "playground.pricing",
        "playground.models_cache",
        "playground.openness",
        "playground.lessons",
        "playground.endpoints",
        "playground.credentials",
        "playground.budget",
        "playground.conversations",
        "playground.prompt_set_report",
        "playground.prompt_sets",
        "playground.checks",
        "playground.languages",
        "playground.energy",
        "playground.tokens",
        "playground.availability",
        "playground.prefetch",
        "playground.arena",
        "playground.rooms",
        "playground.store",
        "playground.serving",
    ],
    "backends: one small class per way of running a model": ["playground.backends"],
    "running: the fan-out, with deadlines and crash isolation": ["playground.runner", "playground.evaluation"],
    "the session: THE way to run, price and record": [
        "playground.session",
        "playground.caption_batch",
        "playground.prompt_set_runs",
        "playground",
    ],
}


def _floor(module: str) -> int:
    for floor, prefixes in enumerate(LAYERS.values()):
        if any(module == p or (p != "playground" and module.startswith(p + ".")) for p in prefixes):
            return floor
    raise AssertionError(f"{module} has no floor: add it to LAYERS in tests/test_architecture.py")


def test_the_engine_stands_in_layers():
    """Events and errors at the bottom; catalog, pricing and serving; backends; the session on top."""
    upward = [
        f"{module} ({list(LAYERS)[_floor(module)]}) imports {dep} ({list(LAYERS)[_floor(dep)]})"
        for module, deps in _engine_graph().items()
        for dep in deps
        if _floor(dep) > _floor(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_engine_imports_no_streamlit():
    for path in (ROOT / "playground").rglob("*.py"):
        assert not any(m.split(".")[0] == "streamlit" for m in _imports(path)), path


def test_pages_and_components_never_reach_a_backend():
    """Every import counts, function-level ones too: a page renders what the engine yields, it never runs a model."""
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "components").glob("*.py"), ROOT / "app.py"]:
        backends = [m for m in _imports(path, top_level_only=False) if m.startswith("playground.backends")]
        assert not backends, f"{path.name} imports {backends}: go through playground / components"


PUBLIC = """
Asking Availability CallMetrics Catalog CatalogError Conversation Cost Credentials DEFAULT_CAPTION_INSTRUCTION
Endpoint Energy Event Failure Gate GenParams ImageError InputError JoinAddress LabelledSet Lens LockedOut
Lockout MAX_ROWS MissingKeyError ModelEvaluation ModelSpec Notice OverBudget PRESETS PUBLIC_URL_SETTING
Playground PlaygroundError PromptRow PromptSet PromptSetRun ProviderError ProviderSpec READY RateLimiter
Request Result RunContext RunSettings SAMPLE_PHOTOS Scope ServerSettings Token Waiting availability
built_in_sets caption_samples check_labels check_text fit_within format_usd join_root latency_rows live_run
load_built_in load_catalog load_sample look_all open_image parse_labels prediction_rows read_labelled_csv
read_upload sample_photo start_prompt_set
""".split()  # noqa: SIM905 (a pin reads better as words than as 50 quoted strings)


def test_the_public_surface_is_pinned():
    """A change to what ``playground`` exports shows up as a diff here, on purpose."""
    assert sorted(playground.__all__) == sorted(PUBLIC)
    assert all(hasattr(playground, name) for name in playground.__all__)
