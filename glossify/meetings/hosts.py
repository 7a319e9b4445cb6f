"""Client side of the meeting hosts: find (or create) the host of a meeting and call it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Callable
from typing import Any

import ray
from ray import ObjectRef
from ray.actor import ActorHandle

from glossify.config.settings import GlossifyConfig
from glossify.meetings.host import MeetingHost, host_name, shard_of
from glossify.store.glossary import GlossaryQuery

log = logging.getLogger(__name__)

# A host that Ray is restarting answers again within seconds; a caller waits that long.
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0)

# A sliver of CPU, not none: an actor that asks for nothing may be placed on any node, the GPU
# nodes included (tests/cluster/test_two_nodes.py saw it), where losing the node loses meetings.
HOST_CPUS = 0.01

# One remote call on a host's actor handle, e.g. ``lambda host: host.open.remote(mid)``.
HostCall = Callable[[ActorHandle[MeetingHost]], ObjectRef[dict[str, Any]]]


class MeetingHosts:
    def __init__(self, config: GlossifyConfig) -> None:
        self._config = config
        self._handles: dict[int, ActorHandle[MeetingHost]] = {}
        self._turns = itertools.count()

    def shard(self, meeting_id: str) -> int:
        return shard_of(meeting_id, self._config.meetings.shards)

    def handle(self, shard: int) -> ActorHandle[MeetingHost]:
        handle = self._handles.get(shard)
        if handle is None:
            # ray.remote's stubs type an actor class as the class itself.
            actor: Any = ray.remote(MeetingHost)
            handle = actor.options(
                name=host_name(self._config.app_name, shard),
                namespace=self._config.meetings.namespace,
                lifetime="detached",
                get_if_exists=True,
                max_restarts=-1,
                max_concurrency=100_000,
                num_cpus=HOST_CPUS,
            ).remote(shard, self._config.model_dump_json())
            self._handles[shard] = handle
        return handle

    # -- one method per host operation, named as on MeetingHost; each returns its plain dict --

    async def start(self, meeting_id: str, language: str | None) -> dict[str, Any]:
        return await self._call(meeting_id, lambda host: host.start.remote(meeting_id, language))

    async def open(self, meeting_id: str, create: bool) -> dict[str, Any]:
        return await self._call(meeting_id, lambda host: host.open.remote(meeting_id, create))

    async def submit_line(
        self, meeting_id: str, line: dict[str, Any], create: bool
    ) -> dict[str, Any]:
        return await self._call(
            meeting_id, lambda host: host.submit_line.remote(meeting_id, line, create)
        )

    async def add_terms(
        self, meeting_id: str, terms: list[dict[str, Any]], create: bool, to_glossary: bool
    ) -> dict[str, Any]:
        return await self._call(
            meeting_id,
            lambda host: host.add_terms.remote(meeting_id, terms, create, to_glossary),
        )

    async def events_after(self, meeting_id: str, since: int, wait_s: float) -> dict[str, Any]:
        return await self._call(
            meeting_id, lambda host: host.events_after.remote(meeting_id, since, wait_s)
        )

    async def hotwords(self, meeting_id: str, limit: int) -> dict[str, Any]:
        return await self._call(meeting_id, lambda host: host.hotwords.remote(meeting_id, limit))

    async def stop(self, meeting_id: str) -> dict[str, Any]:
        return await self._call(meeting_id, lambda host: host.stop.remote(meeting_id))

    async def stop_status(self, meeting_id: str) -> dict[str, Any]:
        return await self._call(meeting_id, lambda host: host.stop_status.remote(meeting_id))

    async def glossary(self, meeting_id: str, after: int, limit: int) -> dict[str, Any]:
        return await self._call(
            meeting_id, lambda host: host.glossary.remote(meeting_id, after, limit)
        )

    async def transcript(self, meeting_id: str, after: int, limit: int) -> dict[str, Any]:
        return await self._call(
            meeting_id, lambda host: host.transcript.remote(meeting_id, after, limit)
        )

    # -- the organisation glossary: the hosts share the table and keep none of it in memory,
    # so any host answers. Searches take turns over the hosts, so that browsing the glossary
    # does not load one host's connection pool (which also journals its meetings); reading,
    # correcting and deleting one term go to the host its termid hashes to, which spreads them
    # the same way.

    def _any_shard(self) -> int:
        return next(self._turns) % self._config.meetings.shards

    def _term_shard(self, termid: uuid.UUID) -> int:
        return shard_of(str(termid), self._config.meetings.shards)

    async def search_glossary(self, query: GlossaryQuery) -> dict[str, Any]:
        return await self._call_shard(
            self._any_shard(), lambda host: host.search_glossary.remote(query)
        )

    async def glossary_domains(self) -> dict[str, Any]:
        return await self._call_shard(
            self._any_shard(), lambda host: host.glossary_domains.remote()
        )

    async def glossary_term(self, termid: uuid.UUID) -> dict[str, Any]:
        return await self._call_shard(
            self._term_shard(termid), lambda host: host.glossary_term.remote(termid)
        )

    async def correct_glossary(
        self, termid: uuid.UUID, domain: str, explanation: str, term: str | None
    ) -> dict[str, Any]:
        return await self._call_shard(
            self._term_shard(termid),
            lambda host: host.correct_glossary.remote(termid, domain, explanation, term),
        )

    async def delete_glossary(self, termid: uuid.UUID, domain: str) -> dict[str, Any]:
        return await self._call_shard(
            self._term_shard(termid), lambda host: host.delete_glossary.remote(termid, domain)
        )

    async def ping_all(self) -> list[dict[str, Any]]:
        shards = range(self._config.meetings.shards)
        pings = (self._call_shard(shard, lambda host: host.ping.remote()) for shard in shards)
        return list(await asyncio.gather(*pings))

    async def _call(self, meeting_id: str, invoke: HostCall) -> dict[str, Any]:
        return await self._call_shard(self.shard(meeting_id), invoke)

    async def _call_shard(self, shard: int, invoke: HostCall) -> dict[str, Any]:
        """Call the host of ``shard``; while Ray restarts a crashed host, wait and try again.

        Every host method is safe to repeat: a line journaled before the crash comes back
        as a duplicate, and reads have no effect."""
        for delay in (*RETRY_DELAYS_S, None):
            try:
                result: dict[str, Any] = await invoke(self.handle(shard))
                return result
            except ray.exceptions.RayActorError as exc:
                if delay is None:
                    raise
                log.info("meeting host %s unavailable (%s); retrying", shard, type(exc).__name__)
                if isinstance(exc, ray.exceptions.ActorDiedError):
                    # Looked up again by name: the same host once Ray has restarted it.
                    self._handles.pop(shard, None)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def kill_all(self) -> None:
        for shard in range(self._config.meetings.shards):
            try:
                name = host_name(self._config.app_name, shard)
                actor = ray.get_actor(name, namespace=self._config.meetings.namespace)
            except ValueError:
                continue
            ray.kill(actor, no_restart=True)
