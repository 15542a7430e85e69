"""Running a prompt set: every row on every model, through ``Playground``, on a thread of the engine's own.

The run does not live in a page: it keeps going through a page rerun and a closed tab, and each cell goes to the
store as soon as its answer is checked, in one transaction with its generation's history row (``Playground.record``
with a ``Cell``), so any page that opens the run (``?run=<id>``) follows it from the store. Each model takes its
rows several at a time: a local model gets up to ``LOCAL_IN_FLIGHT`` at once, which its continuous batch runs
together, an API model ``API_IN_FLIGHT`` concurrent calls. Every generation (and every judge's call) is an ordinary
recorded run, priced like any other.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, replace

import playground.models_cache as models_cache
from playground.backends.local_pool import POOL
from playground.backends.registry import backend_for
from playground.catalog import Catalog
from playground.checks import JUDGE_MAX_TOKENS, Answer, Check, CheckResult, judge_prompt, parse_verdict, run_checks
from playground.checks import verdict as overall_verdict
from playground.context import RunContext
from playground.errors import CatalogError, InputError
from playground.events import Credentials, Failure, GenParams, Request, Result
from playground.i18n import _
from playground.params import check_params
from playground.prompt_sets import PromptRow, PromptSet
from playground.session import Playground, RunSettings
from playground.store.prompt_set_store import Cell

log = logging.getLogger(__name__)

# Rows a local model holds at once: they share its continuous batch, and its line (32 waiting) keeps room for others.
# bench/prompt_sets.py: 16 finished 20 rows x 2 models in 20.7 s where 8 took 25.3 s (one torch thread per step).
LOCAL_IN_FLIGHT = 16
API_IN_FLIGHT = 4  # concurrent calls per API model (as batch evaluation), within its rate limits
SIMILARITY_MODEL = "minilm-zero-shot"
RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


@dataclass
class Progress:
    done: int
    total: int
    elapsed_s: float
    status: str

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; None until a cell is done."""
        if not self.done or self.status != RUNNING:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


def can_judge(catalog: Catalog, model_id: str) -> bool:
    return model_id in catalog.models and "generate" in catalog.get(model_id).tasks


def minilm_similarity(catalog: Catalog):
    """Cosine of two texts in all-MiniLM-L6-v2's space, with the very model the classify page loads (one copy per
    process, from the local pool), behind its lock."""
    spec = catalog.get(SIMILARITY_MODEL)
    backend = backend_for(catalog, spec, "classify")
    source = models_cache.resolve(spec)
    if not source.ready:
        raise InputError(_("{name} is not on this machine.").format(name=spec.display_name), source.missing_hint)

    def similarity(a: str, b: str) -> float:
        loaded, _load_s = POOL.get((spec.id, source.location), lambda: backend.load(source.location))
        tokenizer, model = loaded.parts
        with loaded.lock:
            batch = tokenizer([a, b], padding=True, truncation=True, max_length=512, return_tensors="pt")
            vectors = backend.embed(model, batch)
        return float(vectors[0] @ vectors[1])

    return similarity


class PromptSetRun:
    """One run of a set on several models. ``start()`` returns at once; ``progress()``, ``cancel()``, ``wait()``."""

    def __init__(
        self,
        playground: Playground,
        prompt_set: PromptSet,
        model_ids: list[str],
        params: GenParams,
        credentials: Credentials | None = None,
        context: RunContext = RunContext("prompt_sets"),
        settings: RunSettings | None = None,
        rerun_of: str | None = None,
    ) -> None:
        check_params(params)
        for model_id in model_ids:
            if not can_judge(playground.catalog, model_id):
                raise CatalogError(_("{model} is not a generating model of the catalog.").format(model=model_id))
        if not model_ids:
            raise InputError(_("Pick at least one model."))
        self.id = uuid.uuid4().hex
        self.playground, self.prompt_set, self.params = playground, prompt_set, params
        self.model_ids = list(dict.fromkeys(model_ids))
        self.credentials = credentials or Credentials()  # in memory only, for this run's calls
        self.context, self.settings = context, settings or RunSettings()
        self.rerun_of = rerun_of
        self.total = len(prompt_set.rows) * len(self.model_ids)
        self.done = 0
        self.status = RUNNING
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._similarity = None

    # ------------------------------------------------------------ control
    def start(self) -> PromptSetRun:
        self.playground.store.create_prompt_set_run(
            self.id,
            self.prompt_set.as_data(),
            self.model_ids,
            asdict(self.params),
            self.context.session_id,
            self.context.room,
            self.rerun_of,
        )
        with _LIVE_GUARD:
            _LIVE[self.id] = self
        thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,), daemon=True)
        thread.start()
        return self

    def cancel(self) -> None:
        """Stop: cells not started are skipped, answers in progress are stopped at their next token."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def progress(self) -> Progress:
        return Progress(self.done, self.total, time.perf_counter() - self._started, self.status)

    # ------------------------------------------------------------ the run's own thread
    def _run(self) -> None:
        try:
            workers = []
            for model_id in self.model_ids:
                rows = list(enumerate(self.prompt_set.rows))
                in_flight = LOCAL_IN_FLIGHT if self.playground.catalog.get(model_id).is_local else API_IN_FLIGHT
                for _n in range(min(in_flight, len(rows))):
                    worker = threading.Thread(
                        target=contextvars.copy_context().run, args=(self._work, model_id, rows), daemon=True
                    )
                    worker.start()
                    workers.append(worker)
            for worker in workers:
                worker.join()
            self.status = CANCELLED if self._cancel.is_set() else DONE
        except Exception:
            log.exception("prompt set run %s failed", self.id)
            self.status = FAILED
        finally:
            try:
                self.playground.store.finish_prompt_set_run(self.id, self.status)
            finally:
                self._finished.set()
                with _LIVE_GUARD:
                    _LIVE.pop(self.id, None)

    def _work(self, model_id: str, rows: list[tuple[int, PromptRow]]) -> None:
        """Take this model's next row until none is left (``rows`` is shared by the model's workers)."""
        while not self._cancel.is_set():
            with self._lock:
                if not rows:
                    return
                index, row = rows.pop(0)
            try:
                self._cell(model_id, index, row)
            except Exception:  # a broken store or check must not stop the other cells
                log.exception("prompt set cell %s/%s failed", index, model_id)
            with self._lock:
                self.done += 1

    def _cell(self, model_id: str, index: int, row: PromptRow) -> None:
        request = Request(
            "generate", prompt=row.text, system=row.system, params=self.params, owner=f"{self.id}:{index}"
        )
        final = None
        run = self.playground.run([model_id], request, self.credentials, self.context, self.settings, record=False)
        with closing(run):
            for event in run:
                if self._cancel.is_set():
                    return  # closing the run stops the model at its next token; an unanswered cell is not stored
                if isinstance(event, (Result, Failure)):
                    final = event  # the last event: an answered cell is checked and stored, cancelled or not
        try:
            cell = Cell(self.id, index, model_id, self._checked(row, final))
        except Exception:  # a broken check: the generation still happened, so history keeps it
            self.playground.record(final, request, self.credentials, self.context, self.settings)
            raise
        if unsaved := self.playground.record(final, request, self.credentials, self.context, self.settings, cell):
            log.warning("prompt set cell %s/%s not stored: %s", index, model_id, unsaved.message)

    def _checked(self, row: PromptRow, final: Result | Failure) -> dict:
        """The cell's columns: the answer or the error, its metrics, and every check's result."""
        cell = {"checks": [], "verdict": "error"}
        m = final.metrics
        if m is not None:
            own_s = None if m.total_s is None else max(0.0, m.total_s - m.queue_s - m.load_s)
            cell |= {"latency_s": own_s, "tokens_in": m.input_tokens, "tokens_out": m.output_tokens}
        cell["cost_usd"] = final.cost.usd if final.cost is not None else None
        if isinstance(final, Failure):
            cell |= {"answer": final.partial_text, "error": f"{final.message} {final.hint}".strip()}
        else:
            answer = Answer(final.text, cell.get("latency_s"), cell["cost_usd"])
            results = run_checks(row.checks, row.text, answer, row.reference, self._similar, self._judge)
            cell |= {
                "answer": final.text,
                "checks": [r.as_data() for r in results],
                "verdict": overall_verdict(results),
            }
        if not self.settings.store_io:
            cell["answer"] = None
        return cell

    def _similar(self, a: str, b: str) -> float:
        with self._lock:
            if self._similarity is None:
                self._similarity = minilm_similarity(self.playground.catalog)
        return self._similarity(a, b)

    def _judge(self, check: Check, prompt: str, answer: str, reference: str) -> CheckResult:
        """The judge model's verdict and its reason; a judge that fails or gives no verdict leaves it not judged."""
        label = check.describe()
        request = Request(
            "generate",
            prompt=judge_prompt(check.value["rubric"], prompt, answer, reference),
            params=GenParams(temperature=0.0, max_new_tokens=JUDGE_MAX_TOKENS),
            owner=f"{self.id}:judge:{uuid.uuid4().hex[:8]}",
        )
        context = replace(self.context, page="prompt_sets_judge")
        final = self.playground.run_one(check.value["model"], request, self.credentials, context, self.settings)
        if isinstance(final, Failure):
            return CheckResult(check.kind, label, None, _("the judge failed: {error}").format(error=final.message))
        reply = final.text.strip()
        passed = parse_verdict(reply)
        if passed is None:
            return CheckResult(
                check.kind, label, None, _("no verdict in the judge's reply: {reply}").format(reply=reply)
            )
        return CheckResult(check.kind, label, passed, reply)


_LIVE: dict[str, PromptSetRun] = {}  # runs in progress in this process, by id
_LIVE_GUARD = threading.Lock()


def live_run(run_id: str) -> PromptSetRun | None:
    """The run in progress in this server process, or None (finished, or running on another replica)."""
    with _LIVE_GUARD:
        return _LIVE.get(run_id)


def start_prompt_set(playground: Playground, prompt_set: PromptSet, *args, **kwargs) -> PromptSetRun:
    """Validate, store the run, and start it on its own thread; returns at once (``PromptSetRun``'s arguments)."""
    return PromptSetRun(playground, prompt_set, *args, **kwargs).start()
