"""cluster.yaml and the Serve configs are valid for Ray and for our own config model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.serve.schema import ServeDeploySchema

from glossify.app import build_app
from glossify.config.settings import ConfigError, load_config
from glossify.deployments.explainer import TermExplainer
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
ENV = {
    "DATABASE_URL": "postgresql://glossify@db.example/glossify",
    # serve_config.yaml runs the azure detector and the foundry explainer.
    "LANGUAGE_ENDPOINT": "https://glossify.cognitiveservices.azure.com",
    "PROJECT_ENDPOINT": "https://glossify.services.ai.azure.com/api/projects/glossify",
    "AGENT_NAME": "glossify-explainer",
}


def validate_config(config: dict) -> None:
    """Ray's cluster-launcher JSON schema, the one `ray up` checks a file against."""
    schema_path = Path(ray.autoscaler.__file__).parent / "ray-schema.json"
    jsonschema.validate(config, json.loads(schema_path.read_text()))


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def test_cluster_yaml_passes_rays_own_schema() -> None:
    config = load("cluster.yaml")
    validate_config(config)
    node_types = config["available_node_types"]
    assert config["head_node_type"] in node_types
    gpu_types = [n for n in node_types.values() if n["resources"].get("GPU", 0) >= 1]
    assert gpu_types, "cluster.yaml needs a GPU worker node type for the Transcriber"


def test_cluster_yaml_keeps_the_dashboard_on_the_heads_loopback() -> None:
    # The dashboard has no authentication and can stop applications: reach it over SSH only.
    commands = " ".join(load("cluster.yaml")["head_start_ray_commands"])
    head_start = next(c for c in commands.split(";") if "ray start --head" in c)
    assert "--dashboard-host=127.0.0.1" in head_start.split()
    assert "0.0.0.0" not in commands


def test_cluster_yaml_schema_check_can_fail() -> None:
    config = load("cluster.yaml")
    config["available_node_types"]["head"]["unexpected_key"] = 1
    with pytest.raises(Exception, match="unexpected_key"):
        validate_config(config)


@pytest.mark.parametrize("name", ["serve_config.yaml", "serve_config.local.yaml"])
def test_serve_configs_are_valid_and_name_our_deployments(name: str) -> None:
    document = load(name)
    schema = ServeDeploySchema.model_validate(document)
    (app,) = schema.applications
    assert app.import_path == "glossify.app:build_app"
    load_config(app.args, env=ENV)
    deployed = {d.name for d in app.deployments}
    assert deployed <= {"GlossifyIngress", "TermDetector", "TermExplainer", "Transcriber"}


def test_cluster_serve_config_scales_ner_and_agent() -> None:
    (app,) = load("serve_config.yaml")["applications"]
    deployments = {d["name"]: d for d in app["deployments"]}
    for name in ("TermDetector", "TermExplainer"):
        assert deployments[name]["autoscaling_config"]["max_replicas"] > 1
    assert deployments["GlossifyIngress"]["max_ongoing_requests"] >= 1000
    transcriber = deployments["Transcriber"]
    assert transcriber["ray_actor_options"]["num_gpus"] == 1
    gpu_nodes = load("cluster.yaml")["available_node_types"]["gpu_worker"]["max_workers"]
    assert transcriber["autoscaling_config"]["max_replicas"] <= gpu_nodes
    assert app["args"]["transcriber"] == {
        "device": "cuda",
        "compute_type": "float16",
        "max_batch_size": 16,
    }


def test_app_builder_binds_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", ENV["DATABASE_URL"])
    ingress = build_app({})._bound_deployment
    assert ingress.name == "GlossifyIngress"
    assert ingress.max_ongoing_requests >= 1000
    backends = [arg._bound_deployment for arg in ingress.init_args[:3]]
    assert [b.name for b in backends] == ["TermDetector", "TermExplainer", "Transcriber"]
    for backend in backends[:2]:
        assert backend._deployment_config.autoscaling_config is not None
    without_audio = build_app({"transcriber": {"enabled": False}})._bound_deployment
    assert without_audio.init_args[2] is None


def test_config_errors_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config({}, env={})
    with pytest.raises(ConfigError, match=r"meetings\.shards"):
        load_config({"meetings": {"shards": 0}}, env=ENV)
    with pytest.raises(ConfigError, match=r"explainer\.colour"):
        load_config({"explainer": {"colour": "red"}}, env=ENV)
    with pytest.raises(ConfigError, match="DATABASE_URL environment"):
        load_config({"database_url": "postgresql://x"}, env=ENV)
    with pytest.raises(ConfigError, match="database_url"):
        load_config({}, env={"DATABASE_URL": "mysql://nope"})


def test_autoscaling_args_override_the_backends_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", ENV["DATABASE_URL"])
    args = {"autoscaling": {"TermExplainer": {"max_replicas": 3, "downscale_delay_s": 7}}}
    ingress = build_app(args)._bound_deployment
    detector, explainer = (arg._bound_deployment for arg in ingress.init_args[:2])
    scaled = explainer._deployment_config.autoscaling_config
    assert (scaled.max_replicas, scaled.downscale_delay_s) == (3, 7)
    own = TermExplainer._deployment_config.autoscaling_config
    assert (scaled.min_replicas, scaled.target_ongoing_requests) == (
        own.min_replicas,
        own.target_ongoing_requests,
    )
    assert detector._deployment_config.autoscaling_config.max_replicas == 2
    with pytest.raises(ConfigError, match=r"autoscaling\.TermDetector"):
        build_app({"autoscaling": {"TermDetector": {"min_replicas": 5}}})  # above its max 2
    with pytest.raises(ConfigError, match=r"autoscaling\.Transcriber"):
        load_config({"autoscaling": {"Transcriber": {"max_replicas": 2}}}, env=ENV)


def test_bench_autoscale_config_fits_a_two_cpu_node(monkeypatch: pytest.MonkeyPatch) -> None:
    document = load("bench/autoscale.local.yaml")
    (app,) = ServeDeploySchema.model_validate(document).applications
    monkeypatch.setenv("DATABASE_URL", ENV["DATABASE_URL"])
    ingress = build_app(app.args)._bound_deployment
    assert ingress.init_args[2] is None  # no Transcriber
    cpus = ingress.ray_actor_options["num_cpus"]
    for arg in ingress.init_args[:2]:
        backend = arg._bound_deployment
        scaling = backend._deployment_config.autoscaling_config
        assert scaling.max_replicas > scaling.min_replicas
        assert scaling.upscale_delay_s <= 5 and scaling.downscale_delay_s <= 30
        cpus += scaling.max_replicas * backend.ray_actor_options["num_cpus"]
    assert cpus <= 2.0
