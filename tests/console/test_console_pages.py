"""The console for marketing ops, end to end: a decided and delivered world, its journey
analytics, the ``analytics/console`` asset, the real ``journey console`` server, and every page
in Debian's headless Chromium (Playwright), checked against the warehouse. Screenshots of each
page land in /tmp/console-shots/ for the closing note."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from dagster_project.activation.assets import deliveries
from dagster_project.analytics.assets import console, journey_analytics
from dagster_project.console.formatting import day
from dagster_project.console.queries import HELD_BACK_RULE
from dagster_project.decisioning.assets import next_best_actions
from dagster_project.ml.assets import customer_scores, model_assets
from dagster_project.settings import REPO_ROOT, DataPaths
from dagster_project.warehouse import connect
from tests.factories import materialize
from tests.worlds import copy_world

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path("/tmp/console-shots")
PAGES = ("index", "plan", "held_back", "deliveries", "results", "journeys")
# A feature name left bare: words joined by underscores, e.g. mortgage_intent_30d.
FEATURE_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@dataclass
class Console:
    paths: DataPaths
    url: str
    day: str
    process: subprocess.Popen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config_with_a_failing_sms_gateway(folder: Path) -> Path:
    """The repo's config, with SMS sent to a webhook on a port nothing listens on."""
    shutil.copytree(REPO_ROOT / "config", folder)
    channels = yaml.safe_load((folder / "channels.yaml").read_text())
    channels["sms"].update(adapter="webhook", endpoint=f"http://127.0.0.1:{_free_port()}/sms")
    (folder / "channels.yaml").write_text(yaml.safe_dump(channels))
    return folder


@pytest.fixture(scope="module")
def served(model_world: DataPaths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    root = tmp_path_factory.mktemp("console")
    paths = copy_world(model_world, root / "world")
    config = _config_with_a_failing_sms_gateway(root / "config")
    with connect(paths.warehouse, read_only=True) as conn:
        end = conn.execute("SELECT max(as_of) FROM marts.customer_features").fetchone()[0]
    # Decided three weeks before the data ends, so the analytics see outcomes within 14 days;
    # at 03:00 UTC, in quiet hours in Europe and late evening in America, so sends are deferred.
    decide_at = (pd.Timestamp(end).normalize() - timedelta(days=21, hours=-3)).isoformat()
    decided = materialize(
        paths,
        [*model_assets, customer_scores, next_best_actions, deliveries, journey_analytics, console],
        run_config={
            "ops": {"decisioning__next_best_actions": {"config": {"decide_at": decide_at}}}
        },
        config_dir=config,
    )
    assert decided.success
    port = _free_port()
    journey = Path(sys.executable).with_name("journey")
    process = subprocess.Popen(
        [str(journey), "console", "--port", str(port), "--data-dir", str(paths.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                assert answer.status == 200
                break
        except OSError:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "journey console did not answer"
            time.sleep(0.3)
    try:
        yield Console(paths, url, decide_at[:10], process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _warehouse(served: Console, sql: str, params: list | None = None) -> pd.DataFrame:
    with connect(served.paths.warehouse, read_only=True) as conn:
        return conn.execute(sql, params or []).df()


def _shown(page: Page, table: str) -> int:
    return int(page.locator(f"#{table}-shown").inner_text().split(" of ")[0].replace(",", ""))


def _open(page: Page, served: Console, name: str) -> None:
    page.goto(f"{served.url}{name}.html")
    stamp = page.locator("#stamp")
    expect(stamp).to_contain_text(f"Decision date {day(served.day)}")
    expect(stamp).to_contain_text("built ")
    page.wait_for_load_state("networkidle")


def _shoot(page: Page, name: str, show: str | None = None) -> None:
    """A 1280x800 screenshot: the top of the page, or with ``show`` (a selector) in view."""
    if show is None:
        page.evaluate("window.scrollTo(0, 0)")
    else:
        page.locator(show).evaluate("e => e.closest('section').scrollIntoView()")
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_every_page_shows_the_warehouse_in_words_charts_and_filters(served: Console) -> None:
    assert CHROMIUM, "Debian's chromium is needed (.ci/run installs it)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    day_rows = "SELECT * FROM decisioning.next_best_actions WHERE decision_date = ?"
    plan = _warehouse(served, day_rows, [served.day])
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))

            # Today's plan: every acting row, the contacts among them, why in words.
            _open(page, served, "plan")
            acting = plan[plan["action"].isin(["contact", "advisor_task", "web"])]
            contacts = plan[plan["action"] == "contact"]
            assert _shown(page, "plan") == len(acting) == page.locator("#plan tbody tr").count()
            page.select_option("select[data-table=plan][data-column=action]", "contact")
            assert _shown(page, "plan") == len(contacts) > 0
            assert page.locator("#plan tbody tr:visible").count() == len(contacts)
            email = int((contacts["channel"] == "email").sum())
            page.select_option("select[data-table=plan][data-column=channel]", "email")
            assert _shown(page, "plan") == email < len(contacts)
            page.select_option("select[data-table=plan][data-column=channel]", "")
            why = page.locator("#plan tbody tr:visible td.wide").all_inner_texts()
            assert set(why) == set(contacts["explanation"])
            assert all(" because " in w or "the only channel" in w for w in why if "By " in w)
            assert not [w for w in why if FEATURE_NAME.search(w)]
            deferred = contacts[contacts["scheduled_at"] > contacts["decided_at"]]
            assert len(deferred) and all("for quiet hours" in w for w in deferred["explanation"])
            expect(page.locator("#plan-chart .main-svg").first).to_be_visible()
            # Sorted by value, highest first: the first visible row holds the largest.
            page.click("#plan th:has-text('Value')")
            first = page.locator("#plan tbody tr:visible").first.locator("td").nth(6)
            assert float(first.get_attribute("data-sort")) == pytest.approx(
                contacts["priority"].max()
            )
            _shoot(page, "plan-table", "#plan")  # the contacts, highest value first
            page.select_option("select[data-table=plan][data-column=action]", "")
            _shoot(page, "plan")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280

            # Held back: the page's counts per rule are the warehouse's.
            _open(page, served, "held_back")
            expected = _warehouse(
                served,
                f"SELECT rule, count(*) AS rows FROM (SELECT *, {HELD_BACK_RULE} AS rule "
                f"FROM ({day_rows})) WHERE rule IS NOT NULL GROUP BY rule",
                [served.day],
            ).set_index("rule")["rows"]
            cells = page.locator("#held-rules tbody tr").evaluate_all(
                "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
            )
            shown = {rule: int(n.replace(",", "")) for rule, n in cells}
            assert shown == expected.to_dict()
            # ...and independently of the page's own rule: the control group, do-not-contact
            # and every contact deferred past the decision.
            assert shown["control group"] == int((plan["action"] == "control").sum()) > 0
            dnc = int((plan["explanation"] == "do not contact").sum())
            assert shown.get("suppression: do not contact", 0) == dnc
            assert shown["quiet hours: deferred, not dropped"] == len(deferred)
            expect(page.locator("#held-chart .main-svg").first).to_be_visible()
            page.select_option("select[data-table=held][data-column=rule]", "control group")
            assert _shown(page, "held") == shown["control group"]
            _shoot(page, "held_back")

            # Deliveries: the failing SMS gateway shows, per channel, with its reason.
            _open(page, served, "deliveries")
            outbox = _warehouse(
                served,
                "SELECT o.channel, o.state, o.last_error FROM activation.outbox AS o "
                f"JOIN ({day_rows}) USING (decision_id)",
                [served.day],
            )
            failed_sms = outbox[(outbox["channel"] == "sms") & (outbox["state"] != "delivered")]
            assert len(failed_sms) > 0
            by_channel = page.locator("#deliveries-by-channel tbody tr").evaluate_all(
                "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))"
            )
            sms = next(r for r in by_channel if r[0] == "SMS")
            assert int(sms[1].replace(",", "")) == 0  # nothing delivered
            assert int(sms[4]) + int(sms[5]) == len(failed_sms)  # failed + dead letters
            reasons = page.locator("#delivery-reasons").inner_text()
            assert str(failed_sms["last_error"].iloc[0]) in reasons
            expect(page.locator("#deliveries-chart .main-svg").first).to_be_visible()
            _shoot(page, "deliveries")

            # Campaign results: incrementality against the control group, with its interval.
            _open(page, served, "results")
            effects = _warehouse(served, "SELECT * FROM analytics.incrementality")
            assert page.locator("#results tbody tr").count() == len(effects) > 0
            overall = effects[effects["offer"] == "all"].iloc[0]
            expect(page.locator("#figure-uplift")).to_contain_text(
                f"{overall['uplift'] * 100:+.1f} pp"
            )
            assert re.search(r"\d+\.\d%", page.locator("#results").inner_text())
            expect(page.locator("#results-chart .main-svg").first).to_be_visible()
            _shoot(page, "results")

            # Journeys and funnels: one linear funnel per product with its drop-off.
            _open(page, served, "journeys")
            steps = _warehouse(served, "SELECT * FROM analytics.funnel_steps")
            funnels = page.locator(".funnels .chart")
            assert funnels.count() == steps["product"].nunique()
            expect(funnels.first.locator(".main-svg").first).to_be_visible()
            assert "dropped" in funnels.first.inner_text()
            worst = steps[steps["step"] != "aware"]["conversion_from_previous"].min()
            assert f"{1 - worst:.1%} dropped" in page.locator(".funnels").inner_text()
            _shoot(page, "journeys")

            _open(page, served, "index")
            _shoot(page, "index")
        finally:
            browser.close()
    assert not errors
    # Nothing left the machine: every request went to the console on 127.0.0.1.
    assert requests and all(r.startswith(served.url) for r in requests), requests
    assert (served.paths.root / "console" / "plotly.min.js").stat().st_size > 1_000_000


def test_journey_console_prints_its_url_and_never_holds_the_warehouse(served: Console) -> None:
    # While it serves, a writer can open the warehouse (the pipeline is never blocked).
    with connect(served.paths.warehouse, wait_seconds=5) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS analytics.console_probe AS SELECT 1 AS x")
    served.process.terminate()
    output, _ = served.process.communicate(timeout=30)
    assert served.url in output
