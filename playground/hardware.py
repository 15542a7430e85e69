"""The machine local models run on: which device they are loaded onto, what it is called, and a rough hourly price.

Local calls are priced by the hour of the hardware they hold, so a card that says "$0/h" teaches nothing. The
default rate comes from a small table keyed by the detected kind of hardware; each row names its source and date.
The rates are rough: public on-demand list prices for a comparable cloud instance, rounded and not
re-checked at run time, so treat them as an order of magnitude. Users change the rate in
the sidebar; ``PLAYGROUND_DEVICE`` (cuda, mps or cpu) overrides the device picked here.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from playground.i18n import N_, _


@dataclass(frozen=True)
class Rate:
    label: str  # what the sidebar and the Learn page call it (translated where shown)
    usd_per_hour: float
    source: str
    date: str  # when the list price was read (year-month)


# The one table of hourly rates: the default for the detected hardware (keyed by kind, see ``_kind``) and the
# presets a user picks from for a what-if. The per-core CPU row is multiplied by the cores seen here.
RATES: dict[str, Rate] = {
    "laptop": Rate(N_("my laptop (free)"), 0.0, "a machine you already own: no hourly bill", "2025-01"),
    "cpu-core": Rate(
        N_("cloud CPU, per vCPU"),
        0.024,
        "AWS EC2 c7i.large on-demand, us-east-1 (2 vCPU, $0.0893/h), per vCPU, rounded",
        "2025-01",
    ),
    "cpu-4": Rate(
        N_("cloud CPU (4 vCPU)"), 0.18, "AWS EC2 c7i.xlarge on-demand, us-east-1 (4 vCPU, $0.1785/h)", "2025-01"
    ),
    "apple-silicon": Rate(
        N_("Apple silicon Mac mini"),
        0.20,
        "Scaleway Apple silicon Mac mini M2 Pro (about EUR 0.2/h), rounded",
        "2025-01",
    ),
    "gpu-small": Rate(N_("cloud GPU (T4)"), 0.53, "AWS EC2 g4dn.xlarge on-demand, us-east-1 (1x NVIDIA T4)", "2025-01"),
    "gpu-mid": Rate(N_("cloud GPU (L4)"), 0.80, "AWS EC2 g6.xlarge on-demand, us-east-1 (1x NVIDIA L4)", "2025-01"),
    "gpu-a10": Rate(N_("cloud GPU (A10G)"), 1.01, "AWS EC2 g5.xlarge on-demand, us-east-1 (1x NVIDIA A10G)", "2025-01"),
    "gpu-large": Rate(
        N_("cloud GPU (A100)"),
        4.10,
        "AWS EC2 p4d.24xlarge on-demand, us-east-1 ($32.77/h for 8x A100), per GPU",
        "2025-01",
    ),
}
PRESETS = ("laptop", "cpu-4", "gpu-small", "gpu-mid", "gpu-a10", "gpu-large")  # the what-if machines, in this order
_LARGE_GPUS = ("A100", "H100", "H200", "B200", "GH200")
_MID_GPUS = ("L4", "L40", "A10", "A6000", "4090", "3090")


@dataclass(frozen=True)
class Hardware:
    name: str  # e.g. "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 cores" or "NVIDIA L4"
    device: str  # "cuda", "mps" or "cpu": where local models are loaded
    cores: int
    default_usd_per_hour: float
    rate_source: str
    rate_date: str


def pick_device() -> str:
    """CUDA, then Apple's MPS, then the CPU; ``PLAYGROUND_DEVICE`` overrides (e.g. to keep a busy GPU free)."""
    wanted = os.environ.get("PLAYGROUND_DEVICE", "").strip().lower()
    if wanted in ("cuda", "mps", "cpu"):
        return wanted
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo on Linux, else what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "processor")) and ":" in line:
                value = line.split(":", 1)[1].strip()
                if value and not value.isdigit():
                    return value
    return platform.processor() or platform.machine() or "unknown CPU"


def _cores() -> int:
    usable = getattr(os, "sched_getaffinity", None)
    return len(usable(0)) if usable else (os.cpu_count() or 1)


def _kind(device: str, gpu_name: str) -> str:
    if device == "mps":
        return "apple-silicon"
    if device == "cuda":
        if any(tag in gpu_name for tag in _LARGE_GPUS):
            return "gpu-large"
        return "gpu-mid" if any(tag in gpu_name for tag in _MID_GPUS) else "gpu-small"
    return "cpu-core"


@cache
def detect() -> Hardware:
    """The hardware local models run on here, named for cards and history, with its default hourly rate."""
    device = pick_device()
    cores = _cores()
    gpu_name = ""
    if device == "cuda":
        import torch

        gpu_name = torch.cuda.get_device_name(0)
        name = gpu_name
    elif device == "mps":
        name = f"Apple {platform.machine()} GPU (MPS), {cores} cores"
    else:
        name = f"{_cpu_model()}, {cores} cores"
    kind = _kind(device, gpu_name)
    rate = RATES[kind]
    per_hour = rate.usd_per_hour * cores if kind == "cpu-core" else rate.usd_per_hour
    return Hardware(name, device, cores, round(per_hour, 4), rate.source, rate.date)


def display_name(name: str) -> str:
    """A recorded hardware name ("AMD EPYC 7B13, 2 cores") in the reader's language: the model name stays, the
    count is translated. History keeps the English name, which is data."""
    if match := re.fullmatch(r"(.+), (\d+) cores", name):
        return _("{cpu}, {n} cores").format(cpu=match.group(1), n=match.group(2))
    return name
