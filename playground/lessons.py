"""The Learn page's five dimensions of "open", each with a prepared side-by-side run reached by a deep link.

A demo is data: the page it opens and the URL parameters that preselect models and inputs (``?models=``,
``?prompt=``, ``?system=``, ``?preset=``, ``?text=``, ``?sample=``, ``?lesson=``). The run pages read them, so a
teacher can also hand the same link out. Texts are translated when asked for (call at render time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playground.catalog import Catalog
from playground.i18n import _

DIMENSIONS = ("privacy", "cost", "transparency", "community", "commercial")


@dataclass(frozen=True)
class Demo:
    page: str  # the file under pages/, named after its task
    models: tuple[str, ...]
    inputs: dict[str, str] = field(default_factory=dict)  # translated lazily: see demo_inputs

    def query_params(
        self, catalog: Catalog, lesson: str, can_run: Callable[[str], bool] = lambda model_id: True
    ) -> dict[str, str]:
        """The link's parameters. Only models that ``can_run`` here go in; when fewer than two are left, local
        models of the same task that can run fill up to two, so the run opened is never a page of errors."""
        models = [m for m in self.models if m in catalog.models and can_run(m)]
        spare = [s.id for s in catalog.for_task(self.page) if s.is_local and s.id not in models and can_run(s.id)]
        models += spare[: max(0, 2 - len(models))]
        return {"models": ",".join(models), "lesson": lesson, **demo_inputs(lesson)}


DEMOS = {
    "privacy": Demo("generate", ("smollm2-135m", "self-hosted", "gpt-4o-mini", "deepseek-chat")),
    "cost": Demo("generate", ("smollm2-135m", "gpt-4o-mini")),
    "transparency": Demo("caption", ("blip-base", "smolvlm-256m", "gpt-4o-mini")),
    "community": Demo("classify", ("bert-ag-news", "minilm-zero-shot", "smollm2-135m", "gpt-4o-mini")),
    "commercial": Demo("generate", ("smollm2-135m", "qwen2.5-0.5b", "gpt-4o-mini", "claude-haiku")),
}


def demo_inputs(lesson: str) -> dict[str, str]:
    """The inputs a demo fills in, in the current language (AG-News headlines stay English: the set is English)."""
    if lesson == "privacy":
        return {
            "prompt": _(
                "Write a short, polite note to my landlord: I am Li Wei, I live at 12 Garden Road, flat 3, my phone "
                "is 138 0013 8000, and this month's rent will be five days late."
            )
        }
    if lesson == "cost":
        return {"prompt": _("Summarise in two sentences why a library would lend e-books.")}
    if lesson == "transparency":
        return {"sample": "coffee"}
    if lesson == "community":
        return {"preset": "topic", "text": "Stocks rally as the central bank holds interest rates steady"}
    if lesson == "commercial":
        return {
            "system": _(
                "You are the customer-service agent of an online bookshop. Answer politely in three sentences."
            ),
            "prompt": _("My order 4521 arrived with a torn cover. Can I get a replacement?"),
        }
    return {}


def title(lesson: str) -> str:
    return {
        "privacy": _("Privacy: where your data goes"),
        "cost": _("Cost: per-token fees against hardware"),
        "transparency": _("Transparency: weights, training data, code"),
        "community": _("Community: fine-tunes and forks"),
        "commercial": _("Commercial use: what the licence allows"),
    }[lesson]


def explanation(lesson: str) -> str:
    return {
        "privacy": _(
            "An open model can run on this machine or on a server you control, so the prompt never leaves your "
            "hands. A closed model is reachable only through its vendor's API: every prompt goes to the vendor, "
            "and the vendor's terms say what it may keep and learn from."
        ),
        "cost": _(
            "A closed API bills every token: cheap to start, and the bill grows with use. A self-hosted open model "
            "costs a machine by the hour, whatever the volume, until one machine is no longer enough. Where the "
            "two lines cross is the break-even volume."
        ),
        "transparency": _(
            "Open weights let you inspect, test and run a model yourself; open training data and code also let you "
            "see what it learned from and rebuild it. A closed model is a black box behind an API."
        ),
        "community": _(
            "Open weights let anyone adapt a model. Google's BERT became thousands of fine-tunes, such as "
            "TextAttack's news classifier; a closed model can only be adapted where its vendor offers fine-tuning, "
            "on the vendor's servers."
        ),
        "commercial": _(
            "Open does not always mean free to use in a product: Apache-2.0 and MIT allow it, RAIL licences forbid "
            "listed uses, a model without a licence grants nothing, and an API's terms can change. A customer-service "
            "reply is the kind of task a business would ship."
        ),
    }[lesson]


def try_it(lesson: str) -> str:
    return {
        "privacy": _(
            "The same personal note goes to a local model, your server and two APIs: see which ones send it away."
        ),
        "cost": _("Run a local model and an API once to measure them; the break-even below uses your runs."),
        "transparency": _("Describe one photo with open captioners (data and code published) and a closed API model."),
        "community": _("Classify an AG-News headline: a community fine-tune of BERT, a zero-shot model and LLMs."),
        "commercial": _(
            "A customer-service reply from open and closed models; each card says what its licence allows."
        ),
    }[lesson]
