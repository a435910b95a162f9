"""The hub's configuration and ``balans hub-app``'s settings, without starting anything:
each authenticator choice gives the hub what it needs, a bad or missing setting gets one
clear line, and the Kubernetes values name the same command and limits the code has."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import REPO
from traitlets.config.loader import PyFileConfigLoader

from balans.errors import BalansError
from balans.faces.cli import HUB_MAX_KERNELS
from balans.faces.serve import HUB_IDENTITY_PROVIDER, hub_address, voila_config

CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"
SSO = {
    "OAUTH_CLIENT_ID": "client",
    "OAUTH_CLIENT_SECRET": "secret",
    "BALANS_HUB_PUBLIC_URL": "https://balans.region.example/",
}


def load(monkeypatch, tmp_path, **env):
    for key in list(__import__("os").environ):
        if key.startswith(("BALANS_HUB_", "OAUTH", "AZURE_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BALANS_HUB_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("BALANS_HUB_CHP", sys.executable)  # any existing program will do here
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()


def refused(monkeypatch, tmp_path, capsys, **env) -> str:
    with pytest.raises(SystemExit) as e:
        load(monkeypatch, tmp_path, **env)
    assert e.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("Balans hub: ") and "\n" not in message and "Traceback" not in message
    return message


def test_the_regions_entra_id_is_the_default_login(monkeypatch, tmp_path):
    c = load(monkeypatch, tmp_path, AZURE_TENANT_ID="tenant", BALANS_HUB_GROUPS="g1, g2", **SSO)
    assert c.JupyterHub.authenticator_class == "azuread"
    a = c.AzureAdOAuthenticator
    assert a.tenant_id == "tenant" and a.client_id == "client" and a.client_secret == "secret"
    assert a.oauth_callback_url == "https://balans.region.example/hub/oauth_callback"
    assert a.allowed_groups == {"g1", "g2"} and a.manage_groups is True
    assert c.Spawner.cmd[-1] == "hub-app" and c.Spawner.cmd[0].endswith("balans")
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert str(tmp_path / "state") in c.JupyterHub.db_url


def test_an_oidc_provider_in_front_of_saml_through_the_generic_authenticator(monkeypatch, tmp_path):
    urls = {
        "OAUTH2_AUTHORIZE_URL": "https://idp.example/auth",
        "OAUTH2_TOKEN_URL": "https://idp.example/token",
        "OAUTH2_USERDATA_URL": "https://idp.example/userinfo",
    }
    c = load(monkeypatch, tmp_path, BALANS_HUB_AUTH="generic", **SSO, **urls)
    assert c.JupyterHub.authenticator_class == "generic"
    assert c.GenericOAuthenticator.token_url == "https://idp.example/token"
    assert c.GenericOAuthenticator.allow_all is True  # no users or groups named: the IdP decides


def test_the_test_login_needs_its_users_and_password_and_stays_on_localhost(
    monkeypatch, tmp_path, capsys
):
    c = load(
        monkeypatch,
        tmp_path,
        BALANS_HUB_AUTH="password",
        BALANS_HUB_USERS="a,b",
        BALANS_HUB_PASSWORD="p" * 8,
    )
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.Authenticator.allowed_users == {"a", "b"}
    msg = refused(monkeypatch, tmp_path, capsys, BALANS_HUB_AUTH="password", BALANS_HUB_USERS="a")
    assert "BALANS_HUB_PASSWORD" in msg
    msg = refused(
        monkeypatch,
        tmp_path,
        capsys,
        BALANS_HUB_AUTH="password",
        BALANS_HUB_USERS="a",
        BALANS_HUB_PASSWORD="p" * 8,
        BALANS_HUB_IP="0.0.0.0",
    )
    assert "127.0.0.1" in msg


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, BALANS_HUB_PUBLIC_URL"),
        (SSO, "AZURE_TENANT_ID"),
        ({**SSO, "BALANS_HUB_PUBLIC_URL": "http://x", "AZURE_TENANT_ID": "t"}, "https://"),
        ({"BALANS_HUB_AUTH": "ldap"}, "entra, generic or password"),
        (
            {"BALANS_HUB_AUTH": "password", "BALANS_HUB_USERS": "a", "BALANS_HUB_PASSWORD": "kort"},
            "at least 8 characters",
        ),
        ({"BALANS_HUB_PORT": "80x"}, "BALANS_HUB_PORT='80x'"),
        ({"BALANS_HUB_CHP": "/nonexistent/chp"}, "make browser"),
        (
            {**SSO, "AZURE_TENANT_ID": "t", "BALANS_HUB_APP_ARGS": "--case 'open"},
            "BALANS_HUB_APP_ARGS",
        ),
    ],
)
def test_a_bad_or_missing_setting_gets_one_line(monkeypatch, tmp_path, capsys, env, named):
    assert named in refused(monkeypatch, tmp_path, capsys, **env)


def test_hub_app_takes_its_address_and_prefix_from_the_spawner():
    env = {
        "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/anna/",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/anna/",
        "JUPYTERHUB_API_TOKEN": "t",
        "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
        "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-anna",
    }
    assert hub_address(env) == ("0.0.0.0", 8888, "/user/anna/")
    with pytest.raises(BalansError, match="JUPYTERHUB_API_TOKEN"):
        hub_address({k: v for k, v in env.items() if k != "JUPYTERHUB_API_TOKEN"})
    with pytest.raises(BalansError, match="expected http://HOST:PORT"):
        hub_address({**env, "JUPYTERHUB_SERVICE_URL": "http://hub/user/anna/"})
    cfg = voila_config("0.0.0.0", 8888, hub_prefix="/user/anna/")["Voila"]
    assert cfg["base_url"] == "/user/anna/"
    assert cfg["identity_provider_class"] == HUB_IDENTITY_PROVIDER
    assert "Content-Security-Policy" in cfg["tornado_settings"]["headers"]
    assert "identity_provider_class" not in voila_config()["Voila"]  # balans app: unchanged


def test_hub_app_outside_a_hub_says_so():
    out = subprocess.run(
        [sys.executable, "-m", "balans", "hub-app"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert "JupyterHub user's server" in out.stderr and "Traceback" not in out.stderr


def test_the_kubernetes_values_run_the_app_within_its_limits():
    values = yaml.safe_load((REPO / "deploy" / "z2jh" / "config.yaml").read_text())
    single = values["singleuser"]
    assert single["cmd"] == ["balans", "hub-app"]
    assert (
        "balans"
        in subprocess.run(
            [sys.executable, "-m", "balans", "hub-app", "--help"], capture_output=True, text=True
        ).stdout
    )
    limit_mb = float(single["memory"]["limit"].rstrip("G")) * 1000
    # the kernel cap's worth of kernels (about 260 MB) on top of the server (about 340 MB)
    assert limit_mb >= 340 + HUB_MAX_KERNELS * 260
    assert values["cull"]["enabled"] is True
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "azuread"
