"""Shared fixtures. Everything here is real: the converted SmolLM2, a real `transformers serve` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no model hub here: fail fast instead of retrying DNS for a minute

from playground.catalog import load_catalog
from playground.events import Credentials, Endpoint
from playground.models_cache import ensure_smollm2

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def smollm2_folder() -> Path:
    return ensure_smollm2()


@pytest.fixture(scope="session", autouse=True)
def _history_in_a_throwaway_file(tmp_path_factory):
    """Page tests record their runs; keep them out of the user's data folder unless a test picks its own file."""
    os.environ.setdefault("PLAYGROUND_DB", str(tmp_path_factory.mktemp("history") / "history.sqlite"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextmanager
def transformers_serve(model_folder: Path, hf_home: Path) -> Iterator[Endpoint]:
    """A real OpenAI-compatible server: `transformers serve` on a free loopback port, serving one model folder."""
    (hf_home / "hub").mkdir(exist_ok=True)  # /v1/models answers 500 without it
    port = free_port()
    with open(hf_home / "serve.log", "w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("transformers")),
                "serve",
                str(model_folder),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
            ],
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health", process, 120)
            yield Endpoint(f"http://127.0.0.1:{port}/v1", str(model_folder))
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def serve_endpoint(smollm2_folder, tmp_path_factory) -> Endpoint:
    """`transformers serve` serving SmolLM2."""
    with transformers_serve(smollm2_folder, tmp_path_factory.mktemp("hf_home")) as endpoint:
        yield endpoint


@pytest.fixture
def serve_credentials(serve_endpoint) -> Credentials:
    return Credentials(self_hosted=serve_endpoint)


pytest_plugins = ["tests.browser", "tests.databases", "tests.tiny_vision", "tests.tiny_classifiers"]

# What makes a test slow: a real browser, a real server process or PostgreSQL. A test that needs one of these
# fixtures (directly or through another fixture) is marked ``slow``; one that starts a process itself says so with
# ``@pytest.mark.slow``. `make test-fast` runs the rest, `make test` everything.
SLOW_FIXTURES = {"browser", "serve_endpoint", "two_servers", "vlm_serve_credentials", "postgres_server"}
# A test in a real browser gets one retry, as Playwright's own runner gives on CI: a page is a second process whose
# timing a busy 2-core machine shifts. The summary counts each retry ("1 rerun"), so a flake stays visible.
BROWSER_RETRIES = 1


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db_url") == "postgresql"
        fixtures = set(getattr(item, "fixturenames", ()))
        if on_postgres or SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        if "browser" in fixtures:  # the `page` fixture, or contexts a test opens itself
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RETRIES, reruns_delay=2))
