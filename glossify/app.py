"""The Serve application builder: ``glossify.app:build_app`` in a Serve config."""

from __future__ import annotations

import os
from typing import Any, Literal

from ray.serve import Application
from ray.serve.deployment import Deployment

from glossify.cli.cpu_budget import Scaled
from glossify.config.access import AccessConfigError, load_access_secrets
from glossify.config.base import ConfigError
from glossify.config.settings import AutoscalingOverrides, GlossifyConfig, load_config
from glossify.deployments.detector import TermDetector
from glossify.deployments.explainer import TermExplainer
from glossify.deployments.ingress import GlossifyIngress
from glossify.deployments.transcriber import Transcriber
from glossify.meetings.hosts import HOST_CPUS

# Remote backends wait on the network, not on a CPU: a sliver each keeps them schedulable next
# to the Transcriber and llama.cpp replicas. A Serve config's ray_actor_options still win.
REMOTE_BACKEND_CPUS = 0.05
# How many calls one replica of a remote explainer makes to its service at once; more terms
# wait in Serve's queue (a local model's replica queues them itself, fairly by meeting).
REMOTE_EXPLAINER_CALLS = 32


def build_app(args: dict[str, Any]) -> Application:
    return build_graph(load_config(args))


def _deployment(decorated: object) -> Deployment:
    """A ``@serve.deployment`` class as what it is at run time: mypy does not apply class
    decorators, so it takes the name for the plain class."""
    if not isinstance(decorated, Deployment):
        raise TypeError(f"{decorated!r} is not a Serve deployment")
    return decorated


def _backend_deployment(
    deployment: Deployment,
    remote: bool,
    runtime_env: dict[str, Any] | None,
    autoscaling: AutoscalingOverrides | None = None,
) -> Deployment:
    options = dict(deployment.ray_actor_options or {})
    if remote:
        options["num_cpus"] = REMOTE_BACKEND_CPUS
    if runtime_env:
        options["runtime_env"] = runtime_env
    if autoscaling is None:
        return deployment.options(ray_actor_options=options)
    # The decorator's settings, with the config's on top (Serve validates the result).
    current = deployment._deployment_config.autoscaling_config
    merged = current.model_dump(exclude_unset=True) if current is not None else {}
    merged.update(autoscaling.model_dump(exclude_none=True))
    try:
        return deployment.options(ray_actor_options=options, autoscaling_config=merged)
    except ValueError as exc:
        raise ConfigError(f"autoscaling.{deployment.name}: {exc}") from None


def _cpus(deployment: Deployment) -> float:
    return float((deployment.ray_actor_options or {}).get("num_cpus", 1))


def fixed_cpus(config: GlossifyConfig) -> float:
    """CPUs of what does not autoscale: the Transcriber, the ingress and the meeting hosts."""
    transcriber = _cpus(_deployment(Transcriber)) if config.transcriber.enabled else 0.0
    return transcriber + _cpus(_deployment(GlossifyIngress)) + config.meetings.shards * HOST_CPUS


def scaled_backends(config: GlossifyConfig) -> list[Scaled]:
    """The autoscaled backends as ``build_graph`` deploys them: CPUs per replica and bounds."""
    backends: tuple[tuple[Literal["TermDetector", "TermExplainer"], object, bool], ...] = (
        ("TermDetector", TermDetector, config.detector.backend != "local"),
        ("TermExplainer", TermExplainer, config.explainer.backend != "local"),
    )
    scaled = []
    for name, decorated, remote in backends:
        deployment = _deployment(decorated)
        bounds = deployment._deployment_config.autoscaling_config
        if bounds is None:
            continue
        overrides = config.autoscaling.get(name) or AutoscalingOverrides()
        low = bounds.min_replicas if overrides.min_replicas is None else overrides.min_replicas
        high = bounds.max_replicas if overrides.max_replicas is None else overrides.max_replicas
        cpus = REMOTE_BACKEND_CPUS if remote else _cpus(deployment)
        scaled.append(Scaled(name, cpus, low, high))
    return scaled


def build_graph(
    config: GlossifyConfig, backend_runtime_env: dict[str, Any] | None = None
) -> Application:
    """The deployment graph for a validated config.

    The backends get their resolved settings (endpoints, secrets from the environment) through
    their init args, and the ingress its access secrets (``GLOSSIFY_API_KEYS``,
    ``GLOSSIFY_AUTH_SECRET``), so replicas on other nodes need no environment of their own.
    ``backend_runtime_env`` is for Python callers whose backend replicas need more, e.g. the
    variables DefaultAzureCredential reads; a Serve config uses the application's runtime_env.
    """
    detector = _backend_deployment(
        _deployment(TermDetector),
        config.detector.backend != "local",
        backend_runtime_env,
        config.autoscaling.get("TermDetector"),
    ).bind(config.detector.model_dump())
    remote_explainer = config.explainer.backend != "local"
    explainer = _backend_deployment(
        _deployment(TermExplainer),
        remote_explainer,
        backend_runtime_env,
        config.autoscaling.get("TermExplainer"),
    )
    if remote_explainer:
        explainer = explainer.options(max_ongoing_requests=REMOTE_EXPLAINER_CALLS)
    explainer_app = explainer.bind(config.explainer.model_dump())
    transcriber = (
        _deployment(Transcriber).bind(config.transcriber.model_dump())
        if config.transcriber.enabled
        else None
    )
    try:
        secrets = load_access_secrets(os.environ, mode=config.auth.mode)
    except AccessConfigError as exc:
        raise ConfigError(str(exc)) from None
    # A finite queue: past it an overloaded ingress refuses (503) instead of queueing for ever.
    ingress = _deployment(GlossifyIngress).options(
        max_queued_requests=config.auth.quotas.queued_requests
    )
    return ingress.bind(detector, explainer_app, transcriber, config.model_dump(), secrets)
