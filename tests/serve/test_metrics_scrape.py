"""Glossify's metrics reach Ray's Prometheus endpoint with the labels the dashboard expects."""

from __future__ import annotations

import random
import re

import httpx

from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Sample = tuple[str, dict[str, str], float]


def parse_samples(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition (comments skipped)."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            name, labels, value = match.groups()
            samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of a metric over every series whose labels include ``labels``."""
    return sum(
        value
        for sample_name, sample_labels, value in samples
        if sample_name == name and labels.items() <= sample_labels.items()
    )


def grew(before: list[Sample], after: list[Sample], name: str, **labels: str) -> bool:
    """Some series of ``name`` with ``labels`` rose by at least 1.

    Series are compared one by one: a sum over all would fall whenever a process the
    autoscaler stops takes its series with it."""
    earlier = {(n, tuple(sorted(ls.items()))): value for n, ls, value in before if n == name}
    return any(
        value - earlier.get((n, tuple(sorted(ls.items()))), 0.0) >= 1
        for n, ls, value in after
        if n == name and labels.items() <= ls.items()
    )


# Each with the labels it must carry (the Serve labels where a replica records it), and each
# must grow by at least 1: the session's other tests count into the same series.
GROWING: list[tuple[str, dict[str, str]]] = [
    ("ray_glossify_lines_total", {"kind": "final", "application": "glossify-test"}),
    ("ray_glossify_terms_total", {"source": "local"}),
    ("ray_glossify_explanation_cache_misses_total", {}),
    (
        "ray_glossify_ner_latency_seconds_count",
        {"backend": "local", "deployment": "TermDetector", "application": "glossify-test"},
    ),
    ("ray_glossify_ner_latency_seconds_bucket", {"backend": "local", "le": "+Inf"}),
    (
        "ray_glossify_agent_latency_seconds_count",
        {"backend": "local", "deployment": "TermExplainer", "application": "glossify-test"},
    ),
    ("ray_glossify_upsert_duration_seconds_count", {}),
    ("ray_glossify_meeting_lines_count", {}),
]
# The listener is connected while the metrics are read.
AT_LEAST_ONE = [("ray_glossify_websockets_open", {"deployment": "GlossifyIngress"})]
# Gauges that may well read 0, but must be there, one series per meeting host.
PRESENT = ["ray_glossify_line_queue_depth", "ray_glossify_meetings_open"]


async def test_a_line_shows_up_in_prometheus_metrics(stack) -> None:
    mid = new_meeting_id("metrics")
    acronym = "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(5))
    async with (
        httpx.AsyncClient(timeout=10) as scraper,
        httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as client,
    ):

        async def scrape() -> list[Sample]:
            return parse_samples((await scraper.get(stack.metrics_url)).text)

        before = await scrape()

        # Ray's agent drops a gauge that a busy worker did not re-export within two intervals,
        # so a gauge may be missing from one scrape: each must be seen in some scrape.
        seen_at_least_one: set[str] = set()
        seen_present: set[str] = set()

        def complete(samples: list[Sample]) -> bool:
            names = {name for name, _, _ in samples}
            seen_at_least_one.update(n for n, ls in AT_LEAST_ONE if total(samples, n, **ls) >= 1)
            seen_present.update(name for name in PRESENT if name in names)
            return (
                all(grew(before, samples, n, **ls) for n, ls in GROWING)
                and len(seen_at_least_one) == len(AT_LEAST_ONE)
                and len(seen_present) == len(PRESENT)
            )

        async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
            line = f"The {acronym} rollout needs a new Kubernetes cluster."
            answer = await client.post(f"/meeting/{mid}/stt", json={"text": line, "is_final": True})
            assert answer.status_code == 200, answer.text
            await listener.wait_for(lambda events: any(e["type"] == "terms" for e in events), 60)
            assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202
            await listener.wait_for(lambda events: any(e["type"] == "upsert_done" for e in events))
            # Ray exports every few seconds (up to ~10 s after the record).
            try:
                samples = await poll_until(scrape, complete, within=120)
            except AssertionError:
                samples = await scrape()
                stuck = [(n, ls) for n, ls in GROWING if not grew(before, samples, n, **ls)]
                missing = [n for n in PRESENT if n not in seen_present]
                zero = [n for n, _ in AT_LEAST_ONE if n not in seen_at_least_one]
                raise AssertionError(
                    f"not grown: {stuck}; missing: {missing}; below 1: {zero}"
                ) from None

    ours = [(name, labels) for name, labels, _ in samples if name.startswith("ray_glossify_")]
    # Meeting ids would give every meeting its own series: no label may carry one.
    assert not [name for name, labels in ours if mid in labels.values()]
    for name, labels in ours:
        if name in PRESENT:
            assert labels["shard"].isdigit(), labels
