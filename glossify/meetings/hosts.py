"""Client side of the meeting hosts: find (or create) the host of a meeting and call it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray
from ray.actor import ActorHandle

from glossify.config.settings import GlossifyConfig
from glossify.meetings.host import MeetingHost, host_name, shard_of

log = logging.getLogger(__name__)

# A host that Ray is restarting answers again within seconds; a caller waits that long.
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0)


class MeetingHosts:
    def __init__(self, config: GlossifyConfig) -> None:
        self._config = config
        self._handles: dict[int, ActorHandle] = {}

    def shard(self, meeting_id: str) -> int:
        return shard_of(meeting_id, self._config.meetings.shards)

    def handle(self, shard: int) -> ActorHandle:
        handle = self._handles.get(shard)
        if handle is None:
            handle = (
                ray.remote(MeetingHost)
                .options(
                    name=host_name(self._config.app_name, shard),
                    namespace=self._config.meetings.namespace,
                    lifetime="detached",
                    get_if_exists=True,
                    max_restarts=-1,
                    max_concurrency=100_000,
                    num_cpus=0,
                )
                .remote(shard, self._config.model_dump_json())
            )
            self._handles[shard] = handle
        return handle

    async def call(self, meeting_id: str, method: str, *args: Any) -> dict[str, Any]:
        return await self.call_shard(self.shard(meeting_id), method, meeting_id, *args)

    async def call_shard(self, shard: int, method: str, *args: Any) -> dict[str, Any]:
        """Call a host method; while Ray restarts a crashed host, wait and try again.

        Every host method is safe to repeat: a line journaled before the crash comes back
        as a duplicate, and reads have no effect."""
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return await getattr(self.handle(shard), method).remote(*args)
            except ray.exceptions.RayActorError as exc:
                if delay is None:
                    raise
                log.info("meeting host %s unavailable (%s); retrying", shard, type(exc).__name__)
                if isinstance(exc, ray.exceptions.ActorDiedError):
                    # Looked up again by name: the same host once Ray has restarted it.
                    self._handles.pop(shard, None)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def ping_all(self) -> list[dict[str, Any]]:
        shards = range(self._config.meetings.shards)
        return list(await asyncio.gather(*(self.call_shard(s, "ping") for s in shards)))

    def kill_all(self) -> None:
        for shard in range(self._config.meetings.shards):
            try:
                name = host_name(self._config.app_name, shard)
                actor = ray.get_actor(name, namespace=self._config.meetings.namespace)
            except ValueError:
                continue
            ray.kill(actor, no_restart=True)
