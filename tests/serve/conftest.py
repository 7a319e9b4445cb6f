"""The shared Ray Serve cluster: one per test session, with the Glossify app on it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from glossify.cli.local_stack import free_port, wait_for_health

TEST_APP = "glossify-test"
# No per-request lines from the test apps' replicas: a failing test's output shows what went
# wrong instead of hundreds of "CALL detect OK".
QUIET = {"enable_access_log": False}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything in this folder runs on the shared cluster: `-m "not serve"` skips it.
    for item in items:
        if "/tests/serve/" in str(item.path):
            item.add_marker(pytest.mark.serve)


@dataclass
class Stack:
    base_url: str
    ws_url: str
    database_url: str
    config: Any
    metrics_url: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path


def test_app_args() -> dict[str, Any]:
    from glossify.weights.packaged import smollm2_path

    return {
        "explainer": {
            "model_path": str(smollm2_path()),
            "n_threads": 1,
            # The fixed prompt (instructions, two worked examples) is about 420 Qwen tokens and
            # more in SmolLM2's (it spends several tokens on each Korean syllable): 512 overflowed.
            "ctx_per_slot": 1024,
            "max_tokens": 48,
            "deadline_s": 20.0,
        },
        "meetings": {"shards": 2, "stop_drain_s": 30.0},
        # Tests send recordings as fast as allowed: 8x real time keeps them quick. A 67 s
        # recording sent at once stays under the backlog warning (test_backpressure.py passes it).
        "audio": {"max_speed": 8.0, "buffer_warn_s": 75.0, "buffer_max_s": 300.0},
        # Small enough for tests/serve/test_access.py to reach; every test connects from 127.0.0.1.
        "auth": {
            "quotas": {
                "sockets_per_meeting": 8,
                "sockets_per_address": 100,
                "audio_senders_per_meeting": 2,
            }
        },
    }


@pytest.fixture(scope="session")
def stack(database_url: str) -> Iterator[Stack]:
    import ray
    from ray import serve

    from glossify.app import build_app
    from glossify.config.settings import load_config
    from glossify.meetings.hosts import MeetingHosts

    os.environ["DATABASE_URL"] = database_url
    port = free_port()
    metrics_port = free_port()
    # Logical CPUs are scheduling tokens: 4 leave room for the autoscaled replicas on 2 cores.
    ray.init(
        address="local",
        num_cpus=4,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        namespace="glossify-tests",
        logging_level="WARNING",
        _metrics_export_port=metrics_port,
    )
    serve.start(
        http_options={"host": "127.0.0.1", "port": port},
        logging_config={"enable_access_log": False},
    )
    args = test_app_args()
    serve.run(
        build_app(args), name=TEST_APP, route_prefix="/", blocking=False, logging_config=QUIET
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_health(base + "/health", timeout_s=180)
    config = load_config(args).model_copy(update={"app_name": TEST_APP})
    try:
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        yield Stack(base, f"ws://127.0.0.1:{port}", database_url, config, metrics_url)
    finally:
        serve.shutdown()
        MeetingHosts(config).kill_all()
        ray.shutdown()
