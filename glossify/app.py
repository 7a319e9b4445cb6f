"""The Serve application builder: ``glossify.app:build_app`` in a Serve config."""

from __future__ import annotations

from typing import Any

from ray.serve import Application
from ray.serve.deployment import Deployment

from glossify.config import GlossifyConfig, load_config
from glossify.deployments.agent import TermExplainer
from glossify.deployments.ingress import GlossifyIngress
from glossify.deployments.ner import TermDetector
from glossify.deployments.stt import Transcriber

# Remote backends wait on the network, not on a CPU: a sliver each keeps them schedulable next
# to the Transcriber and llama.cpp replicas. A Serve config's ray_actor_options still win.
REMOTE_BACKEND_CPUS = 0.05


def build_app(args: dict[str, Any]) -> Application:
    return build_graph(load_config(args))


def _backend_deployment(
    deployment: Deployment, remote: bool, runtime_env: dict[str, Any] | None
) -> Deployment:
    options = dict(deployment.ray_actor_options or {})
    if remote:
        options["num_cpus"] = REMOTE_BACKEND_CPUS
    if runtime_env:
        options["runtime_env"] = runtime_env
    return deployment.options(ray_actor_options=options)


def build_graph(
    config: GlossifyConfig, backend_runtime_env: dict[str, Any] | None = None
) -> Application:
    """The deployment graph for a validated config.

    The backends get their resolved settings (endpoints, secrets from the environment) through
    their init args, so replicas on other nodes need no environment of their own.
    ``backend_runtime_env`` is for Python callers whose backend replicas need more, e.g. the
    variables DefaultAzureCredential reads; a Serve config uses the application's runtime_env.
    """
    detector = _backend_deployment(
        TermDetector, config.detector.backend != "local", backend_runtime_env
    ).bind(config.detector.model_dump())
    explainer = _backend_deployment(
        TermExplainer, config.explainer.backend != "local", backend_runtime_env
    ).bind(config.explainer.model_dump())
    transcriber = (
        Transcriber.bind(config.transcriber.model_dump()) if config.transcriber.enabled else None
    )
    return GlossifyIngress.bind(detector, explainer, transcriber, config.model_dump())
