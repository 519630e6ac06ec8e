"""Prometheus metrics shared by every service: RPC rate, errors by code, latency, watch health, and an exporter."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_REQUESTS = Counter("creditnode_rpc_requests", "RPCs served, by final status code.", ["service", "method", "code"])
RPC_DURATION = Histogram(
    "creditnode_rpc_duration_seconds",
    "Time to serve an RPC (streams: until the stream ends).",
    ["service", "method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WATCH_CONNECTED = Gauge(
    "creditnode_watch_connected", "1 while a watch stream this service consumes is connected.", ["service", "stream"]
)
WATCH_LAG = Gauge(
    "creditnode_watch_lag_seconds", "Seconds since the last message on a consumed watch stream.", ["service", "stream"]
)


EVIDENCE_LOG_SIZE = Gauge("creditnode_evidence_log_size", "Leaves committed to the evidence log.", ["service"])
EVIDENCE_HEAD_AGE = Gauge(
    "creditnode_evidence_signed_tree_head_age_seconds",
    "Age of the latest signed tree head (none signed yet: how long the first leaf has waited for one).",
    ["service"],
)
EVIDENCE_UNSIGNED = Gauge(
    "creditnode_evidence_unsigned_leaves",
    "Leaves committed to the evidence log that no signed tree head covers.",
    ["service"],
)
OBJECTIONS_OVERDUE = Gauge(
    "creditnode_objections_overdue", "Open objections past their handling deadline.", ["service"]
)
OBJECTION_EVENTS_REFUSED = Gauge(
    "creditnode_objection_events_refused",
    "Objection outbox events a consumer refused for good (kept as REFUSED, never retried).",
    ["service"],
)
# Labelled, so that only a service that sets it (objection's sweep) has a series: every service imports this module,
# and an unlabelled gauge reads 0 from the start, which the alert rules' min() across services took for a missing
# calendar (paging all year).
CALENDAR_NEXT_YEAR = Gauge(
    "creditnode_calendar_next_year_loaded",
    "1 when the working-day calendar covers the coming weeks' years.",
    ["service"],
)
INGEST_LAG = Histogram(
    "creditnode_ingest_lag_seconds",
    "From a record's source event to its arrival at the node, per department.",
    ["department"],
    buckets=(60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 31 * 86400, 92 * 86400),
)
OBJECTION_SLA = Gauge(
    "creditnode_objection_sla",
    "Objection SLA counts: forwarded/handled on time out of decided, open, overdue, forwarding unknown.",
    ["measure"],
)
INGEST_LATE = Counter(
    "creditnode_ingest_late_records", "Records delivered after their sharing-list deadline.", ["department", "item"]
)


_rpc_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}


def observe_rpc(service: str, method: str, code: str, seconds: float) -> None:
    # Labelled children are looked up once per (service, method, code): labels() per call showed in profiles.
    key = (service, method, code)
    children = _rpc_children.get(key)
    if children is None:
        children = _rpc_children[key] = (
            RPC_REQUESTS.labels(service, method, code),
            RPC_DURATION.labels(service, method),
        )
    children[0].inc()
    children[1].observe(seconds)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104  (scraped from inside the cluster)
    """Expose /metrics over HTTP for Prometheus; port 0 leaves the exporter off."""
    if port:
        start_http_server(port, addr=host)
