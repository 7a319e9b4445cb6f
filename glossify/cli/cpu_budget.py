"""How far the autoscaled deployments may grow on one machine without starving the Transcriber.

Ray hands a freed CPU to whichever replica has waited longest. On a 2-core machine an
explainer replica that the autoscaler asked for during a burst of terms waited for a CPU it
could not get; when the Transcriber replica died, that replica took its CPU, and the new
Transcriber waited five minutes to be scheduled (captions stopped; `docs/reliability.md`).
So a local stack only lets its backends scale as far as every replica fits next to the
Transcriber's at once. A cluster (`serve deploy`) keeps its config's autoscaling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scaled:
    name: str
    cpus_per_replica: float
    min_replicas: int
    max_replicas: int


def fitting_max_replicas(cpus: float, fixed_cpus: float, scaled: list[Scaled]) -> dict[str, int]:
    """Each autoscaled deployment's highest replica count such that ``fixed_cpus`` plus every
    deployment at that count fit in ``cpus``. The largest demand gives way first, one replica
    at a time, never below its ``min_replicas`` (Serve must start those anyway)."""
    maxima = {one.name: one.max_replicas for one in scaled}

    def demand() -> float:
        return fixed_cpus + sum(one.cpus_per_replica * maxima[one.name] for one in scaled)

    while demand() > cpus + 1e-9:
        shrinkable = [one for one in scaled if maxima[one.name] > one.min_replicas]
        if not shrinkable:
            break
        largest = max(shrinkable, key=lambda one: (one.cpus_per_replica, maxima[one.name]))
        maxima[largest.name] -= 1
    return maxima
