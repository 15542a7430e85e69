"""Open a page of the app in AppTest, optionally with extra catalog entries (tiny test models)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from streamlit.testing.v1 import AppTest

from components.session import get_catalog

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@contextmanager
def app_page(monkeypatch, page: str, catalog_file: Path | None = None, **env: str) -> Iterator[AppTest]:
    """AppTest on ``pages/<page>.py``. The catalog is cached per process, so it is rebuilt around the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if catalog_file is not None:
        monkeypatch.setenv("PLAYGROUND_CATALOG", str(catalog_file))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_catalog.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=180).run()
        yield at.switch_page(f"pages/{page}.py").run()
    finally:
        get_catalog.clear()
