"""Backend settings: chosen in the Serve config, secrets and endpoints from the environment,
every mistake stopping the app builder with a message that names the setting."""

from __future__ import annotations

import pytest
import yaml
from pydantic import SecretStr, ValidationError

from glossify.app import REMOTE_BACKEND_CPUS, build_graph
from glossify.config.backends import ExplainerConfig, OpenAIConfig
from glossify.config.settings import ConfigError, load_config
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
DB = {"DATABASE_URL": "postgresql://glossify@db.example/glossify"}
LANGUAGE = {"LANGUAGE_ENDPOINT": "https://glossify.cognitiveservices.azure.com/"}
FOUNDRY = {
    "PROJECT_ENDPOINT": "https://acct.services.ai.azure.com/api/projects/glossify",
    "AGENT_NAME": "glossify-explainer",
}
AZURE = {"detector": {"backend": "azure"}, "explainer": {"backend": "foundry"}}


def test_local_backends_need_no_environment_beyond_the_database() -> None:
    config = load_config({}, env=DB)
    assert (config.detector.backend, config.explainer.backend) == ("local", "local")


def test_azure_settings_come_from_the_environment() -> None:
    env = DB | LANGUAGE | FOUNDRY | {"LANGUAGE_KEY": "k-123", "AGENT_VERSION": "3"}
    config = load_config(AZURE, env=env)
    assert config.detector.azure.endpoint == "https://glossify.cognitiveservices.azure.com"
    assert config.detector.azure.key == SecretStr("k-123")
    foundry = config.explainer.foundry
    assert (foundry.project_endpoint, foundry.agent_name, foundry.agent_version) == (
        FOUNDRY["PROJECT_ENDPOINT"],
        "glossify-explainer",
        "3",
    )
    # No key: Entra ID (DefaultAzureCredential) in the replica.
    assert load_config(AZURE, env=DB | LANGUAGE | FOUNDRY).detector.azure.key is None


def test_secrets_never_show_in_dumps_or_reprs() -> None:
    env = DB | LANGUAGE | FOUNDRY | {"LANGUAGE_KEY": "k-123"}
    config = load_config(AZURE, env=env)
    assert "k-123" not in config.model_dump_json()  # what the meeting hosts receive
    assert "k-123" not in repr(config)
    # Replicas get the real value through their (pickled) init args.
    assert config.detector.model_dump()["azure"]["key"].get_secret_value() == "k-123"


def test_agent_id_is_accepted_for_agent_name() -> None:
    env = DB | LANGUAGE | {"PROJECT_ENDPOINT": FOUNDRY["PROJECT_ENDPOINT"], "AGENT_ID": "glossy"}
    assert load_config(AZURE, env=env).explainer.foundry.agent_name == "glossy"
    with pytest.raises(ConfigError, match="AGENT_NAME and AGENT_ID are both set and disagree"):
        load_config(AZURE, env=env | {"AGENT_NAME": "other"})
    with pytest.raises(ConfigError, match=r"AGENT_ID \(explainer\.foundry\.agent_name\).*1\.x"):
        load_config(AZURE, env=env | {"AGENT_ID": "asst_abc123"})


def test_values_in_args_win_over_the_environment() -> None:
    args = {
        "detector": {"backend": "azure", "azure": {"endpoint": "https://other.example.com"}},
        "explainer": {"backend": "openai", "openai": {"base_url": "http://llm:8000/llm/v1"}},
    }
    env = DB | LANGUAGE | {"OPENAI_BASE_URL": "http://ignored/v1", "OPENAI_MODEL": "qwen"}
    config = load_config(args, env=env)
    assert config.detector.azure.endpoint == "https://other.example.com"
    assert config.explainer.openai.base_url == "http://llm:8000/llm/v1"
    assert config.explainer.openai.model == "qwen"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ({"detector": {"backend": "azure"}}, DB, "LANGUAGE_ENDPOINT is not set"),
        (
            {"explainer": {"backend": "foundry"}},
            DB | {"AGENT_NAME": "a"},
            "PROJECT_ENDPOINT is not set",
        ),
        (
            {"explainer": {"backend": "foundry"}},
            DB | {"PROJECT_ENDPOINT": FOUNDRY["PROJECT_ENDPOINT"]},
            r"AGENT_NAME is not set \(AGENT_ID is accepted too\)",
        ),
        ({"explainer": {"backend": "openai"}}, DB, "OPENAI_BASE_URL is not set"),
        (
            {"explainer": {"backend": "openai"}},
            DB | {"OPENAI_BASE_URL": "http://llm/v1"},
            "OPENAI_MODEL is not set",
        ),
        (
            {"detector": {"backend": "azure"}},
            DB | {"LANGUAGE_ENDPOINT": "http://plain.example.com"},
            r"LANGUAGE_ENDPOINT \(detector\.azure\.endpoint\).*https://",
        ),
        (
            {"explainer": {"backend": "foundry"}},
            DB | FOUNDRY | {"PROJECT_ENDPOINT": "https://acct.services.ai.azure.com/"},
            r"PROJECT_ENDPOINT .*/api/projects/<project>",
        ),
        (
            {"explainer": {"backend": "foundry"}},
            DB | FOUNDRY | {"AGENT_NAME": "bad name!"},
            r"AGENT_NAME \(explainer\.foundry\.agent_name\)",
        ),
        (
            {"detector": {"backend": "azure", "azure": {"key": "in-the-file"}}},
            DB | LANGUAGE,
            "detector.azure.key: set it with the LANGUAGE_KEY environment variable",
        ),
        (
            {"explainer": {"openai": {"api_key": "sk-in-the-file"}}},
            DB,
            "explainer.openai.api_key: set it with the OPENAI_API_KEY environment variable",
        ),
        (
            {"detector": {"backend": "azure", "azure": {"ca_file": "/no/such/ca.pem"}}},
            DB | LANGUAGE,
            r"detector\.azure\.ca_file.*no such file",
        ),
        (
            {"detector": {"backend": "azure", "azure": {"max_batch_documents": 6}}},
            DB | LANGUAGE,
            r"detector\.azure\.max_batch_documents",
        ),
        ({"explainer": {"backend": "vertex"}}, DB, r"explainer\.backend"),
    ],
)
def test_missing_or_wrong_settings_fail_naming_them(
    args: dict, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(args, env=env)


def test_every_missing_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(AZURE, env=DB)
    message = str(caught.value)
    for variable in ("LANGUAGE_ENDPOINT", "PROJECT_ENDPOINT", "AGENT_NAME"):
        assert f"{variable} is not set" in message


def test_a_section_built_directly_checks_its_backend_the_same_way() -> None:
    """What a replica does with its init args: the declaration load_config goes by."""
    with pytest.raises(ValidationError, match="OPENAI_MODEL is not set"):
        ExplainerConfig(backend="openai", openai=OpenAIConfig(base_url="http://llm/v1"))
    # Only the selected backend's settings are required.
    assert ExplainerConfig(backend="local").openai.base_url is None


def test_the_cluster_serve_config_needs_the_azure_environment() -> None:
    (app,) = yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"]
    assert (app["args"]["detector"]["backend"], app["args"]["explainer"]["backend"]) == (
        "azure",
        "foundry",
    )
    with pytest.raises(ConfigError, match="LANGUAGE_ENDPOINT is not set"):
        load_config(app["args"], env=DB)
    with pytest.raises(ConfigError, match="PROJECT_ENDPOINT is not set"):
        load_config(app["args"], env=DB | LANGUAGE)
    load_config(app["args"], env=DB | LANGUAGE | FOUNDRY)
    (local,) = yaml.safe_load((ROOT / "serve_config.local.yaml").read_text())["applications"]
    assert load_config(local["args"], env=DB).detector.backend == "local"


def test_remote_backends_get_a_sliver_of_cpu_and_the_given_runtime_env() -> None:
    config = load_config(AZURE, env=DB | LANGUAGE | FOUNDRY)
    runtime_env = {"env_vars": {"IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token"}}
    ingress = build_graph(config, backend_runtime_env=runtime_env)._bound_deployment
    detector, explainer = (arg._bound_deployment for arg in ingress.init_args[:2])
    for backend in (detector, explainer):
        assert backend.ray_actor_options == {
            "num_cpus": REMOTE_BACKEND_CPUS,
            "runtime_env": runtime_env,
        }
    # The replicas get the resolved settings, not the environment.
    assert (
        detector.init_args[0]["azure"]["endpoint"] == "https://glossify.cognitiveservices.azure.com"
    )
    local = build_graph(load_config({}, env=DB))._bound_deployment
    assert local.init_args[0]._bound_deployment.ray_actor_options == {"num_cpus": 0.25}
