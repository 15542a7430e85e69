"""The blind arena: which two models meet, which votes count, and what the votes say (Bradley-Terry with honest
error bars).

Ratings are Chatbot Arena's recipe: a Bradley-Terry model fitted as a logistic regression (scikit-learn), on the
Elo scale (400 points = 10:1 odds, centred on 1000), with percentile intervals from resampling the votes. With a
class's 30 votes the intervals are wide, and that is the lesson.
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from playground.catalog import Catalog, ModelSpec
from playground.errors import InputError
from playground.pricing import api_cost, hardware_cost

CHOICES = ("a", "b", "tie", "both_bad")  # A is better / B is better / tie / both are bad
VOTE_CAP = 50  # votes one session may cast in one room (or outside any room)
BOOTSTRAP_ROUNDS = 200
SCALE, BASE, CENTRE = 400.0, 10.0, 1000.0
PRIOR_C = 1.0  # L2 strength of the fit: a N(0, 1) prior on each log-odds strength (about ±175 rating points)


@dataclass(frozen=True)
class Battle:
    """One blind pair. ``model_a``/``model_b`` stay on the server: pages render only "Model A" and "Model B"."""

    id: str
    task: str
    model_a: str
    model_b: str


def draw_pair(models: Sequence[ModelSpec], rng: random.Random | None = None) -> tuple[str, str]:
    """Two different models, open against closed when both kinds are at hand, in a random order."""
    rng = rng or secrets.SystemRandom()
    unique = list({m.id: m for m in models}.values())
    if len(unique) < 2:
        raise InputError("A battle needs two models that can run.", hint="Add an API key or another local model.")
    open_models = [m for m in unique if m.openness == "open"]
    closed_models = [m for m in unique if m.openness == "closed"]
    if open_models and closed_models:
        pair = [rng.choice(open_models).id, rng.choice(closed_models).id]
    else:
        pair = [m.id for m in rng.sample(unique, 2)]
    rng.shuffle(pair)
    return pair[0], pair[1]


def new_battle(task: str, models: Sequence[ModelSpec], rng: random.Random | None = None) -> Battle:
    model_a, model_b = draw_pair(models, rng)
    return Battle(id=secrets.token_urlsafe(12), task=task, model_a=model_a, model_b=model_b)


# ---------------------------------------------------------------- anonymity


def identity_words(catalog: Catalog, spec: ModelSpec) -> set[str]:
    """Words that give a model away: its name, its family (the name's first word without version digits) and the
    vendor. A local machine or a self-hosted server is no vendor, so it names nothing."""
    words = {spec.name}
    family = re.split(r"[\s\-_]", spec.name)[0]
    words |= {family, re.sub(r"[\d.]+$", "", family)}
    provider = catalog.providers.get(spec.provider)
    if provider is not None and provider.kind != "local" and spec.provider != "self-hosted":
        words.add(provider.name.split(" ")[0])
    return {w for w in words if len(w) >= 3}


def names_itself(text: str, words: set[str]) -> bool:
    return any(re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text, re.IGNORECASE) for w in words)


# Any assistant's or vendor's name gives a side away, not only its own ("I'm ChatGPT" from another model still
# tells a voter which kind of model wrote it). Spaces, dots and dashes inside a name are optional: "Open AI",
# "GPT4o", "Hugging-Face".
_SEP = r"[\s.\-_]?"
KNOWN_IDENTITIES = re.compile(
    r"(?<![a-z0-9])(?:"
    + "|".join(
        (
            rf"chat{_SEP}gpt",
            rf"gpt{_SEP}[345](?:\.\d)?{_SEP}o?",
            rf"open{_SEP}ai",
            r"bard",
            r"gemini",
            r"claude",
            r"anthropic",
            rf"hugging{_SEP}face",
            rf"deep{_SEP}seek",
            r"qwen",
            r"llama",
            r"mistral",
            r"ernie",
            rf"smol{_SEP}lm",
            r"copilot",
        )
    )
    + r")(?![a-z])"
    + r"|通义千问|通义|千问|文心一言|文心|深度求索|智谱|豆包|混元",
    re.IGNORECASE,
)


def is_anonymous(catalog: Catalog, battle: Battle, answer_a: str, answer_b: str) -> bool:
    """Arena's rule: an answer that names its own model or vendor, or any known assistant, still counts, but not
    for the ratings."""
    return not any(
        KNOWN_IDENTITIES.search(answer) or names_itself(answer, identity_words(catalog, catalog.get(model_id)))
        for model_id, answer in ((battle.model_a, answer_a), (battle.model_b, answer_b))
    )


def reveal_together(catalog: Catalog, battle: Battle) -> bool:
    """Whether both answers must appear at once, when both are complete. On a CPU the int4 side finishes about
    five times sooner than fp32, and a local model streams nothing like an API: watching the words arrive would
    name the model. Two API models stream as they come."""
    return catalog.get(battle.model_a).is_local or catalog.get(battle.model_b).is_local


# ---------------------------------------------------------------- vote rules


def vote_refusal(
    battle_session: str | None, session_id: str, choice: str, votes_cast: int, cap: int = VOTE_CAP
) -> str | None:
    """Why a vote is refused, or None. ``battle_session`` is the session the battle was shown to (None: no such
    battle); ``votes_cast`` is how many votes this session already cast in this room. A second vote on the same
    battle is refused by the store itself."""
    if choice not in CHOICES:
        return "unknown_choice"
    if battle_session is None or battle_session != session_id:
        return "not_shown"
    if votes_cast >= cap:
        return "cap"
    return None


# ---------------------------------------------------------------- Bradley-Terry


def _battles(votes: pd.DataFrame) -> pd.DataFrame:
    """The votes a rating can use: a known choice between two different models."""
    if votes.empty:
        return pd.DataFrame(columns=["model_a", "model_b", "choice"])
    return votes[votes["choice"].isin(CHOICES) & (votes["model_a"] != votes["model_b"])][
        ["model_a", "model_b", "choice"]
    ]


def _expand(kinds: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, float]], np.ndarray]:
    """Logistic-regression rows, "A beat B" and "A lost to B" for each pair that met, and each kind of battle's
    weight on them: a win is one row; a tie or "both bad" is half a win each way (Arena's convention)."""
    pairs = list(dict.fromkeys((a, b) for a, b, _ in kinds))
    rows = [(a, b, a_won) for a, b in pairs for a_won in (1.0, 0.0)]
    weights = np.zeros((len(kinds), len(rows)))
    for k, (a, b, choice) in enumerate(kinds):
        won = 2 * pairs.index((a, b))
        weights[k, won : won + 2] = {"a": (1.0, 0.0), "b": (0.0, 1.0)}.get(choice, (0.5, 0.5))
    return rows, weights


def _fit(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Strengths in log-odds, one row per row of ``weights`` (the data, then each bootstrap round).

    Each set of weights is an independent logistic regression. They are fitted together as one block-diagonal
    problem (the loss and the penalty separate by block), so 200 rounds cost one fit, not 200. The L2 penalty
    (C=PRIOR_C) is a weak prior that centres the strengths and keeps a class's first lopsided votes from sending
    a model a thousand points away; a few dozen votes outweigh it.
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    block = sparse.csr_matrix(design)
    per_chunk = max(1, 200_000 // max(1, len(y)))  # bounds the stacked matrix on big leaderboards
    strengths = []
    for start in range(0, len(weights), per_chunk):
        chunk = weights[start : start + per_chunk]
        model = LogisticRegression(fit_intercept=False, C=PRIOR_C, tol=1e-8, max_iter=2000)
        model.fit(
            sparse.block_diag([block] * len(chunk), format="csr"), np.tile(y, len(chunk)), sample_weight=chunk.ravel()
        )
        strengths.append(model.coef_[0].reshape(len(chunk), design.shape[1]))
    return np.vstack(strengths)


def _to_rating(beta: np.ndarray) -> np.ndarray:
    return CENTRE + SCALE / math.log(BASE) * (beta - beta.mean(axis=-1, keepdims=True))


def bradley_terry(votes: pd.DataFrame, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> pd.DataFrame:
    """Ratings with 95% bootstrap intervals: model_id, rating, lower, upper, battles, wins, ties, losses.

    ``votes`` has columns model_a, model_b, choice. Each round resamples whole battles; identical battles are
    merged into weighted rows, so a round is one small fit however many votes there are.
    """
    columns = ["model_id", "rating", "lower", "upper", "battles", "wins", "ties", "losses"]
    battles = _battles(votes)
    if battles.empty:
        return pd.DataFrame(columns=columns)
    kind_counts = battles.value_counts(sort=False)
    kinds = list(kind_counts.index)
    rows, weights = _expand(kinds)
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    design = np.zeros((len(rows), len(models)))
    for r, (a, b, _) in enumerate(rows):
        design[r, index[a]], design[r, index[b]] = 1.0, -1.0
    y = np.array([row[2] for row in rows])
    counts = kind_counts.to_numpy(dtype=float)
    drawn = np.random.default_rng(seed).multinomial(len(battles), counts / counts.sum(), size=rounds)
    ratings = _to_rating(_fit(design, y, np.vstack([counts, drawn]) @ weights))
    point, samples = ratings[0], ratings[1:]
    lower, upper = np.percentile(samples, [2.5, 97.5], axis=0)

    table = pd.DataFrame({"model_id": models, "rating": point, "lower": lower, "upper": upper})
    table = table.merge(_record(battles, models), on="model_id")
    return table.sort_values("rating", ascending=False, ignore_index=True)[columns]


# ---------------------------------------------------------------- style control

STYLE_FEATURES = ("length", "headers", "lists", "bold")
_STYLE_PATTERNS = {
    "headers": re.compile(r"^#{1,6}\s", re.MULTILINE),
    "lists": re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.MULTILINE),
    "bold": re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),
}


def style_counts(text: str) -> dict[str, int]:
    """What a voter may reward besides substance: length (characters, so Chinese counts too) and Markdown."""
    return {"length": len(text), **{name: len(p.findall(text)) for name, p in _STYLE_PATTERNS.items()}}


def battle_answers(runs: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Each battle's answers per model from the stored runs, every turn joined (runs without stored text skipped)."""
    if runs.empty or "battle_id" not in runs:
        return {}
    kept = runs[runs["battle_id"].notna() & runs["output"].notna()].sort_values(["turn", "id"], na_position="first")
    return {key: "\n\n".join(group["output"]) for key, group in kept.groupby(["battle_id", "model_id"])}


def with_style(votes: pd.DataFrame, answers: dict[tuple[str, str], str]) -> pd.DataFrame:
    """The votes whose two answers are known, with one column per style feature: Chatbot Arena's normalised
    difference (A - B) / (A + B), then standardised over the votes."""
    rows = []
    for vote in votes.itertuples(index=False):
        a, b = answers.get((vote.battle_id, vote.model_a)), answers.get((vote.battle_id, vote.model_b))
        if a is None or b is None:
            continue
        ca, cb = style_counts(a), style_counts(b)
        diffs = {f: (ca[f] - cb[f]) / (ca[f] + cb[f]) if ca[f] + cb[f] else 0.0 for f in STYLE_FEATURES}
        rows.append({"model_a": vote.model_a, "model_b": vote.model_b, "choice": vote.choice, **diffs})
    frame = pd.DataFrame(rows, columns=["model_a", "model_b", "choice", *STYLE_FEATURES])
    for f in STYLE_FEATURES:
        spread = frame[f].std(ddof=0) if len(frame) else 0.0
        frame[f] = (frame[f] - frame[f].mean()) / spread if spread else 0.0
    return frame


def bradley_terry_style(
    votes: pd.DataFrame, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Ratings with style as covariates (``votes`` from ``with_style``): what a model is worth once length and
    Markdown are accounted for. Also returns each feature's coefficient in rating points per standard deviation.

    One pair of rows per vote (battles with different styles cannot be merged), resampled whole each round.
    """
    columns = ["model_id", "rating", "lower", "upper", "battles", "wins", "ties", "losses"]
    battles = votes[votes["choice"].isin(CHOICES) & (votes["model_a"] != votes["model_b"])]
    if battles.empty:
        return pd.DataFrame(columns=columns), {}
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    index = {m: i for i, m in enumerate(models)}
    n = len(battles)
    design = np.zeros((2 * n, len(models) + len(STYLE_FEATURES)))
    outcome = np.tile([1.0, 0.0], n)
    per_vote = np.zeros((n, 2 * n))
    for v, vote in enumerate(battles.itertuples(index=False)):
        for r in (2 * v, 2 * v + 1):
            design[r, index[vote.model_a]], design[r, index[vote.model_b]] = 1.0, -1.0
            design[r, len(models) :] = [getattr(vote, f) for f in STYLE_FEATURES]
        per_vote[v, 2 * v : 2 * v + 2] = {"a": (1.0, 0.0), "b": (0.0, 1.0)}.get(vote.choice, (0.5, 0.5))
    drawn = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=rounds)
    beta = _fit(design, outcome, np.vstack([np.ones(n), drawn]) @ per_vote)
    ratings = _to_rating(beta[:, : len(models)])
    lower, upper = np.percentile(ratings[1:], [2.5, 97.5], axis=0)
    table = pd.DataFrame({"model_id": models, "rating": ratings[0], "lower": lower, "upper": upper})
    table = table.merge(_record(battles, models), on="model_id")
    style = {f: float(SCALE / math.log(BASE) * beta[0, len(models) + i]) for i, f in enumerate(STYLE_FEATURES)}
    return table.sort_values("rating", ascending=False, ignore_index=True)[columns], style


def _record(votes: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Battles, wins, ties (both-bad included) and losses per model."""
    rows = []
    for model in models:
        as_a, as_b = votes[votes["model_a"] == model], votes[votes["model_b"] == model]
        wins = int((as_a["choice"] == "a").sum() + (as_b["choice"] == "b").sum())
        losses = int((as_a["choice"] == "b").sum() + (as_b["choice"] == "a").sum())
        battles = len(as_a) + len(as_b)
        rows.append((model, battles, wins, battles - wins - losses, losses))
    return pd.DataFrame(rows, columns=["model_id", "battles", "wins", "ties", "losses"])


def win_rates(votes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pairwise matrices: how often the row model beat the column model (a tie counts half), and how many
    battles each cell rests on. Cells with no battle are NaN / 0."""
    battles = _battles(votes)
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    won = pd.DataFrame(0.0, index=models, columns=models)
    played = pd.DataFrame(0, index=models, columns=models)
    for a, b, choice in battles.itertuples(index=False):
        a_score = {"a": 1.0, "b": 0.0}.get(choice, 0.5)
        won.loc[a, b] += a_score
        won.loc[b, a] += 1 - a_score
        played.loc[a, b] += 1
        played.loc[b, a] += 1
    return won / played.where(played > 0), played


@dataclass(frozen=True)
class Share:
    """A win rate with its 95% interval and the number of battles behind it."""

    rate: float
    lower: float
    upper: float
    battles: int


def open_vs_closed(votes: pd.DataFrame, openness: dict[str, str], rounds: int = 1000, seed: int = 0) -> Share | None:
    """How often the open side won its battles against a closed model (a tie counts half), with a bootstrap
    interval; None when no such battle was voted."""
    scores = []
    for a, b, choice in votes[["model_a", "model_b", "choice"]].itertuples(index=False):
        kinds = (openness.get(a), openness.get(b))
        if set(kinds) != {"open", "closed"} or choice not in CHOICES:
            continue
        open_side = "a" if kinds[0] == "open" else "b"
        scores.append(1.0 if choice == open_side else 0.5 if choice in ("tie", "both_bad") else 0.0)
    if not scores:
        return None
    values = np.array(scores)
    means = np.random.default_rng(seed).choice(values, size=(rounds, len(values))).mean(axis=1)
    lower, upper = np.percentile(means, [2.5, 97.5])
    return Share(float(values.mean()), float(lower), float(upper), len(values))


def rated_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """The votes that count for ratings: anonymous ones only."""
    if votes.empty or "anonymous" not in votes:
        return votes
    return votes[votes["anonymous"].astype(bool)]


# ---------------------------------------------------------------- rating against price

BLEND_INPUT_SHARE = 0.75  # a "blended" token price: 3 input tokens for every output token, as price tables quote it


def price_per_million(catalog: Catalog, spec: ModelSpec, hourly_usd: float, tokens_per_s: float | None) -> float | None:
    """USD per 1M tokens: genai-prices for an API (3:1 input:output blend); for a local model, the machine's hourly
    rate over the time it takes to write 1M tokens at its measured speed. None when nothing prices it."""
    if spec.is_local:
        if hourly_usd == 0:
            return 0.0
        return hardware_cost(1e6 / tokens_per_s, hourly_usd) if tokens_per_s else None
    share = int(1e6 * BLEND_INPUT_SHARE)
    return api_cost(spec, catalog.provider_of(spec), share, 1_000_000 - share).usd


def leaderboard(
    catalog: Catalog,
    votes: pd.DataFrame,
    hourly_usd: float = 0.0,
    speeds: dict[str, float] | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
    answers: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """The ratings of the anonymous votes, with each model's name, openness and price per 1M tokens. With
    ``answers`` (``battle_answers``), the style-controlled fit over the votes whose answers are known."""
    if answers is None:
        table = bradley_terry(rated_votes(votes), rounds=rounds)
    else:
        table, _style = bradley_terry_style(with_style(rated_votes(votes), answers), rounds=rounds)
    specs = [catalog.models.get(m) for m in table["model_id"]]
    table.insert(1, "name", [s.name if s else m for s, m in zip(specs, table["model_id"])])
    table.insert(2, "openness", [s.openness if s else "unknown" for s in specs])
    table["usd_per_1m_tokens"] = [
        price_per_million(catalog, s, hourly_usd, (speeds or {}).get(s.id)) if s else None for s in specs
    ]
    return table
