"""Drive the bank world against the platform and score its decisions with the truth.

    python -m tests.generators.bank_world.loop --data-dir D --persons 3000 --history-days 90 \
        --loop-days 10 --seed 0

1. The world writes its history into D (landing files per day, truth in D/truth_bank_world) and
   the whole pipeline runs once with retraining, deciding at 17:00 UTC of the last history day.
2. Each loop day: the world answers everything delivered so far and lives its day (web, app,
   calls, newsletters, applications, CRM changes); the pipeline runs deciding at 17:00 UTC of that
   day, retraining on loop day 7 only. A failed run is reported and the loop goes on.
3. After each run the day's contacts (decisioning.next_best_actions, action 'contact', latest
   decided_at; a key's person is the one owning most of its records) are valued with the true
   click probabilities, beside the best static offer x channel, random, and the oracle.

The pipeline's own output goes to D/logs/; the terminal gets one line per day and a summary, and
D/loop_summary.json has every number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import textwrap
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MARKER = ".bank_world"
CAP_SLACK = __import__("datetime").timedelta(hours=1)
REPO_ROOT = Path(__file__).resolve().parents[3]
LAST_DAYS = 3


def _prepare(root: Path) -> None:
    """A fresh data directory: refuse to wipe one this driver did not create."""
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        sys.exit(f"{root} is not empty and was not made by this driver; pick another --data-dir")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("made by tests.generators.bank_world.loop\n")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_instance.yaml", home / "dagster.yaml")
    os.environ["JOURNEY_DATA_DIR"] = str(root)
    os.environ["DAGSTER_HOME"] = str(home)
    # The world's models stay in its own embedded registry, never on a team server.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    (root / "logs").mkdir()


@contextlib.contextmanager
def _quiet(log_path: Path) -> Iterator[None]:
    """Send everything written to stdout and stderr (subprocesses too) to a log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _say(text: str = "") -> None:
    print(text, flush=True)


def _wrap(text: str, indent: str = "    ") -> str:
    lines = []
    for line in str(text).strip().splitlines()[:12] or [""]:
        lines += textwrap.wrap(line, 78 - len(indent)) or [""]
    return "\n".join(indent + line for line in lines)


def run_pipeline(paths, world, t: int, retrain: bool, label: str) -> dict:
    """Run every asset, deciding and delivering at 17:00 UTC of day t."""
    decide_at = datetime.fromtimestamp(world.window_end_us(t) / 1e6, UTC).isoformat()
    ops_config = {
        "decisioning__next_best_actions": {"decide_at": decide_at},
        "activation__deliveries": {"use_decision_clock": True},
    }
    log_path = paths.root / "logs" / f"pipeline_{label}.log"
    started = time.perf_counter()
    result = {"label": label, "decide_at": decide_at, "retrain": retrain, "log": str(log_path)}
    try:
        with _quiet(log_path):
            from dagster_project.pipeline.in_process_run import run_pipeline as run_job

            run = run_job(retrain=retrain, ops_config=ops_config, trigger="bank_world_loop")
        result.update(
            success=run.success,
            run_id=run.run_id,
            failed_steps=run.failed_steps,
            failed_checks=run.failed_checks,
            slowest=sorted(((s.step, round(s.seconds, 1)) for s in run.steps), key=lambda x: -x[1])[
                :5
            ],
        )
    except Exception as error:  # the run itself could not start or crashed outside a step
        with log_path.open("a", encoding="utf-8") as log:
            log.write(traceback.format_exc())
        result.update(
            success=False,
            failed_steps={"(run)": f"{type(error).__name__}: {error}"},
            failed_checks=[],
        )
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


# -- evaluation ------------------------------------------------------------------------------


def _condition(frame: pd.DataFrame, cond) -> np.ndarray:
    if cond.field not in frame.columns:
        return np.ones(len(frame), dtype=bool)  # unknown here: do not restrict
    col = frame[cond.field]
    op, v = cond.op, cond.value
    if op == "is_null":
        return col.isna().to_numpy()
    if op == "not_null":
        return col.notna().to_numpy()
    if op in ("in", "not_in"):
        inside = col.isin(v).to_numpy()
        return inside if op == "in" else ~inside & col.notna().to_numpy()
    compare = {
        "eq": col == v,
        "ne": col != v,
        "lt": col < v,
        "lte": col <= v,
        "gt": col > v,
        "gte": col >= v,
    }[op]
    return compare.fillna(False).to_numpy(dtype=bool)


def _eligible(frame: pd.DataFrame, offer, day: date) -> np.ndarray:
    ok = np.full(len(frame), offer.starts <= day <= offer.ends)
    for cond in offer.eligibility.all:
        ok &= _condition(frame, cond)
    if offer.eligibility.any:
        ok &= np.logical_or.reduce([_condition(frame, c) for c in offer.eligibility.any])
    return ok


def _values(p: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Static, random and oracle over persons x pairs (probability p, value v), within mask."""
    if mask is None:
        mask = np.ones(p.shape, dtype=bool)
    vm, pm = np.where(mask, v, 0.0), np.where(mask, p, 0.0)
    allowed = mask.sum(axis=1)
    has = allowed > 0
    static_v = vm.mean(axis=0)
    static_p = pm.mean(axis=0)
    return {
        "static_value": float(static_v.max()),
        "static_value_pair": int(static_v.argmax()),
        "static_prob": float(static_p.max()),
        "static_prob_pair": int(static_p.argmax()),
        "random_value": float(np.where(has, vm.sum(axis=1) / np.maximum(allowed, 1), 0).mean()),
        "random_prob": float(np.where(has, pm.sum(axis=1) / np.maximum(allowed, 1), 0).mean()),
        "oracle_value": float(
            np.where(mask, v, -np.inf).max(axis=1, initial=-np.inf).clip(0).mean()
        ),
        "oracle_prob": float(
            np.where(mask, p, -np.inf).max(axis=1, initial=-np.inf).clip(0).mean()
        ),
    }


def _open_channels(history: pd.DataFrame, keys: pd.Series, now: datetime, config) -> np.ndarray:
    """(contacted customers, channels): each channel's own caps leave it open today.

    Global caps and the minimum gap let every contacted customer through (they were contacted);
    windows start an hour late, the slack the platform gives a daily run.
    """
    from datetime import timedelta

    from .world import CHANNELS

    def counts(since: datetime, channel: str) -> np.ndarray:
        recent = history[(history["sent_at"] >= since) & (history["channel"] == channel)]
        return keys.map(recent.groupby("customer_key").size()).fillna(0).to_numpy()

    out = np.ones((len(keys), len(CHANNELS)), dtype=bool)
    for c, channel in enumerate(CHANNELS):
        for cap in config.channels.outbound(channel).caps:
            since = now - timedelta(days=cap.days) + CAP_SLACK
            out[:, c] &= counts(since, channel) < cap.max
    return out


def evaluate(paths, world, t: int, config) -> dict:
    """The contacts decided at day t's decision instant, valued with day t's truth."""
    from dagster_project.warehouse import connect

    expected = datetime.fromtimestamp(world.window_end_us(t) / 1e6, UTC).replace(tzinfo=None)
    with connect(paths.warehouse, read_only=True) as conn:
        decided = conn.execute(
            "SELECT customer_key, action, offer_id, channel, explored, control, scheduled_at "
            "FROM decisioning.next_best_actions WHERE decided_at = ?",
            [expected],
        ).df()
    return value_plan(paths, world, t, config, decided)


def value_plan(paths, world, t: int, config, decided: pd.DataFrame) -> dict:
    """A plan decided at day t's decision instant (next_best_actions rows), valued with day t's
    truth."""
    from dagster_project.warehouse import connect

    from .answers import key_owners, key_purity
    from .world import CHANNELS

    expected = datetime.fromtimestamp(world.window_end_us(t) / 1e6, UTC).replace(tzinfo=None)
    contacts = decided[decided["action"] == "contact"].reset_index(drop=True)
    with connect(paths.warehouse, read_only=True) as conn:
        keys = contacts["customer_key"].tolist()
        records = conn.execute(
            "SELECT record_id, customer_key FROM identity.customer_keys "
            "WHERE customer_key IN (SELECT unnest(?))",
            [keys],
        ).df()
        rows = conn.execute(
            "SELECT * FROM marts.customer_features f "
            "JOIN marts.customer_contactability c USING (customer_key) "
            "WHERE f.customer_key IN (SELECT unnest(?))",
            [keys],
        ).df()
        history = conn.execute(
            "SELECT customer_key, channel, sent_at FROM activation.contact_history "
            "WHERE customer_key IN (SELECT unnest(?)) AND sent_at < ?",
            [keys, expected],
        ).df()
    out: dict = {
        "day": world.date_of(t).isoformat(),
        "decided_at": str(expected),
        "fresh": len(decided) > 0,
        "actions": decided["action"].value_counts().to_dict(),
        "contacts": len(contacts),
    }
    if not out["fresh"]:  # this day's decisions were not made: nothing new to value
        return out
    if contacts.empty:
        return out
    owners = key_owners(world, records)
    purity = key_purity(world, records)
    contacts["person"] = contacts["customer_key"].map(owners)
    out["unmatched_keys"] = int(contacts["person"].isna().sum())
    contacts = contacts.dropna(subset=["person"]).reset_index(drop=True)
    persons = contacts["person"].astype(int).to_numpy()
    offer_index = {o.id: j for j, o in enumerate(world.offers)}
    contacts = contacts[contacts["offer_id"].isin(offer_index)].reset_index(drop=True)
    persons = contacts["person"].astype(int).to_numpy()
    p_all, need_of_offer = world.truth_of_day(paths, t)
    pairs = [
        (j, c)
        for j, offer in enumerate(world.offers)
        for c, ch in enumerate(CHANNELS)
        if ch in offer.channels
    ]
    values = np.array([world.offers[j].value for j, _ in pairs])
    pair_o = np.array([j for j, _ in pairs])
    pair_c = np.array([c for _, c in pairs])
    p = p_all[persons[:, None], pair_o[None, :], pair_c[None, :]]
    v = p * values[None, :]
    chosen_o = contacts["offer_id"].map(offer_index).to_numpy()
    chosen_c = contacts["channel"].map({c: k for k, c in enumerate(CHANNELS)}).to_numpy()
    plat_p = p_all[persons, chosen_o, chosen_c]
    plat_v = plat_p * np.array([world.offers[j].value for j in chosen_o])
    simple = _values(p, v)
    # What the platform may do: consented, reachable channels, eligible offers.
    frame = contacts[["customer_key"]].merge(rows, on="customer_key", how="left")
    offers_cfg = {o.id: o for o in config.offers.offers}
    mask = np.zeros(p.shape, dtype=bool)
    day = world.date_of(t)
    for k, (j, c) in enumerate(pairs):
        can = frame.get(f"can_{CHANNELS[c]}")
        can = can.fillna(False).to_numpy(dtype=bool) if can is not None else True
        mask[:, k] = can & _eligible(frame, offers_cfg[world.offers[j].id], day)
    # What the platform chose it was evidently allowed to choose.
    chosen_pair = np.array([pairs.index((o, c)) for o, c in zip(chosen_o, chosen_c, strict=True)])
    platform_choice_permitted = float(mask[np.arange(len(persons)), chosen_pair].mean())
    mask[np.arange(len(persons)), chosen_pair] = True
    permitted = _values(p, v, mask)
    # And what each channel's caps leave open today.
    open_channel = _open_channels(history, frame["customer_key"], expected, config)
    feasible_mask = mask & open_channel[:, pair_c]
    feasible_mask[np.arange(len(persons)), chosen_pair] = True
    feasible = _values(p, v, feasible_mask)
    # Did the platform pick the truly best feasible channel for the offer it chose?
    best_hit = []
    for r, (j, c) in enumerate(zip(chosen_o, chosen_c, strict=True)):
        options = [
            (p_all[persons[r], j, cc], cc)
            for k2, (jj, cc) in enumerate(pairs)
            if jj == j and feasible_mask[r, k2]
        ]
        if options:
            best_hit.append(max(options)[1] == c)
    names = [f"{world.offers[j].id}/{CHANNELS[c]}" for j, c in pairs]
    pv, sv, rv, ov = (
        plat_v.mean(),
        simple["static_value"],
        simple["random_value"],
        simple["oracle_value"],
    )
    pp, sp = plat_p.mean(), simple["static_prob"]
    prv, porv = permitted["random_value"], permitted["oracle_value"]
    explored = contacts["explored"].fillna(False).astype(bool).to_numpy()
    out.update(
        {
            "persons": len(set(persons)),
            "sms_push_share": float(contacts["channel"].isin(["sms", "push"]).mean()),
            "channels": contacts["channel"].value_counts().to_dict(),
            "offers": contacts["offer_id"].value_counts().to_dict(),
            "explored_share": float(explored.mean()),
            "deferred": int((contacts["scheduled_at"] > pd.Timestamp(expected)).sum()),
            "platform_prob": float(pp),
            "platform_value": float(pv),
            "platform_prob_exploit": float(plat_p[~explored].mean()) if (~explored).any() else None,
            "static_prob": sp,
            "static_prob_pair": names[simple["static_prob_pair"]],
            "static_value": sv,
            "static_value_pair": names[simple["static_value_pair"]],
            "random_prob": simple["random_prob"],
            "random_value": rv,
            "oracle_prob": simple["oracle_prob"],
            "oracle_value": ov,
            "captured_value": float((pv - rv) / (ov - rv)) if ov > rv else None,
            "ratio_static_value": float(pv / sv) if sv else None,
            "ratio_static_prob": float(pp / sp) if sp else None,
            "permitted": {
                **{k: v_ for k, v_ in permitted.items() if not k.endswith("_pair")},
                "static_value_pair": names[permitted["static_value_pair"]],
                "captured_value": float((pv - prv) / (porv - prv)) if porv > prv else None,
                "platform_choice_permitted": platform_choice_permitted,
            },
            "feasible": {
                **{k: v_ for k, v_ in feasible.items() if not k.endswith("_pair")},
                "static_value_pair": names[feasible["static_value_pair"]],
                "captured_value": float(
                    (pv - feasible["random_value"])
                    / (feasible["oracle_value"] - feasible["random_value"])
                )
                if feasible["oracle_value"] > feasible["random_value"]
                else None,
                "ratio_static_value": float(pv / feasible["static_value"])
                if feasible["static_value"]
                else None,
                "best_channel_for_offer": float(np.mean(best_hit)) if best_hit else None,
            },
            "key_purity": float(np.mean([purity.get(k, 1.0) for k in contacts["customer_key"]])),
            "true_need_of_offer": float(need_of_offer[persons, chosen_o].mean()),
        }
    )
    return out


WIDTHS = (6, 9, 5, 6, 7, 6, 7, 7, 7, 6, 6, 6)
HEADER = "".join(
    f"{name:>{w}}" if k else f"{name:<{w}}"
    for k, (name, w) in enumerate(
        zip(
            (
                "day",
                "contacts",
                "s+p",
                "plt.p",
                "plt.v",
                "st.p",
                "st.v",
                "rnd.v",
                "orc.v",
                "capt",
                "x.stv",
                "x.stp",
            ),
            WIDTHS,
            strict=True,
        )
    )
)
LEGEND = (
    "plt: the platform's contacts, st: best static offer x channel (p: in probability,\n"
    "v: in value), rnd: random permitted pair, orc: oracle; p = true click probability,\n"
    "v = p x offer value; capt = (plt.v - rnd.v) / (orc.v - rnd.v); x.st = plt / st"
)


def _line(label: str, e: dict) -> str:
    if e.get("platform_value") is None:
        fresh = "" if e.get("fresh", True) else " (no new decisions)"
        return f"{label:<6}{e.get('contacts', 0):>9}  nothing to value{fresh}"
    capt = e.get("captured_value")
    cells = (
        f"{e['contacts']:.0f}",
        f"{e['sms_push_share']:.0%}",
        f"{e['platform_prob']:.3f}",
        f"{e['platform_value']:.1f}",
        f"{e['static_prob']:.3f}",
        f"{e['static_value']:.1f}",
        f"{e['random_value']:.1f}",
        f"{e['oracle_value']:.1f}",
        "" if capt is None else f"{capt:.0%}",
        f"{e.get('ratio_static_value') or 0:.2f}",
        f"{e.get('ratio_static_prob') or 0:.2f}",
    )
    return f"{label:<6}" + "".join(f"{c:>{w}}" for c, w in zip(cells, WIDTHS[1:], strict=True))


def _label(day: dict) -> str:
    return "hist" if day.get("loop_day") == 0 else day["day"][5:]


def print_table(days: list[dict]) -> dict | None:
    """The per-day table, the mean of the last loop days, and that mean."""
    _say(HEADER)
    for day in days:
        _say(_line(_label(day), day))
    tail = [d for d in days[1:][-LAST_DAYS:] if d.get("platform_value") is not None]
    if not tail:
        return None
    keys = (
        "contacts",
        "sms_push_share",
        "platform_prob",
        "platform_value",
        "static_prob",
        "static_value",
        "random_value",
        "oracle_value",
        "captured_value",
        "ratio_static_value",
        "ratio_static_prob",
    )
    mean = {key: float(np.mean([d[key] for d in tail if d.get(key) is not None])) for key in keys}
    for variant in ("permitted", "feasible"):
        mean[f"captured_value_{variant}"] = float(
            np.mean([d[variant]["captured_value"] or 0 for d in tail])
        )
    mean["ratio_static_value_feasible"] = float(
        np.mean([d["feasible"]["ratio_static_value"] or 0 for d in tail])
    )
    mean["best_channel_for_offer"] = float(
        np.mean([d["feasible"]["best_channel_for_offer"] or 0 for d in tail])
    )
    _say(_line(f"last {len(tail)}", {**mean, "contacts": round(mean["contacts"])}))
    _say(
        f"captured share of random->oracle within consent and eligibility: "
        f"{mean['captured_value_permitted']:.0%};\n  also within each channel's caps: "
        f"{mean['captured_value_feasible']:.0%} (x static {mean['ratio_static_value_feasible']:.2f}"
        f"); contacts on the truly best\n  feasible channel for their offer: "
        f"{mean['best_channel_for_offer']:.0%}"
    )
    return {"days": len(tail), **mean}


def rescore(root: Path) -> int:
    """Value a finished run's decisions again from its warehouse and truth files."""
    os.environ["JOURNEY_DATA_DIR"] = str(root)
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.settings import config_dir, data_paths

    from .world import BankWorld, truth_dir

    paths = data_paths(root)
    world = BankWorld.load(paths)
    config = load_marketing_config(config_dir())
    first = world.config.history_days - 1
    days = []
    t = first
    while (truth_dir(paths) / "probabilities" / f"{world.date_of(t).isoformat()}.parquet").exists():
        days.append({"loop_day": t - first, **evaluate(paths, world, t, config)})
        t += 1
    mean = print_table(days)
    out = root / "loop_summary_rescored.json"
    out.write_text(json.dumps({"days": days, "mean_last_days": mean}, indent=1, default=str))
    _say(f"written {out}")
    return 0


@dataclass(frozen=True)
class LastDay:
    """A finished run's last loop day as the platform saw it at its decision instant."""

    paths: Any
    world: Any
    config: Any
    t: int
    inputs: Any  # decisioning DecisionInputs from the warehouse as the last run left it


def last_day(root: Path) -> LastDay:
    """The last loop day of the finished run in ``root``, with its decision inputs."""
    os.environ["JOURNEY_DATA_DIR"] = str(root)
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.decisioning.inputs import load_decision_inputs
    from dagster_project.settings import config_dir, data_paths
    from dagster_project.warehouse import connect

    from .world import BankWorld, truth_dir

    paths = data_paths(root)
    world = BankWorld.load(paths)
    config = load_marketing_config(config_dir())
    t = world.config.history_days - 1
    while (
        truth_dir(paths) / "probabilities" / f"{world.date_of(t + 1).isoformat()}.parquet"
    ).exists():
        t += 1
    now = datetime.fromtimestamp(world.window_end_us(t) / 1e6, UTC)
    with connect(paths.warehouse, read_only=True) as conn:
        inputs = load_decision_inputs(conn, now, config.policy.default_time_zone)
    return LastDay(paths, world, config, t, inputs)


def replay(root: Path) -> int:
    """Decide a finished run's last loop day again with the code as it is now (nothing is
    written), and value that plan beside the one the run made: a decision change measured in a
    minute instead of a whole loop. Only the last day replays exactly: the warehouse holds the
    features and scores of the last run."""
    from dagster_project.decisioning.arbitration import decide

    day = last_day(root)
    paths, world, config, t, inputs = day.paths, day.world, day.config, day.t, day.inputs
    started = time.perf_counter()
    plan = decide(inputs, config)
    seconds = time.perf_counter() - started
    days = [
        {"loop_day": "run", **evaluate(paths, world, t, config)},
        {"loop_day": "now", **value_plan(paths, world, t, config, plan)},
    ]
    _say(
        f"{world.date_of(t)}: as the run decided it, and as the code now decides it ({seconds:.0f} s)"
    )
    _say(HEADER)
    for day in days:
        _say(_line(str(day["loop_day"]), day))
    out = root / "loop_replay.json"
    out.write_text(json.dumps(days, indent=1, default=str))
    _say(f"written {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--history-days", type=int, default=90)
    parser.add_argument("--loop-days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2026, 2, 2))
    parser.add_argument("--retrain-day", type=int, default=7, help="loop day that retrains")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="only value a finished run's decisions in --data-dir again (nothing is generated)",
    )
    parser.add_argument(
        "--replay",
        action="store_true",
        help="decide a finished run's last day in --data-dir again with the current code, "
        "and value both plans (nothing is written to the warehouse)",
    )
    args = parser.parse_args(argv)

    root = args.data_dir.expanduser().resolve()
    if args.rescore:
        return rescore(root)
    if args.replay:
        return replay(root)
    _prepare(root)
    from dagster_project.decisioning.config import load_marketing_config
    from dagster_project.settings import config_dir, data_paths

    from .answers import answer_deliveries
    from .world import WorldConfig, generate_history

    paths = data_paths(root)
    config = load_marketing_config(config_dir())
    cfg = WorldConfig(args.persons, args.history_days, args.seed, args.start_date)
    started = time.perf_counter()
    _say(
        f"bank world: {cfg.persons} persons, {cfg.history_days} days from {cfg.start_date}, "
        f"seed {cfg.seed}, data in {root}"
    )
    world = generate_history(paths, cfg)
    best = pd.Series(world.best_channels(cfg.history_days - 1))[world.is_customer]
    _say(
        f"history written in {time.perf_counter() - started:.0f} s: "
        f"{sum(world.rows_written.values()):,} rows in {sum(world.files_written.values())} files; "
        f"truly best channel of customers: "
        + ", ".join(f"{c} {s:.0%}" for c, s in best.value_counts(normalize=True).items())
    )
    summary: dict = {
        "config": {**vars(args), "data_dir": str(root), "start_date": str(args.start_date)},
        "world": {
            "persons": world.n,
            "customers": int(world.is_customer.sum()),
            "best_channel_share": best.value_counts(normalize=True).to_dict(),
            "rows_written": dict(world.rows_written),
        },
        "runs": [],
        "days": [],
        "answers": [],
    }
    summary_path = root / "loop_summary.json"

    def save() -> None:
        summary_path.write_text(json.dumps(summary, indent=1, default=str))

    def report(run: dict) -> None:
        status = "ok" if run["success"] else "FAILED"
        _say(
            f"  pipeline {run['label']}: {status} in {run['seconds']:.0f} s"
            f"{' (retrained)' if run['retrain'] else ''}"
        )
        for step, message in run.get("failed_steps", {}).items():
            _say(f"  ! step {step} failed:")
            _say(_wrap(message))
        for check in run.get("failed_checks", [])[:8]:
            _say(f"  ? check did not pass: {check}")

    last = cfg.history_days - 1
    _say("initial run (retraining) deciding at 17:00 UTC of the last history day...")
    run = run_pipeline(paths, world, last, retrain=True, label="initial")
    summary["runs"].append(run)
    report(run)
    try:
        e = evaluate(paths, world, last, config)
    except Exception as error:
        e = {"day": world.date_of(last).isoformat(), "error": f"{type(error).__name__}: {error}"}
        _say(f"  ! evaluation failed: {e['error']}")
    summary["days"].append({"loop_day": 0, **e})
    _say(LEGEND)
    _say(HEADER)
    _say(_line("hist", e))
    save()
    for k in range(1, args.loop_days + 1):
        t = last + k
        world.write_probabilities(paths, t)
        try:
            answers = answer_deliveries(paths, world, t)
        except Exception as error:
            _say(f"  ! answering failed on loop day {k}: {type(error).__name__}: {error}")
            traceback.print_exc()
            answers = None
        world.simulate_day(t)
        world.flush(paths, t)
        world.write_truth(paths, t)
        world.save(paths)
        if answers is not None:
            summary["answers"].append(answers.as_dict())
            a = answers
            _say(
                f"day {k} {world.date_of(t)}: answered "
                + "/".join(str(a.answered.get(c, 0)) for c in ("email", "sms", "push"))
                + f" (e/s/p), clicks {sum(a.clicks.values())}, apps {a.applications}, "
                f"opt-outs {a.opt_outs}, failed {a.failed}, bounces {a.bounces}"
            )
        run = run_pipeline(paths, world, t, retrain=k == args.retrain_day, label=f"day{k:02d}")
        summary["runs"].append(run)
        report(run)
        if any("Interrupted" in m for m in run.get("failed_steps", {}).values()):
            save()
            _say("interrupted: the loop stops here")
            return 130
        try:
            e = evaluate(paths, world, t, config)
        except Exception as error:
            e = {"day": world.date_of(t).isoformat(), "error": f"{type(error).__name__}: {error}"}
            _say(f"  ! evaluation failed: {e['error']}")
        summary["days"].append({"loop_day": k, **e})
        _say(_line(world.date_of(t).strftime("%m-%d"), e))
        save()

    _say()
    mean = print_table(summary["days"])
    if mean:
        summary["mean_last_days"] = mean
    failures = [r for r in summary["runs"] if not r["success"]]
    summary["failed_runs"] = len(failures)
    summary["seconds"] = round(time.perf_counter() - started)
    save()
    _say(
        f"{len(failures)} failed run(s); {summary['seconds'] / 60:.0f} min; summary in {summary_path}"
    )
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
