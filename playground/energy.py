"""Energy and carbon per answer, labelled by where each number comes from.

- A local run is **measured** when the machine exposes energy counters: Intel/AMD RAPL under /sys/class/powercap
  (the CPU package) or NVML on an NVIDIA GPU. Otherwise it is **estimated from CPU time** the way CodeCarbon does
  for one process: power = CPU TDP × the process's CPU load ÷ threads, so energy = TDP ÷ threads × CPU seconds.
  CodeCarbon itself is not installed (it pulls fourteen packages, cryptography and a web client among them, for one
  table); the TDP is the server setting ``PLAYGROUND_CPU_TDP_W`` when the admin knows it, else CodeCarbon's own
  fallback for a CPU missing from its table, 4 W per thread (``codecarbon.core.cpu.DEFAULT_POWER_PER_CORE``).
  Counters and CPU time belong to the whole process, so each call gets an even share of what the process used
  while it was in flight, split among the local calls in flight at the same moments (``Ledger``).
- An API run is **estimated with EcoLogits** (``llm_impacts``: its model data and formulas ship in the wheel, so it
  works offline) from the model, the output tokens and the latency, as a min–max range.
- Carbon is energy × the electricity mix of a zone from EcoLogits' table (an admin setting, default ``WOR``, the
  world average). EcoLogits' carbon for APIs also counts the servers' manufacture (embodied); local carbon is usage
  only.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from playground.access import SETTINGS, ServerSettings
from playground.formatting import format_number
from playground.i18n import _

ZONE_SETTING = "electricity_zone"  # a server-wide setting (playground.access.SETTINGS): the admin's choice
DEFAULT_ZONE = SETTINGS[ZONE_SETTING].default  # EcoLogits' world average
ZONE_ENV = SETTINGS[ZONE_SETTING].env  # the server's default before an admin sets one
TDP_ENV = "PLAYGROUND_CPU_TDP_W"  # the whole CPU package's thermal design power, in watts
CODECARBON_WATTS_PER_THREAD = 4.0  # CodeCarbon's fallback when its table does not know the CPU
POWERCAP = Path("/sys/class/powercap")
MEASURED = ("rapl", "nvml")


@dataclass(frozen=True)
class Energy:
    """One call's energy in Wh (a range; min == max for a single figure) and carbon in grams of CO2-equivalent."""

    wh: float
    min_wh: float
    max_wh: float
    gwp_g: float | None
    source: str  # "rapl", "nvml", "cpu-time" or "ecologits"
    zone: str = DEFAULT_ZONE
    detail: str = ""  # the method and its inputs, for a tooltip

    @property
    def method(self) -> str:
        return {
            "rapl": _("measured, RAPL"),
            "nvml": _("measured, NVML"),
            "cpu-time": _("estimated from CPU time"),
            "ecologits": _("EcoLogits"),
        }[self.source]

    @property
    def label(self) -> str:
        """ "≈ 0.4 mWh (estimated from CPU time)", or a range: "12–15 mWh (EcoLogits)"."""
        if self.max_wh > self.min_wh * 1.005:
            figure = format_wh_range(self.min_wh, self.max_wh)
        else:
            figure = "≈ " + format_wh(self.wh)
        carbon = "" if self.gwp_g is None else " · ≈ " + format_grams(self.gwp_g) + " CO₂e"
        return _("{figure} ({method})").format(figure=f"{figure}{carbon}", method=self.method)  # full-width in Chinese


def _two_digits(value: float) -> str:
    """Two significant digits: 1.2, 0.35, 450."""
    return format_number(value, max(0, 1 - int(f"{value:e}".split("e")[1])) if value > 0 else 0)


def format_wh(wh: float) -> str:
    """In Wh from 1 Wh up, else in mWh: "1.2 Wh", "0.35 mWh"."""
    return f"{_two_digits(wh)} Wh" if wh >= 1 else f"{_two_digits(wh * 1000)} mWh"


def format_wh_range(low: float, high: float) -> str:
    """Both ends in the unit of the higher one: "12–15 mWh", "0.95–1.7 Wh"."""
    if high >= 1:
        return f"{_two_digits(low)}–{_two_digits(high)} Wh"
    return f"{_two_digits(low * 1000)}–{_two_digits(high * 1000)} mWh"


def format_grams(grams: float) -> str:
    return f"{_two_digits(grams)} g" if grams >= 1 else f"{_two_digits(grams * 1000)} mg"


# ---------------------------------------------------------------- electricity mixes (EcoLogits' table)


def grid_intensity(zone: str) -> float | None:
    """kg CO2-eq per kWh of a zone's electricity mix, or None for a zone EcoLogits does not know."""
    from ecologits.electricity_mix_repository import electricity_mixes

    mix = electricity_mixes.find_electricity_mix(zone=zone)
    return None if mix is None else mix.gwp


def zones() -> list[str]:
    """Every zone EcoLogits has a mix for (ISO 3166-1 alpha-3 codes, and WOR)."""
    from ecologits.electricity_mix_repository import electricity_mixes

    return sorted(mix.zone for mix in electricity_mixes.list_electricity_mixes())


def zone_of(store) -> str:
    """The server's zone: the admin's choice, else ``PLAYGROUND_ELECTRICITY_ZONE``, else the world average."""
    if store is None:
        return ServerSettings.fallback(ZONE_SETTING)
    try:
        return ServerSettings(store).get(ZONE_SETTING)
    except Exception:  # a locked database must not cost a run its energy line
        return ServerSettings.fallback(ZONE_SETTING)


# ---------------------------------------------------------------- local runs


def cpu_watts_per_thread() -> tuple[float, str]:
    """What one fully busy hardware thread draws, and where the figure comes from."""
    threads = os.cpu_count() or 1
    if tdp := os.environ.get(TDP_ENV):
        return float(tdp) / threads, _("TDP {watts} W ÷ {threads} threads ({setting})").format(
            watts=tdp, threads=threads, setting=TDP_ENV
        )
    return CODECARBON_WATTS_PER_THREAD, _("{watts} W per busy thread, CodeCarbon's figure for an unlisted CPU").format(
        watts=format_number(CODECARBON_WATTS_PER_THREAD, 0)
    )


def from_cpu_time(cpu_s: float, zone: str = DEFAULT_ZONE) -> Energy:
    """CodeCarbon's process method: energy = watts per thread × CPU seconds (load × wall time, summed over threads)."""
    watts, why = cpu_watts_per_thread()
    wh = watts * cpu_s / 3600.0
    detail = _("{seconds} s of CPU time × {why}").format(seconds=format_number(cpu_s, 2), why=why)
    return _with_carbon(wh, wh, wh, "cpu-time", zone, detail)


def from_counters(joules: float, source: str, zone: str = DEFAULT_ZONE) -> Energy:
    wh = joules / 3600.0
    detail = _("{joules} J from the machine's energy counters").format(joules=format_number(joules, 1))
    return _with_carbon(wh, wh, wh, source, zone, detail)


def _with_carbon(wh: float, low: float, high: float, source: str, zone: str, detail: str) -> Energy:
    intensity = grid_intensity(zone)
    gwp = None if intensity is None else wh / 1000.0 * intensity * 1000.0  # kWh × kg/kWh, in grams
    return Energy(wh, low, high, gwp, source, zone, detail)


def rapl_joules(root: Path | None = None) -> float | None:
    """The CPU packages' energy counters (top-level RAPL zones), in joules, or None when none can be read."""
    root = POWERCAP if root is None else root
    total, found = 0.0, False
    for zone in sorted(root.glob("intel-rapl:*")):
        if zone.name.count(":") != 1:  # a sub-zone (core, uncore, dram) is already inside its package
            continue
        try:
            total += int((zone / "energy_uj").read_text()) / 1e6
            found = True
        except (OSError, ValueError):
            continue
    return total if found else None


@lru_cache(maxsize=1)
def _nvml_gpus() -> tuple:
    """NVML and its GPU handles, looked up once; empty without NVML (not installed, no driver, no GPU)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml, [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:
        return ()


def nvml_joules() -> float | None:
    """Every NVIDIA GPU's energy counter since the driver loaded, in joules, or None without NVML."""
    if not (gpus := _nvml_gpus()) or not gpus[1]:
        return None
    pynvml, handles = gpus
    try:
        return sum(pynvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1000.0 for h in handles)
    except Exception:  # a GPU without the counter (older than Volta)
        return None


@dataclass
class Share:
    """What one call used of the process: CPU seconds and counter joules (None when the counter is missing)."""

    cpu_s: float = 0.0
    rapl_j: float | None = None
    nvml_j: float | None = None


class Ledger:
    """Shares the process's CPU time and energy counters among the local calls in flight, evenly at each moment.

    Every open and close reads the counters and hands what was used since the last reading to the calls open
    during it, so two overlapping calls split the overlap instead of both counting it.
    """

    def __init__(self, powercap: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, Share] = {}
        self._next = 0
        self._powercap = powercap
        self._last = self._read()

    def _read(self) -> tuple[float, float | None, float | None]:
        return time.process_time(), rapl_joules(self._powercap), nvml_joules()

    def _advance(self) -> None:
        now = self._read()
        if self._open:
            n = len(self._open)
            cpu = (now[0] - self._last[0]) / n
            rapl = None if now[1] is None or self._last[1] is None else max(0.0, now[1] - self._last[1]) / n
            nvml = None if now[2] is None or self._last[2] is None else max(0.0, now[2] - self._last[2]) / n
            for share in self._open.values():
                share.cpu_s += cpu
                share.rapl_j = None if rapl is None else (share.rapl_j or 0.0) + rapl
                share.nvml_j = None if nvml is None else (share.nvml_j or 0.0) + nvml
        self._last = now

    def open(self) -> int:
        with self._lock:
            self._advance()
            self._next += 1
            self._open[self._next] = Share(rapl_j=0.0, nvml_j=0.0)
            return self._next

    def close(self, key: int | None) -> Share | None:
        with self._lock:
            self._advance()
            return self._open.pop(key, None) if key is not None else None

    def closing(self, keys: dict[str, int], events: Iterator) -> Iterator:
        """``events`` as they come; calls still open in ``keys`` when they stop (a page that moved on) are closed."""
        try:
            yield from events
        finally:
            for key in keys.values():
                self.close(key)


LEDGER = Ledger()


def local_energy(share: Share, zone: str = DEFAULT_ZONE) -> Energy:
    """Measured when a counter moved during the call; otherwise estimated from its CPU time."""
    if share.nvml_j:  # a GPU run: the GPU's counter, plus the CPU package when RAPL is there too
        return from_counters(share.nvml_j + (share.rapl_j or 0.0), "nvml", zone)
    if share.rapl_j:
        return from_counters(share.rapl_j, "rapl", zone)
    return from_cpu_time(share.cpu_s, zone)


# ---------------------------------------------------------------- API runs


def api_energy(
    impacts_ref: str, output_tokens: int, latency_s: float | None, zone: str = DEFAULT_ZONE
) -> Energy | None:
    """EcoLogits' estimate for one API call, or None when it does not know the model or the zone. Without a
    measured latency (``None``) EcoLogits uses the model's typical speed; a measured one caps the GPU time."""
    from ecologits.tracers.utils import llm_impacts

    provider, _sep, model = impacts_ref.partition(":")
    impacts = llm_impacts(
        provider=provider,
        model_name=model,
        output_token_count=output_tokens,
        request_latency=math.inf if latency_s is None else latency_s,
        electricity_mix_zone=zone,
    )
    if impacts.has_errors or impacts.energy is None:
        return None
    low, high = _bounds(impacts.energy.value)
    gwp_low, gwp_high = _bounds(impacts.gwp.value)
    import ecologits

    detail = _(
        "EcoLogits {version} (ecologits.ai/latest/methodology/llm_inference): {model}, {tokens} output tokens, "
        "{seconds} s, {zone} electricity mix"
    ).format(
        version=ecologits.__version__,
        model=impacts_ref,
        tokens=output_tokens,
        seconds="–" if latency_s is None else format_number(latency_s, 2),
        zone=zone,
    )
    return Energy(
        (low + high) / 2 * 1000, low * 1000, high * 1000, (gwp_low + gwp_high) / 2 * 1000, "ecologits", zone, detail
    )


def _bounds(value) -> tuple[float, float]:
    """A RangeValue's (min, max), or a plain number twice."""
    return (value.min, value.max) if hasattr(value, "min") else (float(value), float(value))


# ---------------------------------------------------------------- one finished call


def account(spec, final, share: Share | None, store=None) -> Energy | None:
    """The energy of one finished call (a Result or Failure with metrics): local from its share of the process,
    API from EcoLogits; None when nothing can say (no metrics, no estimate for the model, no output count)."""
    metrics = final.metrics
    if metrics is None:
        return None
    zone = zone_of(store)
    if spec.is_local:
        return None if share is None else local_energy(share, zone)
    if not spec.impacts_ref or not metrics.output_tokens or metrics.total_s is None:
        return None
    return api_energy(spec.impacts_ref, metrics.output_tokens, max(0.0, metrics.total_s - metrics.queue_s), zone)
