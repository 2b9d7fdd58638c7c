"""``journey serve``: the real-time decision API (FastAPI), over the latest published snapshot.

Routes: ``GET /v1/decisions`` (a placement's offer for a customer or device), ``POST
/v1/events`` (web and app events: landed durably, then added to the customer's session and
decided again), ``GET /v1/noop`` (the same authentication and rate limit, no work: the
benchmark's reference), ``/healthz``, ``/readyz``, ``/metrics``, ``/docs`` and the demo page
under ``/demo``. Every ``/v1`` route needs an ``X-API-Key`` header holding one of the keys in
``JOURNEY_API_KEYS``. Neither answers nor logs carry PII: decisions hold keys, offers and
reasons; ids sent in a query are never logged.
"""

import gc
import logging
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Security
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from ..settings import PRODUCTS
from .decision_log import DecisionLog
from .event_landing import check_events, land_events
from .guards import ApiKeys, RateLimiter, key_label
from .metrics import Metrics
from .realtime import Decider, encoded_offer, wall_clock
from .session import Session
from .snapshot import latest_snapshot_id, load_snapshot

LOG = logging.getLogger("journey.serve")
DEMO_DIR = Path(__file__).parent / "demo"
MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS = 500
POLL_SECONDS = 1.0
PLACEMENTS = ("web_home", "web_product", "app_home")
KNOWN_ROUTES = ("/v1/decisions", "/v1/events", "/v1/noop", "/healthz", "/readyz", "/metrics")

Placement = Literal["web_home", "web_product", "app_home"]
Product = Literal[PRODUCTS]  # type: ignore[valid-type]


class OfferOut(BaseModel):
    id: str
    product: str
    template: str | None
    headline: str | None
    tool: str | None
    facts: dict[str, str]


class DecisionOut(BaseModel):
    decision_id: str
    placement: str
    offer: OfferOut
    context: dict[str, Any]
    models: dict[str, str]
    policy_hash: str
    reasons: list[str]
    why: str
    snapshot_id: str
    decided_at: str


class RejectedOut(BaseModel):
    index: int
    field: str
    error: str


class EventsOut(BaseModel):
    accepted: int
    rejected: list[RejectedOut]
    customers_updated: int


class ServingState:
    """The decider of the current snapshot, the sessions, and the watcher that swaps them."""

    def __init__(self, data_root: Path, clock: Callable[[], datetime] = wall_clock):
        self.data_root = data_root
        self.clock = clock
        self.decider: Decider | None = None
        self.sessions: dict[str, Session] = {}
        self.log = DecisionLog(data_root)
        self.metrics = Metrics()
        self.load_error: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one writer of sessions and deciders at a time
        self._refreshing = threading.Lock()  # one refresh at a time (start-up and the watcher)
        self._thread: threading.Thread | None = None

    def refresh(self) -> bool:
        """Load a newer snapshot if LATEST names one, or decide everyone again for a new day;
        True when it swapped. Runs off the request path (start-up and the watcher thread)."""
        if not self._refreshing.acquire(blocking=False):
            return False  # the other thread is at it
        try:
            return self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> bool:
        latest = latest_snapshot_id(self.data_root)
        current = self.decider
        if latest is None:
            return False
        new_day = current is not None and current.snapshot.snapshot_id == latest
        if new_day and not current.stale():  # type: ignore[union-attr]
            return False
        try:
            snapshot = current.snapshot if new_day else load_snapshot(self.data_root, latest)  # type: ignore[union-attr]
            with self._lock:
                pending = self.decider.pending_contacts() if self.decider else []
                decider = Decider(snapshot, dict(self.sessions), self.clock, pending)
                if self.decider is not None:
                    decider.carry_late(self.decider.pending_contacts())
                self.decider = decider  # one reference swap: requests see old or new
        except (OSError, ValueError, KeyError) as error:
            self.load_error = f"snapshot {latest}: {type(error).__name__}"
            LOG.warning("could not load %s", self.load_error)
            return False
        # The plan is long-lived: keep the cyclic collector from walking it during requests.
        gc.collect()
        gc.freeze()
        self.load_error = None
        self.metrics.count(
            "journey_day_changes_total" if new_day else "journey_snapshot_swaps_total"
        )
        LOG.info("serving snapshot %s, day %s", latest, decider.plan_day)
        return True

    def start(self, poll_seconds: float = POLL_SECONDS) -> None:
        def watch() -> None:
            while not self._stop.wait(poll_seconds):
                self.refresh()

        self._thread = threading.Thread(target=watch, name="snapshot-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.log.close()

    def add_events(self, events: list[dict]) -> int:
        """Add landed events to their customers' sessions and decide those again."""
        decider = self.decider
        if decider is None:
            return 0
        by_customer: dict[str, list[dict]] = {}
        for event in events:
            key = decider.customer_for_device(event["anonymous_id"])
            if key is not None and decider.knows(key):
                by_customer.setdefault(key, []).append(event)
        with self._lock:
            for key, mine in by_customer.items():
                session = self.sessions.setdefault(key, Session())
                if session.add(mine):
                    decider.redecide(key, session)
        return len(by_customer)


def _metrics_middleware(app: FastAPI, state: ServingState):
    """Bounded bodies (413 past MAX_BODY_BYTES) and each request's time, as plain ASGI."""

    async def middleware(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        route = path if path in KNOWN_ROUTES else ("/demo" if path.startswith("/demo") else "other")
        status = {"code": 500}
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            response = JSONResponse({"detail": "request body too large"}, status_code=413)
            await response(scope, receive, send)
            state.metrics.count("journey_requests_total", route=route, status="413")
            return
        received = 0

        async def bounded_receive():  # type: ignore[no-untyped-def]
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413, "request body too large")
            return message

        async def timed_send(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, bounded_receive, timed_send)
        finally:
            state.metrics.count("journey_requests_total", route=route, status=str(status["code"]))
            state.metrics.observe_ms(route, (time.perf_counter() - started) * 1000)

    return middleware


def create_app(
    data_root: Path,
    api_keys: tuple[str, ...],
    rate_per_key: float,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], datetime] = wall_clock,
):  # type: ignore[no-untyped-def]
    """The ASGI application. ``api_keys`` empty: every /v1 request is refused (403)."""
    state = ServingState(data_root, clock)
    keys = ApiKeys(api_keys)
    limiter = RateLimiter(rate_per_key)
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="One of JOURNEY_API_KEYS")

    def caller(key: Annotated[str | None, Security(header)]) -> str:
        if not key:
            raise HTTPException(401, "X-API-Key header required")
        if not keys.known(key):
            raise HTTPException(403, "unknown API key")
        label = key_label(key)
        wait = limiter.allow(label)
        if wait:
            state.metrics.count("journey_rate_limited_total", key=label)
            raise HTTPException(
                429, "rate limit exceeded", headers={"Retry-After": f"{max(1, round(wait))}"}
            )
        return label

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        threading.Thread(target=state.refresh, daemon=True).start()
        state.start(poll_seconds)
        yield
        state.stop()

    app = FastAPI(
        title="journey-orchestrator decisions",
        version="1",
        summary="Real-time next-best-action decisions and web events.",
        lifespan=lifespan,
    )
    app.state.serving = state

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "no snapshot"}})
    async def readyz() -> Response:
        decider = state.decider
        if decider is None:
            return JSONResponse({"status": "waiting for a snapshot"}, status_code=503)
        return JSONResponse(
            {
                "status": "ready",
                "snapshot_id": decider.snapshot.snapshot_id,
                # The API's clock (the snapshot's calendar): what clients stamp events with.
                "now": decider.now().isoformat(),
                # The day every customer was decided for (behind "now" for the moments after
                # midnight while the new day's plan is being built).
                "day": decider.plan_day,
            }
        )

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        decider = state.decider
        state.metrics.gauge("journey_snapshot_loaded", 1 if decider else 0)
        state.metrics.gauge("journey_sessions", len(state.sessions))
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")

    guarded = [Depends(caller)]

    @app.get("/v1/noop", tags=["decisions"], dependencies=guarded)
    async def noop() -> dict:
        """The same authentication and rate limit as a decision, and no work: a reference."""
        return {"ok": True}

    @app.get(
        "/v1/decisions",
        tags=["decisions"],
        dependencies=guarded,
        response_model=DecisionOut,
        responses={
            204: {"description": "the policy shows nothing (reason in X-Decision-Reason)"},
            404: {"description": "unknown customer_key or device_id"},
            503: {"description": "no snapshot loaded yet"},
        },
    )
    async def decisions(
        placement: Annotated[Placement, Query(description="where the offer is shown")],
        customer_key: Annotated[str | None, Query(max_length=64)] = None,
        device_id: Annotated[str | None, Query(max_length=128)] = None,
        page: Annotated[str | None, Query(max_length=200)] = None,
        product: Annotated[Product | None, Query()] = None,
    ) -> Response:
        """The offer a placement shows for one customer (by key, or by a device they use)."""
        if (customer_key is None) == (device_id is None):
            # The shape of FastAPI's own 422 (HTTPValidationError), as the schema documents.
            error = {
                "loc": ["query", "customer_key"],
                "msg": "give exactly one of customer_key and device_id",
                "type": "value_error",
            }
            return JSONResponse({"detail": [error]}, status_code=422)
        decider = state.decider
        if decider is None:
            return JSONResponse({"detail": "no snapshot loaded yet"}, status_code=503)
        key = customer_key if customer_key is not None else decider.customer_for_device(device_id)
        if key is None or not decider.knows(key):
            state.metrics.count("journey_decisions_total", outcome="unknown")
            return JSONResponse({"detail": "unknown customer_key or device_id"}, status_code=404)
        answer = decider.answer(key, state.sessions.get(key))
        state.log.append(list(answer.rows), f"api:{decider.snapshot.snapshot_id}")
        decider.count_contacts(answer.rows)
        if answer.web is None:
            state.metrics.count("journey_decisions_total", outcome="nothing")
            reason = answer.reason.encode("ascii", "replace").decode()
            return Response(status_code=204, headers={"X-Decision-Reason": reason})
        state.metrics.count("journey_decisions_total", outcome="offer")
        return Response(
            encoded_offer(answer, decider.snapshot, placement), media_type="application/json"
        )

    @app.post("/v1/events", tags=["events"], dependencies=guarded, response_model=EventsOut)
    def events(
        body: Annotated[
            list[Any], Body(description="web/events contract rows", max_length=MAX_EVENTS)
        ],
    ) -> EventsOut:
        """Land web events durably (before answering), then update the customers' sessions."""
        kept, rejected = check_events(body)
        if kept:
            land_events(state.data_root / "landing", kept)
        updated = state.add_events(kept)
        state.metrics.count("journey_events_total", len(kept), outcome="accepted")
        state.metrics.count("journey_events_total", len(rejected), outcome="rejected")
        return EventsOut(
            accepted=len(kept),
            rejected=[RejectedOut(index=r.index, field=r.field, error=r.error) for r in rejected],
            customers_updated=updated,
        )

    app.mount("/demo", StaticFiles(directory=DEMO_DIR, html=True), name="demo")
    return _metrics_middleware(app, state), state


def request_log_config() -> dict:
    """uvicorn's logging without its access log (queries hold ids)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "loggers": {
            "uvicorn": {"handlers": ["err"], "level": "INFO"},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "journey.serve": {"handlers": ["err"], "level": "INFO"},
        },
    }
