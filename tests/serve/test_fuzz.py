"""Fuzz on the live stack: schemathesis against ``/openapi.json`` (every route, with a service
key, a meeting token, no and garbage credentials) and hypothesis against the WebSocket (random
JSON, raw bytes, huge, nested, wrong types, interleaved with valid audio).

Passing means: no response >= 500, every 4xx in the error shape, sockets closed only for abuse
(1008 after too many bad frames), no replica or meeting host crashed, and a control meeting
served meanwhile got each of its lines once, in order, with gap-free seqs. The figures are
printed (``pytest -s``) for the record."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import ray
import requests
import schemathesis
import websockets
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ray import serve
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from glossify.meetings.host import host_name
from tests.credentials import MINT_KEY, TEST_KEY
from tests.serve.apps import own_database, second_app, standin_backends
from tests.serve.clients import AUTH, Listener, connect, new_meeting_id
from tests.serve.conftest import Stack
from tests.serve.fuzz_strategies import Frame, sequences
from tests.standins import running_standins

HTTP_EXAMPLES = 50  # per operation, auth variants drawn among them
WS_SEQUENCES = 60
GARBAGE = [
    "Bearer not-a-key-that-anyone-issued-000",
    "Bearer a.b.c",
    "Bearer " + "x" * 4000,
    "Basic dXNlcjpwYXNzd29yZA==",
    "Bearer",
    "",
]
FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
# Intended ends of an actor: Serve downscaling or shutting a replica, a handle going away.
INTENDED_DEATHS = {"RAY_KILL", "OUT_OF_SCOPE", "REF_DELETED"}
# What a fuzzing connection may get back besides errors: its own audio's lines and terms too.
ANSWERS = {"pong", "audio_ack", "audio_done", "transcript", "terms"}
# Autoscaling the backends during the fuzz is fine.
SERVING = {"HEALTHY", "UPSCALING", "DOWNSCALING"}


@pytest.fixture(scope="module")
def stack(stack: Stack) -> Iterator[Stack]:
    """The fuzz gets an application of its own on the session's cluster (stand-in backends, a
    database of its own): random lines must not queue work for the other tests' explainer."""
    with running_standins() as standins, pytest.MonkeyPatch.context() as env:
        database_url = own_database(stack.database_url)
        env.setenv("DATABASE_URL", database_url)
        args = standin_backends(env, standins)
        args["meetings"] = {"shards": 2, "stop_drain_s": 10.0}
        with second_app(stack, "glossify-fuzz", "/fuzz", args, standins) as app:
            yield Stack(app.base_url, app.ws_url, database_url, app.config)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


# --- crashes -----------------------------------------------------------------------------


@dataclass
class ClusterSnapshot:
    actors: dict[str, dict[str, Any]]
    host_pids: dict[int, int]


def snapshot(stack: Any) -> ClusterSnapshot:
    """Every actor of the cluster (state, restarts, death cause) and each meeting host's pid.

    The actor table is read from the GCS directly: the tests run Ray without the dashboard that
    ``ray.util.state`` would ask."""
    from ray._private import state

    host_pids = {}
    for shard in range(stack.config.meetings.shards):
        name = host_name(stack.config.app_name, shard)
        host = ray.get_actor(name, namespace=stack.config.meetings.namespace)
        host_pids[shard] = ray.get(host.ping.remote(), timeout=60)["pid"]
    return ClusterSnapshot(dict(state.actors()), host_pids)


def _death(actor: dict[str, Any]) -> str:
    from ray.core.generated import common_pb2

    cause = actor.get("DeathCause")
    if cause is None:
        return "UNKNOWN"
    context = cause.WhichOneof("context")
    if context != "actor_died_error_context":
        return str(context)
    died = cause.actor_died_error_context
    if "INTENDED" in died.error_message:
        return "INTENDED_EXIT"
    return str(common_pb2.ActorDiedErrorContext.Reason.Name(died.reason))


def crashes_between(before: ClusterSnapshot, after: ClusterSnapshot) -> list[str]:
    """Actors that restarted or died unintentionally, and meeting hosts with a new pid."""
    found = []
    for actor_id, now in after.actors.items():
        was = before.actors.get(actor_id)
        name = now.get("Name") or now.get("ActorClassName") or actor_id
        restarts = now.get("NumRestarts", 0) - (was or {}).get("NumRestarts", 0)
        if restarts > 0:
            found.append(f"{name} restarted {restarts}x")
        newly_dead = now.get("State") == "DEAD" and (was is None or was.get("State") != "DEAD")
        if newly_dead and _death(now) not in INTENDED_DEATHS | {"INTENDED_EXIT"}:
            found.append(f"{name} died: {_death(now)}")
    for shard, pid in before.host_pids.items():
        if after.host_pids[shard] != pid:
            found.append(f"meeting host {shard} restarted (pid {pid} -> {after.host_pids[shard]})")
    return found


async def serving_problems(stack: Any, before: ClusterSnapshot) -> list[str]:
    """What is wrong after the fuzz: an ingress that does not answer, a part of /health that is
    not ok, a Serve deployment that is neither healthy nor scaling, an actor that crashed since
    ``before``. Empty when all is well."""
    problems = []
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        report: dict[str, Any] = {}
        for _ in range(30):  # a backend busy with the fuzz's leftovers may be slow to answer
            answer = await http.get("/health", headers=AUTH)
            report = answer.json()
            if answer.status_code == 200 and report["status"] == "ok":
                break
            await asyncio.sleep(1.0)
    failing = {k: v for k, v in report.items() if isinstance(v, dict) and v["state"] != "ok"}
    if report.get("status") != "ok" or failing:
        problems.append(f"/health: {report}")
    status = serve.status().applications[stack.config.app_name]
    for name, deployment in status.deployments.items():
        if deployment.status not in SERVING:
            problems.append(f"deployment {name}: {deployment.status} {deployment.message}")
    return problems + crashes_between(before, await asyncio.to_thread(snapshot, stack))


# --- the control meeting ---------------------------------------------------------------


class ControlMeeting:
    """Another meeting served while the fuzz runs: its lines (posted every ``interval_s``, or
    when the fuzz calls ``post``) must reach its listener once each, in order, with gap-free
    seqs, and be its transcript, whatever the fuzz does."""

    def __init__(self, stack: Any, interval_s: float | None = None) -> None:
        self.interval_s = interval_s
        self.mid = new_meeting_id("control")
        self.posted: list[str] = []
        self.problems: list[str] = []
        self._done = asyncio.Event()
        self._poster: asyncio.Task[None] | None = None
        self._http = httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30)
        self.listener = Listener(f"{stack.ws_url}/meeting/{self.mid}/ws")

    async def __aenter__(self) -> ControlMeeting:
        assert (await self._http.post(f"/meeting/{self.mid}/start")).status_code == 200
        await self.listener.__aenter__()
        if self.interval_s is not None:
            self._poster = asyncio.create_task(self._post_lines(self.interval_s))
        return self

    async def post(self) -> None:
        text = f"Control line {len(self.posted) + 1} says the weather is fine."
        answer = await self._http.post(
            f"/meeting/{self.mid}/stt", json={"text": text, "is_final": True}
        )
        if answer.status_code == 200:
            self.posted.append(text)
        else:
            self.problems.append(f"control line refused: {answer.status_code} {answer.text}")

    async def _post_lines(self, interval_s: float) -> None:
        while not self._done.is_set():
            await self.post()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), interval_s)

    async def __aexit__(self, *exc: object) -> None:
        self._done.set()
        try:
            if self._poster is not None:
                await self._poster
            self.problems += await self._check()
        finally:
            await self.listener.__aexit__(None, None, None)
            await self._http.aclose()

    async def _check(self) -> list[str]:
        def finals(events: list[dict[str, Any]]) -> list[str]:
            return [e["text"] for e in events if e.get("type") == "transcript"]

        try:
            await self.listener.wait_for(lambda events: len(finals(events)) >= len(self.posted))
        except AssertionError as exc:
            return [f"control meeting: {exc}"]
        await asyncio.sleep(1.0)  # anything extra (a repeat) would arrive now
        events, problems = self.listener.events, []
        if not self.posted or finals(events) != self.posted:
            problems.append(f"control meeting: posted {self.posted}, got {finals(events)}")
        assert self.listener.ready is not None
        first = self.listener.ready["seq"] + 1
        seqs = [e.get("seq") for e in events]
        if seqs != list(range(first, first + len(events))):
            problems.append(f"control meeting: seqs {seqs} after ready at {first - 1}")
        errors = [e for e in events if e.get("type") == "error"]
        if errors:
            problems.append(f"control meeting: error events {errors}")
        lines = (await self._http.get(f"/meeting/{self.mid}/transcript")).json()["lines"]
        if [line["text"] for line in lines] != self.posted:
            problems.append(f"control meeting: /transcript has {lines}")
        return problems

    def summary(self) -> str:
        state = "all received in order, seqs gap-free" if not self.problems else "PROBLEMS"
        return f"control meeting: {len(self.posted)} lines posted, {state}"


# --- schemathesis over every route ------------------------------------------------------


@dataclass
class HttpTally:
    operations: int = 0
    cases: int = 0
    degraded_health: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    by_auth: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    bad_error_shapes: list[str] = field(default_factory=list)


def error_shape_problem(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]!r}"
    if not isinstance(body, dict) or body.get("status") != "error":
        return f"not an error body: {body!r:.200}"
    if not isinstance(body.get("code"), str) or not isinstance(body.get("message"), str):
        return f"no code or message: {body!r:.200}"
    return None


def is_degraded_health(case: Any, response: requests.Response) -> bool:
    """/health's documented 503: a backend too busy to answer its health check in time."""
    if case.operation.label != "GET /health" or response.status_code != 503:
        return False
    with contextlib.suppress(ValueError):
        return bool(response.json().get("status") == "degraded")
    return False


@st.composite
def path_meeting_ids(draw: st.DrawFn, real: list[str]) -> str | None:
    """Mostly a real meeting (routes do real work), else a random or the generated one (None)."""
    pick = draw(st.integers(min_value=0, max_value=9))
    if pick < 7:
        return draw(st.sampled_from(real))
    if pick < 9:
        return draw(st.from_regex(r"\Afz-[A-Za-z0-9_-]{1,20}\Z"))
    return None


def fuzz_every_route(stack: Any, real: list[str], token: str) -> HttpTally:
    """``HTTP_EXAMPLES`` schemathesis cases per operation (positive and negative), each sent
    with one of four credentials; counts what came back instead of stopping at the first."""
    tally = HttpTally()
    schema = schemathesis.openapi.from_url(stack.url("/openapi.json"), timeout=30)
    session = requests.Session()
    credentials: dict[str, str | None] = {
        "service_key": f"Bearer {TEST_KEY}",
        "meeting_token": f"Bearer {token}",
        "none": None,
        "garbage": "garbage",
    }
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(FUZZ_SETTINGS, max_examples=HTTP_EXAMPLES)
        @given(
            case=cases,
            auth=st.sampled_from(list(credentials)),
            garbage=st.sampled_from(GARBAGE),
            mid=path_meeting_ids(real),
        )
        def send(case: Any, auth: str, garbage: str, mid: str | None) -> None:
            if case.path_parameters and "mid" in case.path_parameters and mid is not None:
                case.path_parameters["mid"] = mid
            if case.headers:
                case.headers.pop("Authorization", None)
            credential = garbage if auth == "garbage" else credentials[auth]
            headers = {} if credential is None else {"Authorization": credential}
            response = case.call(
                base_url=stack.base_url, session=session, headers=headers, timeout=60
            )
            tally.cases += 1
            tally.by_operation[case.operation.label] += 1
            tally.by_auth[auth] += 1
            tally.by_status[response.status_code] += 1
            repro = case.as_curl_command(headers=headers)
            if is_degraded_health(case, response):
                tally.degraded_health += 1  # documented; the end of the test wants it ok again
                return
            try:
                case.validate_response(response, checks=[not_a_server_error], headers=headers)
            except (AssertionError, BaseExceptionGroup):
                tally.server_errors.append(f"{response.status_code} {response.text[:300]}\n{repro}")
            if 400 <= response.status_code < 500:
                problem = error_shape_problem(response)
                if problem is not None:
                    tally.bad_error_shapes.append(f"{response.status_code} {problem}\n{repro}")

        send()
    return tally


async def start_fuzz_meetings(http: httpx.AsyncClient, count: int) -> tuple[list[str], str]:
    """Meetings of the fuzz alone (it may stop them), with lines and terms to read, and a host
    token for the first, minted with the tokens:mint key."""
    real = [new_meeting_id("fz") for _ in range(count)]
    for mid in real:
        assert (await http.post(f"/meeting/{mid}/start", headers=AUTH)).status_code == 200
        line = {"text": "The fuzz meeting talks about the SLA.", "is_final": True}
        assert (await http.post(f"/meeting/{mid}/stt", json=line, headers=AUTH)).status_code == 200
        term = {"entity": "Fuzzing", "domain": "Testing", "body": "Random input, on purpose."}
        assert (
            await http.post(f"/meeting/{mid}/terms", json=term, headers=AUTH)
        ).status_code == 200
    minted = await http.post(
        f"/meeting/{real[0]}/tokens", json={"role": "host"}, headers=bearer(MINT_KEY)
    )
    assert minted.status_code == 200, minted.text
    return real, minted.json()["token"]


# schemathesis generates in a worker thread while the control meeting's socket runs on the event
# loop; the websockets library draws its keepalive ping payloads from the global random module,
# and hypothesis reads any change of that state during generation as a strategy using it.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
async def test_schemathesis_finds_no_server_error_on_any_route(stack: Any) -> None:
    started = time.monotonic()
    before = await asyncio.to_thread(snapshot, stack)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        real, token = await start_fuzz_meetings(http, 3)
    async with ControlMeeting(stack, interval_s=0.1) as control:
        tally = await asyncio.to_thread(fuzz_every_route, stack, real, token)
    problems = await serving_problems(stack, before)
    print(
        f"\nschemathesis: {tally.cases} cases in {time.monotonic() - started:.0f} s, "
        f"{len(tally.server_errors)} responses >= 500, {len(tally.bad_error_shapes)} 4xx not in "
        f"the error shape, {len(problems)} crashes or unhealthy parts; {control.summary()}"
        f"\n  /health degraded (503) {tally.degraded_health} times"
        f"\n  by operation {dict(tally.by_operation)}"
        f"\n  by credential {dict(tally.by_auth)}"
        f"\n  by status {dict(sorted(tally.by_status.items()))}"
    )
    assert tally.operations >= 9 and len(tally.by_operation) == tally.operations
    assert tally.cases >= tally.operations * HTTP_EXAMPLES // 2
    assert not tally.server_errors, "\n\n".join(tally.server_errors)
    assert not tally.bad_error_shapes, "\n\n".join(tally.bad_error_shapes)
    assert not problems, problems
    assert not control.problems, control.problems


@pytest.mark.parametrize("route", ["start", "stt", "terms", "tokens"])
async def test_json_nested_past_the_parsers_limit_is_a_400(stack: Any, route: str) -> None:
    """Found by the fuzz: JSON nested about 1000 deep makes ``json.loads`` raise RecursionError,
    which was answered 503 here and, on a socket, dropped the connection without a close frame
    (tests/serve/fuzz_strategies.py ``too_deep`` covers the socket)."""
    mid = new_meeting_id("deep")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        for depth in (1000, 100_000):
            body = "[" * depth + "]" * depth
            answer = await http.post(
                f"/meeting/{mid}/{route}",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["code"] == "malformed_json"


# --- hypothesis over WebSocket frames ---------------------------------------------------


def draw_sequences() -> list[list[Frame]]:
    """``WS_SEQUENCES`` frame sequences, the same ones each run (derandomised)."""
    drawn: list[list[Frame]] = []

    @settings(FUZZ_SETTINGS, max_examples=WS_SEQUENCES)
    @given(sequences)
    def collect(sequence: list[Frame]) -> None:
        drawn.append(sequence)

    collect()
    return drawn


def answers_pong(frame: Frame) -> bool:
    """Whether the server answers ``frame`` with a pong (a JSON ping within the size limit)."""
    if isinstance(frame, bytes) or len(frame) > 64 * 1024:
        return False
    try:
        parsed = json.loads(frame)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(parsed, dict) and parsed.get("type") == "ping"


def describe(frame: Frame) -> str:
    kind = "bytes" if isinstance(frame, bytes) else "text"
    return f"{kind}[{len(frame)}] {frame[:80]!r}"


@dataclass
class SocketTally:
    sequences: int = 0
    frames: int = 0
    connections: int = 0
    abuse_closes: int = 0
    error_codes: Counter[str] = field(default_factory=Counter)
    event_types: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class FuzzSocket:
    """One fuzzing connection at a time; a new one when the server closed the last."""

    def __init__(self, url: str, tally: SocketTally) -> None:
        self.url = url
        self.tally = tally
        self.ws: Any = None
        self.events: list[dict[str, Any]] = []
        self.closed: websockets.ConnectionClosed | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def open(self) -> None:
        self.ws = await connect(self.url, TEST_KEY, max_size=2**22)
        self.events, self.closed = [], None
        self._reader = asyncio.create_task(self._read())
        self.tally.connections += 1
        await self.wait(lambda: bool(self.events), "no ready event")
        assert self.events[0]["type"] == "ready", self.events

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                try:
                    event = json.loads(raw)
                except (TypeError, ValueError):
                    event = {"type": "not JSON", "raw": raw[:200]}
                if not isinstance(event, dict):
                    event = {"type": "not an object", "raw": event}
                self.events.append(event)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        self.closed = self.ws.close_exc
        self._changed.set()

    async def wait(self, done: Any, what: str, within: float = 120.0) -> None:
        async def _wait() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            raise AssertionError(f"{what}: {self.events[-5:]}") from None

    def pongs(self) -> int:
        return sum(1 for e in self.events if e.get("type") == "pong")

    async def run(self, sequence: list[Frame]) -> None:
        """Sends one sequence and a ping; checks every answer until the pongs or the close."""
        if self.ws is None or self.closed is not None:
            await self.open()
        start, expected = len(self.events), self.pongs() + 1
        self.tally.sequences += 1
        try:
            for frame in sequence:
                await self.ws.send(frame)
                self.tally.frames += 1
                expected += answers_pong(frame)
            await self.ws.send(json.dumps({"type": "ping"}))
        except websockets.ConnectionClosed:
            pass
        await self.wait(
            lambda: self.closed is not None or self.pongs() >= expected,
            f"no answer to {[describe(f) for f in sequence]}",
        )
        for event in self.events[start:]:
            self.tally.event_types[event.get("type", "?")] += 1
            if event.get("type") == "error":
                self.tally.error_codes[event.get("code", "?")] += 1
                if not (
                    isinstance(event.get("code"), str) and isinstance(event.get("message"), str)
                ):
                    self.tally.failures.append(f"error event without code or message: {event}")
            elif event.get("type") not in ANSWERS:
                self.tally.failures.append(f"unexpected event {event}")
        if self.closed is not None:
            self._check_close(sequence)

    def _check_close(self, sequence: list[Frame]) -> None:
        assert self.closed is not None
        code = self.closed.rcvd.code if self.closed.rcvd is not None else None
        abused = bool(self.events) and self.events[-1].get("code") == "too_many_errors"
        if code == 1008 and abused:
            self.tally.abuse_closes += 1
        else:
            self.tally.failures.append(
                f"closed with {code} ({self.closed}) after {self.events[-3:]} "
                f"on {[describe(f) for f in sequence]}"
            )
        self.ws = None

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader


async def test_websocket_frame_fuzz_breaks_no_socket_and_no_other_meeting(stack: Any) -> None:
    started = time.monotonic()
    drawn = await asyncio.to_thread(draw_sequences)
    before = await asyncio.to_thread(snapshot, stack)
    tally = SocketTally()
    mid = new_meeting_id("fzws")
    async with ControlMeeting(stack) as control:
        socket = FuzzSocket(f"{stack.ws_url}/meeting/{mid}/ws", tally)
        try:
            for sequence in drawn:
                await socket.run(sequence)
                await control.post()
        finally:
            await socket.close()
    problems = await serving_problems(stack, before)
    print(
        f"\nwebsocket fuzz: {tally.sequences} sequences, {tally.frames} frames, "
        f"{tally.connections} connections, {tally.abuse_closes} closed for abuse (1008), "
        f"{len(tally.failures)} failures, {len(problems)} crashes or unhealthy parts in "
        f"{time.monotonic() - started:.0f} s; {control.summary()}"
        f"\n  error codes {dict(tally.error_codes)}"
        f"\n  events {dict(tally.event_types)}"
    )
    assert tally.sequences == len(drawn) == WS_SEQUENCES
    assert not tally.failures, "\n\n".join(tally.failures)
    assert not problems, problems
    assert not control.problems, control.problems
