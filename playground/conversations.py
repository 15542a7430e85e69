"""Multi-turn conversations, one thread per model, side by side.

One message goes to every model of a conversation; each model keeps its own thread (its own answers), so the
second question is asked of each model's own first answer. Every turn re-sends the whole thread (that is how chat
APIs work, and why a conversation's cost grows), as ``Request.history``, which every backend turns into messages
through ``events.chat_messages``.

Local models have a context window and this server caps prompts (``limits.max_prompt_tokens``): when a thread no
longer fits, its oldest turns are left out and the turn says so (``Trim``). API models get the whole thread.

Each answer runs on its own background thread and fills its ``Turn`` as events come, so a page can stop or
regenerate one column while the others keep streaming, and a page rerun does not interrupt anyone. Every turn is a
run in the store, tagged with the conversation's id and the turn's number; ``Thread.totals`` adds up what was
actually sent and paid for (regenerated and stopped answers included), the same runs the store holds.
"""

from __future__ import annotations

import contextvars
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

import playground.models_cache as models_cache
from playground.catalog import ModelSpec
from playground.context import RunContext
from playground.errors import CANCELLED
from playground.events import Credentials, Failure, GenParams, Notice, Request, Result, Token, Waiting
from playground.formatting import format_count
from playground.i18n import _
from playground.metrics import CallMetrics
from playground.serving import limits

Counter = Callable[[list[dict]], int]  # messages -> prompt tokens, chat template included


@dataclass(frozen=True)
class Trim:
    """The oldest turns left out of one request so the rest fits the model's prompt limit."""

    dropped: int  # turns 1..dropped were not sent
    tokens: int  # the whole thread, in tokens, had it been sent
    limit: int  # the prompt limit it had to fit

    def describe(self) -> str:
        values = {"tokens": format_count(self.tokens), "limit": format_count(self.limit), "last": self.dropped}
        if self.dropped == 1:
            return _("Turn 1 left out: the conversation is {tokens} tokens, over the {limit}-token limit.").format(
                **values
            )
        return _("Turns 1-{last} left out: the conversation is {tokens} tokens, over the {limit}-token limit.").format(
            **values
        )


def prompt_limit(spec: ModelSpec, params: GenParams) -> int | None:
    """The most prompt tokens a local model reads for this request (its context less the answer's room, and the
    server's cap); None for API models, which get the whole thread."""
    if not spec.is_local:
        return None
    return max(1, min((spec.context or 2048) - params.max_new_tokens, limits.max_prompt_tokens()))


@lru_cache(maxsize=8)
def _tokenizer(folder: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder), threading.Lock()  # fast tokenizers are not thread-safe


def token_counter(spec: ModelSpec) -> Counter | None:
    """Counts a thread's prompt tokens with the model's own tokenizer and chat template (both the fp32 folder and
    the ONNX build carry them); None when the model is not on this machine or has no chat template."""
    source = models_cache.resolve_onnx(spec) if spec.runtime == "onnxruntime-genai" else models_cache.resolve(spec)
    if not source.ready or getattr(source, "needs_download", False):
        return None
    try:
        tokenizer, lock = _tokenizer(source.location)
    except Exception:  # a folder without a tokenizer: the backend's own truncation still applies
        return None
    if not getattr(tokenizer, "chat_template", None):
        return None

    def count(messages: list[dict]) -> int:
        with lock:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])  # as the local backends encode it

    return count


def fit_history(
    history: list[dict], system: str, prompt: str, limit: int | None, count: Counter | None
) -> tuple[list[dict], Trim | None]:
    """The newest whole turns of ``history`` (user + assistant pairs) that fit ``limit`` with the new prompt."""
    if limit is None or count is None:
        return history, None
    head = [{"role": "system", "content": system}] if system else []
    question = [{"role": "user", "content": prompt}]
    whole = count(head + history + question)
    if whole <= limit:
        return history, None
    kept = history
    while kept and count(head + kept + question) > limit:
        kept = kept[2:]
    return kept, Trim((len(history) - len(kept)) // 2, whole, limit)


@dataclass
class Turn:
    """One message and one model's answer to it, filled live by the answer's background thread."""

    user: str
    text: str = ""  # the answer so far
    final: Result | Failure | None = None
    notices: list[str] = field(default_factory=list)  # kept with the answer (e.g. a truncated prompt)
    progress: str = ""  # passing news (loading the model): gone once the answer starts
    waiting: Waiting | None = None  # its place in line for a shared model, until it starts
    trim: Trim | None = None
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def answer(self) -> str:
        """What the model said: the final text, or what it streamed before failing or being stopped."""
        if isinstance(self.final, Result):
            return self.final.text
        if isinstance(self.final, Failure):
            return self.final.partial_text
        return self.text


@dataclass(frozen=True)
class Totals:
    """What a thread has cost so far: every run it made, the history re-sent with each."""

    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    usd: float | None = 0.0  # None: some answer could not be priced
    runs: int = 0


@dataclass
class Thread:
    model_id: str
    turns: list[Turn] = field(default_factory=list)
    runs: list[Result | Failure] = field(default_factory=list)  # every finished run, replaced answers included

    def history(self, before: int) -> list[dict]:
        """Turns before ``before`` as chat messages (a failed turn's partial answer counts as what was said)."""
        messages = []
        for turn in self.turns[:before]:
            messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.answer}]
        return messages

    @property
    def running(self) -> bool:
        return any(not t.done.is_set() for t in self.turns)

    def totals(self) -> Totals:
        metrics = [r.metrics for r in self.runs if r.metrics is not None]
        # failures are not priced, as in history; an answer nothing prices makes the total unknown, never $0
        costs = [r.cost.usd if r.cost else None for r in self.runs if isinstance(r, Result)]
        return Totals(
            input_tokens=sum(m.input_tokens or 0 for m in metrics),
            output_tokens=sum(m.output_tokens or 0 for m in metrics),
            seconds=sum(m.total_s or 0.0 for m in metrics),
            usd=None if None in costs else sum(costs),
            runs=len(self.runs),
        )


@dataclass(frozen=True)
class Asking:
    """Who sends and how: passed with every send and never kept, so no credential lives in a conversation."""

    playground: object  # playground.session.Playground (not imported: the session imports the backends)
    credentials: Credentials
    context: RunContext
    settings: object = None  # a RunSettings
    system: str = ""
    params: Mapping[str, GenParams] = field(default_factory=dict)  # per model; GenParams() when missing


@dataclass
class Conversation:
    """Several models, one thread each; changing the models means a new conversation."""

    model_ids: tuple[str, ...]
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    threads: dict[str, Thread] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.model_ids = tuple(self.model_ids)
        self.threads = self.threads or {m: Thread(m) for m in self.model_ids}

    @property
    def turns(self) -> int:
        return max((len(t.turns) for t in self.threads.values()), default=0)

    @property
    def running(self) -> bool:
        return any(t.running for t in self.threads.values())

    def send(
        self,
        text: str,
        asking: Asking,
        counters: Mapping[str, Counter | None] | None = None,
        arrived: float | None = None,
    ) -> None:
        """Ask every model ``text`` as the next turn of its own thread. ``arrived`` (perf_counter) is when the user's
        request reached the server, e.g. the start of the page's rerun; by default, now."""
        for thread in self.threads.values():
            thread.turns.append(Turn(text))
            self._answer(thread, asking, counters, arrived=arrived)

    def regenerate(self, model_id: str, asking: Asking, counters: Mapping[str, Counter | None] | None = None) -> None:
        """A new answer to one model's last message, with a fresh seed (the same seed would give the same answer);
        the replaced run stays in history (it was sent and paid for)."""
        thread = self.threads[model_id]
        self.stop(model_id)
        thread.turns[-1] = Turn(thread.turns[-1].user)
        self._answer(thread, asking, counters, reseed=True)

    def edit_last(self, text: str, asking: Asking, counters: Mapping[str, Counter | None] | None = None) -> None:
        """Replace the last message in every thread and ask every model again."""
        for thread in self.threads.values():
            self.stop(thread.model_id)
            thread.turns[-1] = Turn(text)
            self._answer(thread, asking, counters)

    def stop(self, model_id: str) -> None:
        """Stop one model's answer now; the others go on."""
        if turns := self.threads[model_id].turns:
            turns[-1].stop.set()

    def stop_all(self) -> None:
        for model_id in self.threads:
            self.stop(model_id)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until every answer has finished (tests, benchmarks); False when ``timeout_s`` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for thread in self.threads.values():
            for turn in thread.turns:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not turn.done.wait(left):
                    return False
        return True

    def _answer(
        self,
        thread: Thread,
        asking: Asking,
        counters: Mapping[str, Counter | None] | None,
        reseed: bool = False,
        arrived: float | None = None,
    ) -> None:
        """Start the last turn's answer on its own thread. The clock starts when the message arrived (now, unless
        the caller knows it arrived earlier)."""
        index = len(thread.turns) - 1
        params = asking.params.get(thread.model_id, GenParams())
        if reseed:
            params = replace(params, seed=secrets.randbelow(2**31))
        spec = asking.playground.catalog.models.get(thread.model_id)
        count = None
        if spec is not None:
            count = (counters or {}).get(thread.model_id) if counters is not None else token_counter(spec)
        ask = _TurnAsk(thread, thread.turns[index], index, params, arrived or time.perf_counter(), spec, count)
        context = replace(asking.context, conversation_id=self.id, turn=index + 1)
        worker = threading.Thread(
            target=contextvars.copy_context().run,  # the asking session's language, for messages made there
            args=(_when_ready, ask, asking, context),
            daemon=True,
        )
        worker.start()


@dataclass(frozen=True)
class _TurnAsk:
    thread: Thread
    turn: Turn
    index: int
    params: GenParams
    arrived: float
    spec: ModelSpec | None
    count: Counter | None


def _when_ready(ask: _TurnAsk, asking: Asking, context: RunContext) -> None:
    """A follow-up sent while the answer it follows is still coming waits for it (that answer is part of what it
    asks about), then goes with the thread as it stands, trimmed to the model's limit."""
    thread, turn = ask.thread, ask.turn
    if ask.index:
        thread.turns[ask.index - 1].done.wait()
    if turn.stop.is_set():  # stopped before it was sent: nothing ran, nothing is recorded
        turn.final = Failure(thread.model_id, _("Stopped."), code=CANCELLED)
        turn.done.set()
        return
    history = thread.history(ask.index)
    if ask.spec is not None:
        limit = prompt_limit(ask.spec, ask.params)
        history, turn.trim = fit_history(history, asking.system, turn.user, limit, ask.count)
    request = Request(
        "generate",
        prompt=turn.user,
        system=asking.system,
        params=ask.params,
        history=tuple(history),
        arrived=ask.arrived,
    )
    _stream_turn(thread, turn, request, asking, context)


def _stream_turn(thread: Thread, turn: Turn, request: Request, asking: Asking, context: RunContext) -> None:
    """Run one model on one turn, filling ``turn`` as events come; a stop closes the run (which cancels it)."""
    model_id = thread.model_id
    first_token_at = None
    events = asking.playground.run([model_id], request, asking.credentials, context, asking.settings)
    try:
        for event in events:
            if isinstance(event, Token):
                first_token_at = first_token_at or time.perf_counter()
                turn.text += event.text
                turn.waiting, turn.progress = None, ""
            elif isinstance(event, Waiting):
                turn.waiting = event
            elif isinstance(event, Notice):
                if event.progress:
                    turn.progress = event.message
                else:
                    turn.notices.append(event.message)
            elif isinstance(event, (Result, Failure)):
                turn.final = event
                thread.runs.append(event)
            if turn.stop.is_set():
                break
    except Exception as exc:  # the page must see an end, whatever happened
        turn.final = Failure(model_id, _("Unexpected error: {error}").format(error=f"{type(exc).__name__}: {exc}"))
    finally:
        events.close()
        if turn.final is None:  # stopped before the end: recorded as cancelled, with what it had said
            now = time.perf_counter()
            stopped = Failure(
                model_id,
                _("Stopped."),
                code=CANCELLED,
                partial_text=turn.text,
                metrics=CallMetrics(
                    ttft_s=None if first_token_at is None else first_token_at - request.arrived,
                    total_s=now - request.arrived,
                ),
            )
            asking.playground.settle(stopped, request, asking.credentials, context, asking.settings)
            turn.final = stopped
            thread.runs.append(stopped)
        turn.waiting, turn.progress = None, ""
        turn.done.set()


def export_json(conversation: Conversation, names: Mapping[str, str] | None = None) -> str:
    """Each column's messages with each turn's metrics and cost, as JSON (no key is ever in a conversation)."""
    return json.dumps(_exported(conversation, names or {}), ensure_ascii=False, indent=2)


def export_markdown(conversation: Conversation, names: Mapping[str, str] | None = None) -> str:
    """The same as a readable document: a section per column, a heading per turn, the metrics under each answer."""
    data = _exported(conversation, names or {})
    heading, you, totals_word = _("Conversation"), _("You"), _("Totals")  # outside f-strings: the extractor sees them
    lines = [f"# {heading} {data['id']}", ""]
    for column in data["columns"]:
        lines += [f"## {column['name']}", ""]
        for number, turn in enumerate(column["turns"], 1):
            title = _("Turn {n}").format(n=number)
            lines += [f"### {title}", "", f"**{you}:** {turn['user']}", ""]
            lines += [f"**{column['name']}:** {turn['answer']}", ""]
            facts = {k: v for k, v in turn.items() if k not in ("user", "answer") and v is not None}
            if facts:
                lines += ["", "`" + json.dumps(facts, ensure_ascii=False) + "`", ""]
        totals = column["totals"]
        lines += [f"_{totals_word}: " + json.dumps(totals, ensure_ascii=False) + "_", ""]
    return "\n".join(lines)


def _exported(conversation: Conversation, names: Mapping[str, str]) -> dict:
    columns = []
    for model_id, thread in conversation.threads.items():
        turns = []
        for turn in thread.turns:
            m = turn.final.metrics if turn.final is not None else None
            turns.append(
                {
                    "user": turn.user,
                    "answer": turn.answer,
                    "error": turn.final.message if isinstance(turn.final, Failure) else None,
                    "left_out_turns": turn.trim.dropped if turn.trim else None,
                    "ttft_s": m.ttft_s if m else None,
                    "total_s": m.total_s if m else None,
                    "input_tokens": m.input_tokens if m else None,
                    "output_tokens": m.output_tokens if m else None,
                    "cost_usd": turn.final.cost.usd if turn.final is not None and turn.final.cost else None,
                }
            )
        totals = thread.totals()
        columns.append(
            {
                "model_id": model_id,
                "name": names.get(model_id, model_id),
                "turns": turns,
                "totals": {
                    "input_tokens": totals.input_tokens,
                    "output_tokens": totals.output_tokens,
                    "seconds": round(totals.seconds, 3),
                    "cost_usd": totals.usd,
                    "runs": totals.runs,
                },
            }
        )
    return {"id": conversation.id, "started": conversation.started, "columns": columns}
