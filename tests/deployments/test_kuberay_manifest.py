"""deploy/kuberay/rayservice.yaml: in step with serve_config.yaml, valid for KubeRay's CRD, no
literal secrets, the dashboard kept inside the cluster, GCS fault tolerance on.

The CRD check uses fixtures/kuberay-rayservice-spec.schema.json, the RayService `spec` schema of
KubeRay v1.7.0 (fixtures/extract_kuberay_schema.py says how it was made). As `kubectl apply`
does by default (strict field validation), an unknown field is an error: the check adds
additionalProperties: false wherever the CRD lists an object's properties.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from glossify.config.backends import RemoteCallsConfig
from tests.paths import REPO_ROOT

MANIFEST = REPO_ROOT / "deploy" / "kuberay" / "rayservice.yaml"
SCHEMA = REPO_ROOT / "tests" / "deployments" / "fixtures" / "kuberay-rayservice-spec.schema.json"
# The application's settings that come only from the environment, and the access secrets.
REQUIRED_ENV = (
    "DATABASE_URL",
    "LANGUAGE_ENDPOINT",
    "PROJECT_ENDPOINT",
    "AGENT_NAME",
    "GLOSSIFY_API_KEYS",
    "GLOSSIFY_AUTH_SECRET",
)
SECRET_LOOKING = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL|DATABASE_URL|AUTH", re.I)


def rayservice() -> dict[str, Any]:
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    (service,) = [d for d in documents if d.get("kind") == "RayService"]
    return service


def serve_config() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "serve_config.yaml").read_text())


def cluster() -> dict[str, Any]:
    return rayservice()["spec"]["rayClusterConfig"]


def groups() -> dict[str, dict[str, Any]]:
    return {group["groupName"]: group for group in cluster()["workerGroupSpecs"]}


def containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    head = spec["rayClusterConfig"]["headGroupSpec"]
    for group in [head, *spec["rayClusterConfig"]["workerGroupSpecs"]]:
        pod = group["template"]["spec"]
        yield from pod.get("initContainers", [])
        yield from pod["containers"]


def transcriber() -> dict[str, Any]:
    (app,) = serve_config()["applications"]
    (deployment,) = [d for d in app["deployments"] if d["name"] == "Transcriber"]
    return deployment


# --- in step with serve_config.yaml ------------------------------------------------------------


def test_serve_config_v2_is_serve_config_yaml() -> None:
    service = rayservice()
    assert (service["apiVersion"], service["kind"]) == ("ray.io/v1", "RayService")
    embedded = yaml.safe_load(service["spec"]["serveConfigV2"])
    assert embedded == serve_config()  # applications, deployments, args, http and logging
    ServeDeploySchema.model_validate(embedded)


def test_gpu_group_has_a_gpu_per_transcriber_replica_up_to_its_maximum() -> None:
    gpu_groups = [
        group
        for group in groups().values()
        for container in group["template"]["spec"]["containers"]
        if int(container["resources"]["limits"].get("nvidia.com/gpu", 0)) >= 1
    ]
    assert len(gpu_groups) == 1, "one worker group with GPUs, for the Transcriber"
    (group,) = gpu_groups
    replica = transcriber()
    (container,) = group["template"]["spec"]["containers"]
    limits = container["resources"]["limits"]
    assert int(limits["nvidia.com/gpu"]) == replica["ray_actor_options"]["num_gpus"]
    assert group["maxReplicas"] >= replica["autoscaling_config"]["max_replicas"]
    assert group["minReplicas"] >= replica["autoscaling_config"]["min_replicas"]
    # Ray's CPUs on a GPU pod hold one Transcriber, and the pod has them to give.
    ray_cpus = float(group["rayStartParams"].get("num-cpus", limits["cpu"]))
    assert replica["ray_actor_options"]["num_cpus"] <= ray_cpus <= float(limits["cpu"])


def test_cpu_group_holds_every_cpu_replica_at_its_maximum() -> None:
    (app,) = serve_config()["applications"]
    wanted = sum(
        d["ray_actor_options"].get("num_cpus", 1)
        * d.get("autoscaling_config", {}).get("max_replicas", d.get("num_replicas", 1))
        for d in app["deployments"]
        if not d["ray_actor_options"].get("num_gpus")
    )
    group = groups()["cpu"]
    (container,) = group["template"]["spec"]["containers"]
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert float(container["resources"]["limits"]["cpu"]) * group["maxReplicas"] >= wanted


def test_ray_version_is_the_locked_one() -> None:
    lock = (REPO_ROOT / "requirements" / "lock.txt").read_text().split()
    assert f"ray=={cluster()['rayVersion']}" in lock


# --- fault tolerance and exposure --------------------------------------------------------------


def test_gcs_fault_tolerance_uses_an_external_redis_with_a_secret_password() -> None:
    options = cluster()["gcsFaultToleranceOptions"]
    assert re.fullmatch(r"(rediss?://)?[\w.-]+:\d+", options["redisAddress"])
    assert "value" not in options["redisPassword"]
    assert options["redisPassword"]["valueFrom"]["secretKeyRef"]["name"]


def test_head_runs_no_cpu_work_and_serve_traffic_skips_it() -> None:
    head = cluster()["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    assert rayservice()["spec"]["excludeHeadPodFromServeSvc"] is True


def test_dashboard_and_serve_are_not_exposed_outside_the_cluster() -> None:
    spec = rayservice()["spec"]
    head = spec["rayClusterConfig"]["headGroupSpec"]
    assert head.get("serviceType", "ClusterIP") == "ClusterIP"
    assert not head.get("enableIngress", False)
    # TLS belongs in front of Serve (an Ingress or Gateway), never a bare public Service.
    serve_type = spec.get("serveService", {}).get("spec", {}).get("type", "ClusterIP")
    assert serve_type == "ClusterIP"


# --- secrets -----------------------------------------------------------------------------------


def test_every_container_gets_the_settings_from_secrets() -> None:
    for container in containers(rayservice()["spec"]):
        env = {item["name"]: item for item in container.get("env", [])}
        for name in REQUIRED_ENV:
            assert "secretKeyRef" in env[name]["valueFrom"], (container["name"], name)


def test_the_env_covers_the_deployed_backends_settings() -> None:
    (app,) = serve_config()["applications"]
    chosen = {
        section: args["backend"] for section, args in app["args"].items() if "backend" in args
    }
    blocks = [b for b in RemoteCallsConfig.__subclasses__() if chosen.get(b.SECTION) == b.BACKEND]
    assert len(blocks) == len(chosen)
    wanted = {source.variables[0] for b in blocks for source in b.ENVIRONMENT.values()}
    for container in containers(rayservice()["spec"]):
        assert wanted <= {item["name"] for item in container.get("env", [])}


def named_values(node: Any) -> Iterator[tuple[str, Any]]:
    """Every {name: ..., value: ...} pair anywhere in the document (env vars and the like)."""
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and "value" in node:
            yield node["name"], node["value"]
        for child in node.values():
            yield from named_values(child)
    elif isinstance(node, list):
        for child in node:
            yield from named_values(child)


def test_no_literal_value_for_a_secret_looking_name() -> None:
    service = rayservice()
    literal = [name for name, _ in named_values(service) if SECRET_LOOKING.search(name)]
    assert literal == []
    assert "value" not in service["spec"]["rayClusterConfig"]["gcsFaultToleranceOptions"].get(
        "redisPassword", {}
    )


def test_the_secret_check_can_fail() -> None:
    service = rayservice()
    pod = service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
    pod["containers"][0]["env"].append({"name": "LANGUAGE_KEY", "value": "abc123"})
    assert [name for name, _ in named_values(service) if SECRET_LOOKING.search(name)]


# --- KubeRay's CRD -----------------------------------------------------------------------------


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the CRD lists an object's fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if "properties" in schema and not open_ended:
        tightened["additionalProperties"] = False
    return tightened


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = strict(json.loads(SCHEMA.read_text()))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_fixture_says_where_it_comes_from() -> None:
    comment = json.loads(SCHEMA.read_text())["$comment"]
    assert "KubeRay v1.7.0" in comment and "ray.io_rayservices.yaml" in comment


def test_spec_is_valid_for_kuberays_crd(validator: jsonschema.Draft202012Validator) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(rayservice()["spec"])
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "change"),
    [
        (("rayClusterConfig", "gcsFaultToleranceOptions"), {"redisAdress": "redis:6379"}),
        (("rayClusterConfig", "workerGroupSpecs", 0), {"maxReplica": 4}),
        (("rayClusterConfig", "workerGroupSpecs", 0), {"maxReplicas": "four"}),
        (("rayClusterConfig", "headGroupSpec", "template", "spec"), {"tolerations": [{"key": 1}]}),
        # inside the pod template, which the fixture shares between the groups through $defs
        (
            ("rayClusterConfig", "workerGroupSpecs", 0, "template", "spec", "containers", 0),
            {"resourcs": {}},
        ),
        # Ray's start parameters are strings to KubeRay
        (("rayClusterConfig", "headGroupSpec", "rayStartParams"), {"num-cpus": 0}),
    ],
)
def test_the_crd_check_can_fail(
    validator: jsonschema.Draft202012Validator, path: tuple[str | int, ...], change: dict[str, Any]
) -> None:
    spec = copy.deepcopy(rayservice()["spec"])
    node: Any = spec
    for step in path:
        node = node[step]
    node.update(change)
    assert not validator.is_valid(spec)
