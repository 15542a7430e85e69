"""Offline workshops: what prefetch lists and fetches, and that what it leaves behind loads with no network."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from playground import models_cache
from playground.catalog import ModelSpec, load_catalog
from playground.events import GenParams, Request, Result
from playground.prefetch import Entry, folder_size, human, inspect
from playground.runner import final_of
from tests.tiny_vision import catalog_entry

ROOT = Path(__file__).resolve().parents[1]
CAPTION = Request("caption", image=Image.fromarray(data.chelsea()), params=GenParams(temperature=0, max_new_tokens=4))


def prefetch(*args: str, home: Path, catalog_file: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PLAYGROUND_HOME": str(home),
        "PLAYGROUND_CATALOG": str(catalog_file or ""),
    }
    return subprocess.run(
        [sys.executable, "-m", "playground.prefetch", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def place_in_hub_cache(folder: Path, home: Path, repo_id: str, listing_extra: dict[str, int] | None = None) -> Path:
    """Lay a model folder out the way snapshot_download leaves it: refs/main -> snapshots/<commit>/, plus the
    cached tree listing (written with huggingface_hub's own writer) that offline loads check for completeness."""
    from huggingface_hub._tree_cache import TreeCacheEntry, write_tree_cache  # private, but it is the real format

    commit = "0123456789abcdef0123456789abcdef01234567"
    storage = home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = storage / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(commit)
    files = {p.relative_to(snapshot).as_posix(): p.stat().st_size for p in snapshot.rglob("*") if p.is_file()}
    files |= listing_extra or {}
    write_tree_cache(
        str(storage),
        commit,
        {name: TreeCacheEntry(size=size, blob_id=f"{i:040x}") for i, (name, size) in enumerate(files.items())},
    )
    return snapshot


def test_files_to_fetch_keeps_one_copy_of_the_pytorch_weights():
    repo = [
        "config.json",
        "model.safetensors",
        "pytorch_model.bin",
        "tf_model.h5",
        "flax_model.msgpack",
        "rust_model.ot",
        "onnx/model.onnx",
        "onnx/model_quantized.onnx",
        "tokenizer.json",
        "preprocessor_config.json",
    ]
    assert models_cache.files_to_fetch(repo) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "preprocessor_config.json",
    ]
    assert "pytorch_model.bin" in models_cache.files_to_fetch(["config.json", "pytorch_model.bin", "tf_model.h5"])


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_dry_run_offline_lists_every_local_model_and_invents_no_size(tmp_path):
    done = prefetch("--dry-run", home=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for spec in load_catalog().models.values():
        if spec.source.startswith("hub:"):
            line = next(line for line in lines if spec.source in line)
            assert "not downloaded" in line and "cannot get sizes" in line
            assert not re.search(r"\d+(\.\d+)? (KB|MB|GB)", line), f"a size was invented: {line}"
        elif spec.is_local:
            assert any(line.startswith(spec.id) for line in lines)
    assert "total size unknown" in done.stdout
    assert not (tmp_path / "hub").exists(), "a dry run must not download or create anything"


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_fetch_offline_says_it_cannot_download(tmp_path):
    done = prefetch("--only", "blip-base", home=tmp_path)
    assert done.returncode == 1
    assert "HF_HUB_OFFLINE is set" in done.stdout


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_unknown_id_is_a_clear_error(tmp_path):
    done = prefetch("--only", "no-such-model", home=tmp_path)
    assert done.returncode == 2 and "Unknown model 'no-such-model'" in done.stderr


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_a_prefetched_hub_model_loads_with_no_network(tiny_captioner, tmp_path, monkeypatch):
    home = tmp_path / "data"
    # the listing also names weights in formats files_to_fetch skips; the snapshot still counts as complete
    snapshot = place_in_hub_cache(
        tiny_captioner, home, "workshop/tiny-captioner", {"tf_model.h5": 10, "onnx/model.onnx": 10}
    )
    catalog_file = tmp_path / "extra.toml"
    catalog_file.write_text(
        catalog_entry("prefetched-captioner", "image-captioner", tiny_captioner).replace(
            f"path:{tiny_captioner}", "hub:workshop/tiny-captioner"
        )
    )
    monkeypatch.setenv("PLAYGROUND_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    catalog = load_catalog(catalog_file)
    spec = catalog.get("prefetched-captioner")

    source = models_cache.resolve(spec)
    assert source.ready and not source.needs_download and Path(source.location) == snapshot
    assert inspect(spec) == Entry(spec, "downloaded", on_disk=folder_size(snapshot), to_fetch=0)
    result = final_of(catalog, spec.id, CAPTION)
    assert isinstance(result, Result) and result.metrics.output_tokens >= 1

    done = prefetch("--dry-run", "--only", spec.id, home=home, catalog_file=catalog_file)
    assert f"downloaded, {human(folder_size(snapshot))} on disk" in done.stdout
    assert "Nothing to download" in done.stdout


def test_an_incomplete_snapshot_is_not_taken_for_a_download(tiny_captioner, tmp_path, monkeypatch):
    home = tmp_path / "data"
    place_in_hub_cache(tiny_captioner, home, "workshop/half", {"model-00002-of-00002.safetensors": 10})
    monkeypatch.setenv("PLAYGROUND_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = ModelSpec(
        id="half",
        name="half",
        tasks=("caption",),
        openness="open",
        license="test",
        provider="local",
        backend="image-captioner",
        source="hub:workshop/half",
    )
    source = models_cache.resolve(spec)
    assert not source.ready and source.missing_hint == "needs download; run `make prefetch` while online"


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_a_catalog_entry_pointing_at_a_folder_is_listed_and_loads(tiny_captioner, tmp_path):
    catalog_file = tmp_path / "extra.toml"
    catalog_file.write_text(catalog_entry("folder-captioner", "image-captioner", tiny_captioner))
    done = prefetch("--dry-run", "--only", "folder-captioner", home=tmp_path, catalog_file=catalog_file)
    assert f"local folder, {human(folder_size(tiny_captioner))}" in done.stdout
    result = final_of(load_catalog(catalog_file), "folder-captioner", CAPTION)
    assert isinstance(result, Result)


@pytest.mark.slow  # runs the prefetch command in a process of its own
def test_a_missing_folder_is_reported(tmp_path):
    catalog_file = tmp_path / "extra.toml"
    catalog_file.write_text(catalog_entry("gone", "image-captioner", Path("/nonexistent/model-folder")))
    done = prefetch("--dry-run", "--only", "gone", home=tmp_path, catalog_file=catalog_file)
    assert "missing folder: the folder /nonexistent/model-folder does not exist" in done.stdout
