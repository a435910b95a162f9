"""JupyterHub for Balans: each signed-in board member gets a server of their own that runs
the Balans app (``balans hub-app``: the same standalone Voilà as ``balans app``, with its
Content-Security-Policy, template, kernel cap and clean stop, behind the hub's login).

Here, on one machine: ``make hub`` (the test login, on 127.0.0.1). ``jupyterhub -f
deploy/jupyterhub/jupyterhub_config.py`` reads everything else from the environment, so the
same file serves the test, a VM and a region's single sign-on:

  BALANS_HUB_AUTH       entra (default): the region's Microsoft Entra ID (Azure AD), through
                        OAuthenticator's AzureAdOAuthenticator; needs AZURE_TENANT_ID,
                        OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, BALANS_HUB_PUBLIC_URL
                        generic: any OpenID Connect provider (e.g. Keycloak or ADFS in
                        front of a SAML IdP), GenericOAuthenticator; needs OAUTH2_AUTHORIZE_URL,
                        OAUTH2_TOKEN_URL, OAUTH2_USERDATA_URL and the three above
                        password: one shared password for the listed users, JupyterHub's
                        SharedPasswordAuthenticator (tests and a try; only on 127.0.0.1)
  BALANS_HUB_USERS      who may sign in (comma-separated; entra/generic: else anyone the IdP
                        lets through, see BALANS_HUB_GROUPS)
  BALANS_HUB_GROUPS     entra/generic: only members of these groups (comma-separated; Entra:
                        the groups' object IDs, with the app's token configured to carry them)
  BALANS_HUB_ADMINS     hub admins (comma-separated)
  BALANS_HUB_PASSWORD   password: the password, at least 8 characters (no default)
  BALANS_HUB_IP, BALANS_HUB_PORT   where the proxy listens (127.0.0.1, 8000)
  BALANS_HUB_API_PORT, BALANS_HUB_PROXY_API_PORT   the hub's and proxy's own ports (8081, 8001)
  BALANS_HUB_STATE      the folder for the database, cookie secret and pid files (build/hub)
  BALANS_HUB_APP_ARGS   more flags for ``balans hub-app`` (e.g. "--max-kernels 2 --case DIR")
  BALANS_HUB_CULL_MIN   stop a user's server idle this many minutes (60; 0 = never), with
                        jupyterhub-idle-culler
  BALANS_HUB_CHP        configurable-http-proxy (default: build/chp, where `make browser`
                        installs it from npm, else the one on PATH)
"""

import os
import shlex
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - JupyterHub's config loader provides it

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the environment jupyterhub runs from: balans is there too


def setting(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def names(name: str) -> set[str]:
    return {n.strip() for n in setting(name).split(",") if n.strip()}


def refuse(message: str) -> None:
    """A configuration error: one line on stderr, no traceback, exit code 2."""
    print(f"Balans hub: {message}", file=sys.stderr)
    raise SystemExit(2)


def port(name: str, default: int) -> int:
    text = setting(name, str(default))
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        refuse(f"{name}={text!r}: a port number 1 to 65535")
    return int(text)


def required(*keys: str) -> dict[str, str]:
    missing = [k for k in keys if not setting(k)]
    if missing:
        refuse(f"BALANS_HUB_AUTH={AUTH}: set {', '.join(missing)} (see this file's docstring)")
    return {k: setting(k) for k in keys}


# -- where: the proxy on BALANS_HUB_IP, the hub and the proxy's API on loopback ----------------
IP = setting("BALANS_HUB_IP", "127.0.0.1")
c.JupyterHub.bind_url = f"http://{IP}:{port('BALANS_HUB_PORT', 8000)}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{port('BALANS_HUB_API_PORT', 8081)}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port('BALANS_HUB_PROXY_API_PORT', 8001)}"

STATE = Path(setting("BALANS_HUB_STATE") or REPO / "build" / "hub").resolve()
STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.cleanup_servers = True  # the hub's stop stops every user's server
c.JupyterHub.cleanup_proxy = True

chp = setting("BALANS_HUB_CHP")
if not chp:
    local = REPO / "build" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    chp = str(local) if local.exists() else (shutil.which("configurable-http-proxy") or "")
if not chp or not Path(chp).exists():
    refuse(
        "configurable-http-proxy not found: `make browser` installs it from npm into build/chp "
        "(or set BALANS_HUB_CHP)"
    )
c.ConfigurableHTTPProxy.command = [chp]

# -- who: the region's single sign-on, or the test's fixed password ----------------------------
AUTH = setting("BALANS_HUB_AUTH", "entra")
users, groups, admins = (
    names("BALANS_HUB_USERS"),
    names("BALANS_HUB_GROUPS"),
    names("BALANS_HUB_ADMINS"),
)
c.Authenticator.admin_users = admins
if users:
    c.Authenticator.allowed_users = users | admins
if AUTH == "password":
    if IP not in ("127.0.0.1", "localhost", "::1"):
        refuse(f"BALANS_HUB_AUTH=password is for tests on 127.0.0.1, not BALANS_HUB_IP={IP}")
    if not users:
        refuse("BALANS_HUB_AUTH=password: set BALANS_HUB_USERS, the users who may sign in")
    password = required("BALANS_HUB_PASSWORD")["BALANS_HUB_PASSWORD"]
    if len(password) < 8:
        refuse("BALANS_HUB_PASSWORD: at least 8 characters")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = password
    c.Authenticator.admin_users = set()  # an admin would need a password of their own
elif AUTH in ("entra", "generic"):
    sso = required("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "BALANS_HUB_PUBLIC_URL")
    public = sso["BALANS_HUB_PUBLIC_URL"].rstrip("/")
    if not public.startswith("https://"):
        refuse(f"BALANS_HUB_PUBLIC_URL={public!r}: the hub's public https:// address")
    try:
        import oauthenticator  # noqa: F401
    except ImportError:
        refuse(f"BALANS_HUB_AUTH={AUTH} needs OAuthenticator: pip install 'balans[hub]'")
    if AUTH == "entra":
        c.JupyterHub.authenticator_class = "azuread"
        auth = c.AzureAdOAuthenticator
        auth.tenant_id = required("AZURE_TENANT_ID")["AZURE_TENANT_ID"]
        auth.username_claim = "preferred_username"  # the sign-in name, not the display name
        auth.scope = ["openid", "profile", "email"]
        auth.login_service = "regionens inloggning"
    else:
        urls = required("OAUTH2_AUTHORIZE_URL", "OAUTH2_TOKEN_URL", "OAUTH2_USERDATA_URL")
        c.JupyterHub.authenticator_class = "generic"
        auth = c.GenericOAuthenticator
        auth.authorize_url = urls["OAUTH2_AUTHORIZE_URL"]
        auth.token_url = urls["OAUTH2_TOKEN_URL"]
        auth.userdata_url = urls["OAUTH2_USERDATA_URL"]
        auth.username_claim = setting("OAUTH2_USERNAME_CLAIM", "preferred_username")
        auth.scope = ["openid", "profile", "email"]
        auth.login_service = "regionens inloggning"
    auth.client_id = sso["OAUTH_CLIENT_ID"]
    auth.client_secret = sso["OAUTH_CLIENT_SECRET"]
    auth.oauth_callback_url = f"{public}/hub/oauth_callback"
    if groups:
        auth.manage_groups = True
        auth.allowed_groups = groups
    elif not users:
        auth.allow_all = True  # everyone the region's IdP signs in (the app is read-only)
else:
    refuse(f"BALANS_HUB_AUTH={AUTH!r}: allowed entra, generic or password")

# -- what each user gets: the Balans app as their server ---------------------------------------
balans = BIN / "balans"
if not balans.exists():
    refuse(f"{balans} not found: run jupyterhub from the environment Balans is installed in")
try:
    app_args = shlex.split(setting("BALANS_HUB_APP_ARGS"))
except ValueError as e:
    refuse(f"BALANS_HUB_APP_ARGS: {e}")
# on one machine every user's server runs as the hub's own user (no system accounts needed:
# the app holds no user files); on a cluster each is a pod (deploy/z2jh/config.yaml)
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "users" / "{username}")
c.Spawner.cmd = [str(balans), "hub-app"]
c.Spawner.args = app_args
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "TZ", "BALANS_CASE", "BALANS_CUTOFF"]
c.Spawner.start_timeout = 120  # the app's imports and the first kernel on a busy 2-core machine
c.Spawner.http_timeout = 120
c.JupyterHub.allow_named_servers = False
c.JupyterHub.redirect_to_server = True  # after login, straight to the app

# -- a server idle for BALANS_HUB_CULL_MIN minutes is stopped (its memory back) ----------------
cull_min = setting("BALANS_HUB_CULL_MIN", "60")
if not cull_min.isdigit():
    refuse(f"BALANS_HUB_CULL_MIN={cull_min!r}: whole minutes, 0 = never")
if int(cull_min) > 0:
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [
                sys.executable,
                "-m",
                "jupyterhub_idle_culler",
                f"--timeout={int(cull_min) * 60}",
                "--cull-every=300",
            ],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]
