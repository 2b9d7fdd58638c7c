"""The email service provider: campaign sends and what recipients did with them.

Most weekdays one or two campaigns go out, each about one product (or a general newsletter), to a
slice of the mailing list. The platform's copy of an address is often stale: people who moved to a
new address may still be mailed at the old one, which then tends to bounce. Reading and clicking
follow the person's email affinity, whether it arrives near the hour they usually read email
(``habits.py``; many reads wait for that hour) and, strongly, whether the campaign matches what
they want right now; dissatisfied customers ignore the bank's mail. Clicks land on the website (returned as
``Clickthroughs``); unsubscribes leave the list and reach the CRM's consent the next day.

Opens are reported the way real platforms report them, one event per tracking-pixel load: a
reader may open the same message again (two to four opens in all), and a privacy proxy (Apple
Mail Privacy Protection) fetches every message it delivers seconds to minutes after the send,
once or a few times, whether or not anyone reads it; the real read behind such a proxy loads
nothing, so for those mailboxes an open says nothing about interest and only a click does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.day_context import DayContext
from dagster_project.demo.formatting import (
    HOUR_US,
    MINUTE_US,
    SECOND_US,
    concat,
    iso_timestamps,
    null_where,
    pick,
)
from dagster_project.demo.habits import habit_logit, read_delay_hours
from dagster_project.demo.landing_files import EMAIL, DayRows, contract_table
from dagster_project.demo.population import AFFINITY_CHANNELS, PLATFORMS, Population
from dagster_project.demo.product_catalogue import PRODUCT_PROFILES
from dagster_project.demo.random_streams import hex_ids, stream, weighted_choice
from dagster_project.demo.vocabulary import BANK_SITE
from dagster_project.settings import PRODUCTS

AUDIENCE_SHARE = 0.065  # of the mailing list, per campaign
_NEWSLETTER_SHARE = 0.2
_EMAIL = AFFINITY_CHANNELS.index("email")
_OLD_MAILBOX_BOUNCES = 0.35
_BOUNCES = 0.004
_UNSUBSCRIBES = 0.01  # of reads that do not click
_DISSATISFIED_IGNORES = 3.0  # logit lost by a fully dissatisfied customer's reads and clicks
# Privacy proxies: people with an iPhone mostly read mail in Apple Mail, with protection on.
_PROXY_SHARE_WITH_IPHONE, _PROXY_SHARE_OTHERWISE = 0.6, 0.1
_PROXY_FETCHES = 0.95  # of delivered messages; the rest wait until the device is next online
_PROXY_FETCH_COUNTS = (np.array([1, 2, 3]), np.array([0.6, 0.3, 0.1]))
_PROXY_FIRST_FETCH_US = 90 * SECOND_US  # mean delay after delivery
_PROXY_REFETCH_US = 20 * MINUTE_US  # mean gap between fetches
_REOPENS = 0.3  # of readers, who open the message one to three more times
_REOPEN_GAP_US = 45 * MINUTE_US
_KINDS = ("send", "bounce", "open", "click", "unsubscribe")


@dataclass(frozen=True)
class Clickthroughs:
    """Email clicks, each opening a web session on the person's device."""

    person: np.ndarray
    at_us: np.ndarray
    product: np.ndarray  # index into PRODUCTS, -1 for the newsletter
    campaign_id: pa.Array


@dataclass(frozen=True)
class EmailDay:
    events: DayRows
    clicks: Clickthroughs
    unsubscribed: np.ndarray  # persons


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class EmailSource:
    def __init__(self, population: Population, seed: int) -> None:
        self._population = population
        self._seed = seed
        self._on_list = population.on_mailing_list.copy()
        # Who reads mail behind a privacy proxy: a fact about the person, from its own stream.
        iphone = np.zeros(population.size, dtype=bool)
        ios = population.device_platform == PLATFORMS.index("ios")
        iphone[population.device_person[ios]] = True
        proxy_rng = stream(seed, "email/privacy-proxy")
        self._proxied = proxy_rng.random(population.size) < np.where(
            iphone, _PROXY_SHARE_WITH_IPHONE, _PROXY_SHARE_OTHERWISE
        )

    def _campaigns(
        self, rng: np.random.Generator, context: DayContext
    ) -> tuple[np.ndarray, pa.Array, np.ndarray]:
        """Today's campaigns: product (-1 newsletter), id and send hour (UTC)."""
        weekend = context.weekday >= 5
        count = int(rng.random() < 0.3) if weekend else 1 + int(rng.random() < 0.5)
        newsletter = rng.random(count) < _NEWSLETTER_SHARE
        product = np.where(newsletter, -1, rng.integers(0, len(PRODUCTS), count))
        topics = ["newsletter" if p < 0 else PRODUCTS[p] for p in product]
        ids = [f"cmp-{context.date:%Y%m%d}-{k + 1}-{t}" for k, t in enumerate(topics)]
        send_at = context.start_us + (13 * HOUR_US + rng.random(count) * 4 * HOUR_US).astype(
            np.int64
        )
        return product, pa.array(ids, pa.string()), send_at

    def _opens(
        self,
        rng: np.random.Generator,
        context: DayContext,
        person: np.ndarray,
        sent: np.ndarray,
        bounced: np.ndarray,
        read: np.ndarray,
        read_at: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every open event as (message row, time): a proxy's fetches of each message it
        delivers, and for other mailboxes each time the reader opens it."""
        proxied = self._proxied[person]
        fetched = np.flatnonzero(proxied & ~bounced & (rng.random(len(person)) < _PROXY_FETCHES))
        values, weights = _PROXY_FETCH_COUNTS
        fetches = values[weighted_choice(rng, weights, len(fetched))]
        first_fetch = (
            sent[fetched] + SECOND_US + rng.exponential(_PROXY_FIRST_FETCH_US, len(fetched))
        )
        # The proxy fetches on delivery, so before anyone can read (and click) the message.
        before_read = np.maximum(read_at[fetched] - SECOND_US, sent[fetched])
        first_fetch = np.where(read[fetched], np.minimum(first_fetch, before_read), first_fetch)
        readers = np.flatnonzero(read & ~proxied)
        opens = 1 + np.where(
            rng.random(len(readers)) < _REOPENS, rng.integers(1, 4, len(readers)), 0
        )

        row = np.concatenate([np.repeat(fetched, fetches), np.repeat(readers, opens)])
        first = np.concatenate([first_fetch, read_at[readers]]).astype(np.int64)
        gap = np.concatenate(
            [np.full(len(fetched), _PROXY_REFETCH_US), np.full(len(readers), _REOPEN_GAP_US)]
        )
        count = np.concatenate([fetches, opens])
        # Each message's later opens follow its first by independent gaps.
        nth = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
        message = np.repeat(np.arange(len(count)), count)
        step = np.where(nth > 0, SECOND_US + rng.exponential(1.0, len(row)) * gap[message], 0.0)
        since_first = np.cumsum(step) - np.repeat(np.cumsum(step)[np.cumsum(count) - count], count)
        at = first[message] + since_first.astype(np.int64)
        today = at < context.end_us
        return row[today], at[today]

    def day(self, context: DayContext) -> EmailDay:
        rng = stream(self._seed, "email", context.index)
        population = self._population
        product, campaign_ids, send_at = self._campaigns(rng, context)

        members = np.flatnonzero(self._on_list)
        picked = [members[rng.random(len(members)) < AUDIENCE_SHARE] for _ in product]
        person = np.concatenate([np.zeros(0, dtype=np.int64), *picked])
        campaign = np.repeat(np.arange(len(product)), [len(p) for p in picked])
        n = len(person)
        sent = send_at[campaign] + (rng.random(n) * 30 * MINUTE_US).astype(np.int64)

        # The platform mails the address it has on file: maybe one its owner no longer reads.
        has_old = population.has_previous_email[person]
        moved_on = has_old & (population.email_changed_day[person] <= context.index)
        uses_old = has_old & (~moved_on | population.esp_keeps_old_email[person])
        address = pc.if_else(
            pa.array(uses_old),
            population.previous_email.take(pa.array(person)),
            population.email.take(pa.array(person)),
        )
        bounced = rng.random(n) < np.where(uses_old & moved_on, _OLD_MAILBOX_BOUNCES, _BOUNCES)

        match = product[campaign] == context.intent_product[person]
        pull = np.where(match, context.intent_level[person], 0.0)
        affinity = population.channel_affinity[person, _EMAIL]
        ignores = _DISSATISFIED_IGNORES * context.dissatisfaction[person]
        # Mail that arrives near the hour someone reads email is read (and clicked) more, and
        # many wait for that hour (habits.py; its own stream, so other draws stay as they were).
        send_hour = context.local_hours(person, sent)
        habit_hour = population.read_hour[person, _EMAIL]
        habit = habit_logit(send_hour, habit_hour)
        read = ~bounced & (
            rng.random(n) < _sigmoid(-1.4 + 0.9 * affinity + 2.0 * pull - ignores + habit)
        )
        soon = rng.exponential(2.5 * HOUR_US, n)
        habit_rng = stream(self._seed, "email/habit-reads", context.index)
        delay = read_delay_hours(habit_rng, send_hour, habit_hour, soon / HOUR_US)
        read_at = sent + (delay * HOUR_US).astype(np.int64)
        # A habitual read after the day's export is read soon instead (the day is the file).
        read_at = np.where(read_at < context.end_us, read_at, sent + soon.astype(np.int64))
        read &= read_at < context.end_us
        clicked = read & (
            rng.random(n) < _sigmoid(-2.2 + 0.5 * affinity + 3.5 * pull - ignores + habit)
        )
        click_at = read_at + (rng.exponential(3 * MINUTE_US, n)).astype(np.int64) + SECOND_US
        clicked &= click_at < context.end_us
        unsubscribed = read & ~clicked & (rng.random(n) < _UNSUBSCRIBES)
        unsubscribe_at = read_at + (rng.exponential(2 * MINUTE_US, n)).astype(np.int64) + SECOND_US
        unsubscribed &= unsubscribe_at < context.end_us
        self._on_list[person[unsubscribed]] = False
        open_row, open_at = self._opens(rng, context, person, sent, bounced, read, read_at)

        kinds = (
            (np.flatnonzero(np.ones(n, dtype=bool)), sent),
            (np.flatnonzero(bounced), sent[bounced] + 5 * SECOND_US),
            (open_row, open_at),
            (np.flatnonzero(clicked), click_at[clicked]),
            (np.flatnonzero(unsubscribed), unsubscribe_at[unsubscribed]),
        )
        row = np.concatenate([rows for rows, _ in kinds])
        kind = np.repeat(np.arange(len(kinds)), [len(rows) for rows, _ in kinds])
        at = np.concatenate([when for _, when in kinds])
        order = np.lexsort((kind, row, at))
        row, kind, at = row[order], kind[order], at[order]

        row_campaign = campaign[row]
        row_product = product[row_campaign]
        topic = pick(pa.array(PRODUCTS), np.maximum(row_product, 0), valid=row_product >= 0)
        slug = pick(pa.array([p.slug for p in PRODUCT_PROFILES]), np.maximum(row_product, 0))
        row_campaign_id = campaign_ids.take(pa.array(row_campaign))
        landing_page = pc.if_else(
            pa.array(row_product >= 0), concat("/", slug, "/rates"), pa.scalar("/")
        )
        link = concat(BANK_SITE, landing_page, "?utm_campaign=", row_campaign_id)
        table = contract_table(
            EMAIL.contract,
            {
                "event_id": hex_ids(rng, len(row)),
                "event_ts": iso_timestamps(at),
                "event_type": pick(pa.array(_KINDS), kind),
                "message_id": hex_ids(rng, n, 20).take(pa.array(row)),
                "campaign_id": row_campaign_id,
                "recipient_email": address.take(pa.array(row)),
                "product_topic": topic,
                "link_url": null_where(link, kind != 3),
            },
        )
        return EmailDay(
            events=DayRows(table, person[row]),
            clicks=Clickthroughs(
                person=person[clicked],
                at_us=click_at[clicked],
                product=product[campaign[clicked]],
                campaign_id=campaign_ids.take(pa.array(campaign[clicked])),
            ),
            unsubscribed=person[unsubscribed],
        )
