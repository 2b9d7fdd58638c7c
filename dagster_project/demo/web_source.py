"""Website and app clickstream: anonymous devices, sessions, page views, logins.

Every device carries a stable anonymous id; nothing in a session says whose it is unless the
visitor logs in, and a login names the account by the email typed (sometimes the old address) or
by customer id. Most sessions stay anonymous. People with an active intent browse more, and their
sessions dwell on that product's pages, rates and calculator; dissatisfied customers stay away for
weeks; email clicks open sessions that land on the campaign's page with its ``utm_campaign``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.demo.crm_records import CrmRecords
from dagster_project.demo.day_context import BROWSING_HOURS, DayContext
from dagster_project.demo.email_source import Clickthroughs
from dagster_project.demo.formatting import SECOND_US, pick, utc_timestamps
from dagster_project.demo.habits import WEB_AT_HABIT, WEB_JITTER_HOURS
from dagster_project.demo.landing_files import WEB, DayRows, contract_table
from dagster_project.demo.population import PLATFORMS, Population
from dagster_project.demo.product_catalogue import PRODUCT_PROFILES
from dagster_project.demo.random_streams import hex_ids, stream, weighted_choice
from dagster_project.ingest.contracts import WEB_EVENTS
from dagster_project.settings import PRODUCTS

EVENT_TYPES = next(f.allowed for f in WEB_EVENTS.fields if f.name == "event_type")
PAGE_CATEGORIES = next(f.allowed for f in WEB_EVENTS.fields if f.name == "page_category")
_PAGE_VIEW, _LOGIN, _APP_OPEN, _CALCULATOR_SUBMIT = (
    EVENT_TYPES.index(t) for t in ("page_view", "login", "app_open", "calculator_submit")
)
_WEB = PLATFORMS.index("web")

SESSIONS_PER_DAY = 0.17  # for a person of average activity with no intent
_INTENT_BOOST = 3.0  # a fully engaged intent multiplies sessions by 1 + this
# Share of sessions a dissatisfied customer no longer has: even a mild grievance keeps most away.
_DISSATISFIED_AWAY = 0.95
_WEEKEND = 0.85
_MEAN_PAGE_GAP_US = 45 * SECOND_US
# Customers log in to most app sessions but few web visits; apps remember the customer id.
_APP_LOGIN_SHARE, _WEB_LOGIN_SHARE = 0.65, 0.2
_APP_LOGIN_BY_EMAIL, _WEB_LOGIN_BY_EMAIL = 0.2, 0.7
_OLD_EMAIL_AT_LOGIN = 0.3
_SUBMITS_ON_CALCULATOR = 0.3
_ON_TOPIC = 0.85  # product pages in an intent session that are about the intent
_PAID_SEARCH = 0.4  # search referrals of intent sessions that came from an ad

# Page categories a session visits, by whether an intent drives it.
_INTENT_PAGES = {"home": 0.08, "product": 0.24, "rates": 0.24, "calculator": 0.22,
                 "support": 0.06, "account": 0.06, "blog": 0.10}  # fmt: skip
_BROWSING_PAGES = {"home": 0.30, "product": 0.18, "rates": 0.08, "calculator": 0.04,
                   "support": 0.12, "account": 0.12, "blog": 0.16}  # fmt: skip
_REFERRERS = (
    (None, 0.45),
    ("https://www.google.com/", 0.33),
    ("https://www.bing.com/", 0.05),
    ("https://www.facebook.com/", 0.08),
    ("https://www.instagram.com/", 0.04),
    ("https://www.nerdwallet.example/", 0.05),
)
_GOOGLE = 1


@dataclass(frozen=True)
class SitePages:
    path: pa.Array
    category: np.ndarray  # index into PAGE_CATEGORIES
    topic: np.ndarray  # index into PRODUCTS, -1 when about no product
    first: np.ndarray  # [category, topic + 1] -> first page of that kind
    count: np.ndarray  # [category, topic + 1] -> how many pages of that kind
    login: int  # index of the login page


@functools.cache
def site_pages() -> SitePages:
    browsable: list[tuple[str, str, int]] = [("/", "home", -1)]
    for i, product in enumerate(PRODUCT_PROFILES):
        browsable += [
            (f"/{product.slug}", "product", i),
            (f"/{product.slug}/rates", "rates", i),
            (f"/{product.slug}/calculator", "calculator", i),
            (f"/blog/{product.slug}-guide", "blog", i),
        ]
    general = {
        "blog": ("/blog/money-tips", "/blog/budgeting-basics", "/blog/credit-score-explained"),
        "support": ("/support", "/support/contact", "/support/faq", "/support/branch-locator"),
        "account": ("/account/overview", "/account/statements", "/account/payments"),
    }
    browsable += [(path, category, -1) for category, paths in general.items() for path in paths]
    browsable.sort(key=lambda page: (PAGE_CATEGORIES.index(page[1]), page[2], page[0]))
    # The login page comes last: visitors reach it by logging in, never by browsing.
    pages = [*browsable, ("/login", "account", -1)]
    category = np.array([PAGE_CATEGORIES.index(c) for _, c, _ in pages])
    topic = np.array([t for _, _, t in pages])
    first = np.zeros((len(PAGE_CATEGORIES), len(PRODUCTS) + 1), dtype=np.int64)
    count = np.zeros_like(first)
    for i in reversed(range(len(browsable))):
        first[category[i], topic[i] + 1] = i
        count[category[i], topic[i] + 1] += 1
    return SitePages(
        pa.array([p for p, _, _ in pages]), category, topic, first, count, len(browsable)
    )


@dataclass(frozen=True)
class _Sessions:
    person: np.ndarray
    device: np.ndarray
    start_us: np.ndarray
    topic: np.ndarray  # product the session is about, -1 for plain browsing
    campaign_id: pa.Array  # the email campaign that opened it, null for organic sessions


def _shares(table: dict[str, float]) -> np.ndarray:
    return np.array([table[c] for c in PAGE_CATEGORIES])


class WebSource:
    def __init__(self, population: Population, records: CrmRecords, seed: int) -> None:
        self._population = population
        self._records = records
        self._seed = seed

    def _sessions(
        self, rng: np.random.Generator, context: DayContext, clicks: Clickthroughs
    ) -> _Sessions:
        """Organic sessions from habit and intent, then one per email click."""
        population = self._population
        weekday = _WEEKEND if context.weekday >= 5 else 1.0
        rate = (
            SESSIONS_PER_DAY
            * weekday
            * population.web_activity
            * (1.0 + _INTENT_BOOST * context.intent_level)
            * (1.0 - _DISSATISFIED_AWAY * np.minimum(1.0, 1.5 * context.dissatisfaction))
        )
        person = np.repeat(np.arange(population.size), rng.poisson(rate))
        engaged = rng.random(len(person)) < 0.25 + 0.6 * context.intent_level[person]
        topic = np.where(engaged, context.intent_product[person], -1)
        click_start = clicks.at_us + rng.integers(1, 10, len(clicks.person)) * SECOND_US
        device = population.pick_devices(rng, np.concatenate([person, clicks.person]))
        organic = context.local_times(rng, person, BROWSING_HOURS)
        # Some sessions come at the person's own favourite hour (their own stream, so the rest
        # of the day draws as it did before habits existed).
        habit_rng = stream(self._seed, "web/habit-hours", context.index)
        at_habit = habit_rng.random(len(person)) < WEB_AT_HABIT
        hour = population.web_hour[person] + habit_rng.normal(0.0, WEB_JITTER_HOURS, len(person))
        organic = np.where(at_habit, context.at_local_hours(person, hour), organic)
        return _Sessions(
            person=np.concatenate([person, clicks.person]),
            device=device,
            start_us=np.concatenate([organic, click_start]),
            topic=np.concatenate([topic, clicks.product]),
            campaign_id=pa.concat_arrays(
                [pa.nulls(len(person), pa.string()), clicks.campaign_id.cast(pa.string())]
            ),
        )

    def day(self, context: DayContext, clicks: Clickthroughs) -> DayRows:
        rng = stream(self._seed, "web", context.index)
        population, pages = self._population, site_pages()
        sessions = self._sessions(rng, context, clicks)
        n_sessions = len(sessions.person)
        person = sessions.person
        platform = population.device_platform[sessions.device]
        in_app = platform != _WEB
        logs_in = context.is_customer[person] & (
            rng.random(n_sessions) < np.where(in_app, _APP_LOGIN_SHARE, _WEB_LOGIN_SHARE)
        )
        has_topic = sessions.topic >= 0
        length = rng.geometric(0.38, n_sessions) + np.where(
            has_topic, rng.poisson(2.0, n_sessions), 0
        )
        # Logging in follows the entry (the landing page on the web, app_open in the app).
        length = np.maximum(length, 1 + logs_in)
        login_at = np.where(logs_in, 1, -1)

        # One row per event: which session, and its position within it.
        session = np.repeat(np.arange(n_sessions), length)
        first_event = (np.cumsum(length) - length).astype(np.int64)
        position = np.arange(len(session)) - first_event[session]
        gap = rng.exponential(_MEAN_PAGE_GAP_US, len(session))
        gap[position == 0] = 0.0
        elapsed = np.cumsum(gap)
        elapsed = (elapsed - elapsed[first_event][session]).astype(np.int64)
        # Sessions never run past midnight UTC: a late one starts a little earlier instead.
        duration = elapsed[first_event + length - 1]
        start = np.maximum(
            np.minimum(sessions.start_us, context.end_us - SECOND_US - duration), context.start_us
        )
        event_us = (start[session] + elapsed) // 1000 * 1000

        event_type = np.full(len(session), _PAGE_VIEW)
        event_type[(position == 0) & in_app[session]] = _APP_OPEN
        login = position == login_at[session]
        event_type[login] = _LOGIN

        page = self._browse(rng, sessions.topic[session], logs_in[session])
        # An email click lands on the campaign's page, whatever the session does next.
        entry = position == in_app[session]
        from_email = ~np.asarray(sessions.campaign_id.is_null(), dtype=bool)
        rates, home = PAGE_CATEGORIES.index("rates"), PAGE_CATEGORIES.index("home")
        campaign_page = np.where(
            sessions.topic >= 0,
            pages.first[rates, sessions.topic + 1],
            pages.first[home, 0],
        )
        page = np.where(entry & from_email[session], campaign_page[session], page)
        page = np.where(login, pages.login, page)
        page = np.where(event_type == _APP_OPEN, -1, page)
        calculator = PAGE_CATEGORIES.index("calculator")
        submits = (
            (event_type == _PAGE_VIEW)
            & (pages.category[np.maximum(page, 0)] == calculator)
            & (rng.random(len(session)) < _SUBMITS_ON_CALCULATOR)
        )
        event_type[submits] = _CALCULATOR_SUBMIT

        on_page = page >= 0
        page_topic = np.where(on_page, pages.topic[np.maximum(page, 0)], -1)
        referrer, utm = self._arrivals(rng, sessions, session, entry & ~login, in_app)
        login_email, login_customer_id = self._logins(
            rng, context, person[session], login, in_app[session]
        )

        order = np.lexsort((position, session, event_us))
        table = contract_table(
            WEB.contract,
            {
                "event_id": hex_ids(rng, len(session)),
                "event_ts": utc_timestamps(event_us),
                "event_type": pick(pa.array(EVENT_TYPES), event_type),
                "anonymous_id": population.device_id.take(pa.array(sessions.device[session])),
                "session_id": hex_ids(rng, n_sessions).take(pa.array(session)),
                "platform": pick(pa.array(PLATFORMS), platform[session]),
                "page_path": pick(pages.path, np.maximum(page, 0), valid=on_page),
                "page_category": pick(
                    pa.array(PAGE_CATEGORIES), pages.category[np.maximum(page, 0)], valid=on_page
                ),
                "product_topic": pick(
                    pa.array(PRODUCTS), np.maximum(page_topic, 0), valid=page_topic >= 0
                ),
                "login_email": login_email,
                "login_customer_id": login_customer_id,
                "referrer": referrer,
                "utm_campaign": utm,
            },
        ).take(pa.array(order))
        return DayRows(table, person[session][order])

    def _browse(
        self, rng: np.random.Generator, topic: np.ndarray, logged_in: np.ndarray
    ) -> np.ndarray:
        """The page each event views, given its session's topic and whether it is logged in."""
        pages, n = site_pages(), len(topic)
        has_topic = topic >= 0
        category = np.where(
            has_topic,
            weighted_choice(rng, _shares(_INTENT_PAGES), n),
            weighted_choice(rng, _shares(_BROWSING_PAGES), n),
        )
        account, home = PAGE_CATEGORIES.index("account"), PAGE_CATEGORIES.index("home")
        category = np.where((category == account) & ~logged_in, home, category)
        about_products = np.isin(
            category, [PAGE_CATEGORIES.index(c) for c in ("product", "rates", "calculator")]
        )
        blog = category == PAGE_CATEGORIES.index("blog")
        any_product = rng.integers(0, len(PRODUCTS), n)
        on_topic = has_topic & (rng.random(n) < _ON_TOPIC)
        page_topic = np.where(on_topic, topic, any_product)
        page_topic = np.select(
            [about_products, blog & on_topic, blog & (rng.random(n) < 0.3)],
            [page_topic, topic, any_product],
            -1,
        )
        kind = (category, page_topic + 1)
        return pages.first[kind] + (rng.random(n) * pages.count[kind]).astype(np.int64)

    def _arrivals(
        self,
        rng: np.random.Generator,
        sessions: _Sessions,
        session: np.ndarray,
        entry: np.ndarray,
        in_app: np.ndarray,
    ) -> tuple[pa.Array, pa.Array]:
        """Referrer and campaign, carried by each session's entry event."""
        n = len(sessions.person)
        from_email = ~np.asarray(sessions.campaign_id.is_null(), dtype=bool)
        source = weighted_choice(rng, np.array([w for _, w in _REFERRERS]), n)
        # Mail clients and apps send no referrer.
        source = np.where(from_email | in_app, 0, source)
        paid = (source == _GOOGLE) & (sessions.topic >= 0) & (rng.random(n) < _PAID_SEARCH)
        search_campaign = pc.binary_join_element_wise(
            "search-", pick(pa.array(PRODUCTS), np.maximum(sessions.topic, 0)), ""
        )
        campaign = pc.if_else(pa.array(paid), search_campaign, sessions.campaign_id)
        referrers = pa.array([r for r, _ in _REFERRERS], pa.string())
        referrer = pick(referrers, source[session], valid=entry & (source[session] > 0))
        utm = campaign.take(pa.array(session, mask=~entry))
        return referrer, utm

    def _logins(
        self,
        rng: np.random.Generator,
        context: DayContext,
        person: np.ndarray,
        login: np.ndarray,
        in_app: np.ndarray,
    ) -> tuple[pa.Array, pa.Array]:
        """What each login event typed: an email address or a customer id."""
        population = self._population
        who = person[login]
        n = len(who)
        by_email = rng.random(n) < np.where(in_app[login], _APP_LOGIN_BY_EMAIL, _WEB_LOGIN_BY_EMAIL)
        moved_on = population.has_previous_email[who] & (
            population.email_changed_day[who] <= context.index
        )
        old_habit = moved_on & (rng.random(n) < _OLD_EMAIL_AT_LOGIN)
        email = pc.if_else(
            pa.array(old_habit),
            population.previous_email.take(pa.array(who)),
            population.email_on(context.index).take(pa.array(who)),
        )
        record = self._records.look_up(rng, who, context.index)
        customer_id = pick(self._records.customer_id, np.maximum(record, 0), valid=record >= 0)
        # Scatter the typed values back onto the events: -1 marks events that typed nothing.
        at = np.flatnonzero(login)
        email_slot = np.full(len(person), -1)
        email_slot[at[by_email]] = np.flatnonzero(by_email)
        id_slot = np.full(len(person), -1)
        id_slot[at[~by_email]] = np.flatnonzero(~by_email)
        return (
            pick(email, np.maximum(email_slot, 0), valid=email_slot >= 0),
            pick(customer_id, np.maximum(id_slot, 0), valid=id_slot >= 0),
        )
