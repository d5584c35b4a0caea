"""The whole system as real processes, as `make run` starts it: the CRM (SQLite), its event
consumer, the action server, and Rasa with the trained model (`make train`). Used by the
assistant's integration tests (bot environment) and the browser tests (CRM environment)."""

import os
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CRM = str(ROOT / ".venv/bin/crm")
RASA = str(ROOT / "bot/.venv/bin/rasa")
MODEL = ROOT / "bot/models/assistant.tar.gz"
ASSISTANT_SCOPES = ["identity:verify", "offers:show", "orders:read", "orders:write",
                    "products:read", "customers:read", "customers:write", "tickets:read",
                    "tickets:write", "conversations:write"]
ADMIN = ("admin@test.example", "admin-password-1")
RASA_TOKEN = "test-rasa-token"
# Messaging channels, configured by bot/credentials.channels.yml from these variables; the
# platforms' APIs are the local stand-in in platforms.py.
CHANNEL_SECRETS = {"TELEGRAM_TOKEN": "123456:TEST-telegram-token",
                   "TELEGRAM_BOT_NAME": "shop_assistant_bot",
                   "TELEGRAM_WEBHOOK_URL": "https://shop.example/webhooks/telegram/webhook",
                   "SLACK_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "slack-secret",
                   "SLACK_CHANNEL": "", "FACEBOOK_VERIFY": "fb-verify",
                   "FACEBOOK_SECRET": "fb-secret", "FACEBOOK_PAGE_ACCESS_TOKEN": "fb-page-token"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"{what} exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} did not come up within {timeout:.0f} s")


class Stack:
    """The three processes, and a staff client for the CRM."""

    def __init__(self, tmp: Path):
        from tests.assistant.platforms import Platforms

        self.tmp = tmp
        self.platforms = Platforms()
        self.crm_port, self.actions_port, self.rasa_port = free_port(), free_port(), free_port()
        self.crm_url = f"http://127.0.0.1:{self.crm_port}"
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{tmp}/crm.db",
                    "CRM_ENV": "development", "CRM_PASSWORD_HASH_ROUNDS": "4",
                    "CRM_PORT": str(self.crm_port), "CRM_RASA_URL": self.rasa_url,
                    "CRM_RASA_TOKEN": RASA_TOKEN,
                    "CRM_EVENTS_SOURCE": f"sql:sqlite:///{tmp}/events.db"}
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def crm(self, *args: str) -> str:
        done = subprocess.run([CRM, *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def _start(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        log = self.logs.setdefault(name, self.tmp / f"{name}.log")
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("a"),
                                stderr=subprocess.STDOUT, text=True)
        self.procs[name] = proc
        return proc

    def start_crm(self) -> None:
        proc = self._start("crm", [CRM, "serve", "--port", str(self.crm_port)], self.env)
        wait_until(lambda: httpx.get(f"{self.crm_url}/health").status_code == 200, "the CRM",
                   180, proc)

    def start_events(self, name: str = "events", source: str | None = None) -> None:
        env = {**self.env, "CRM_EVENTS_SOURCE": source} if source else self.env
        self._start(name, [CRM, "events", "consume", "--interval", "0.5"], env)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.terminate()
        proc.wait(timeout=20)

    def start_all(self) -> None:
        self.crm("db", "upgrade")
        self.crm("users", "create", ADMIN[0], "--role", "admin", "--password", ADMIN[1])
        key = self.crm("apikeys", "create", "assistant",
                       *[a for s in ASSISTANT_SCOPES for a in ("--scope", s)])
        self.start_crm()
        self.start_events()
        actions_env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "OUTBOX_WORKER": "1",
                       "CRM_URL": self.crm_url, "CRM_API_KEY": key,
                       "OUTBOX_PATH": str(self.tmp / "outbox.db"), "OUTBOX_INTERVAL": "1"}
        actions = self._start("actions", [RASA, "run", "actions", "--actions", "actions",
                                          "--port", str(self.actions_port)], actions_env)
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{self.actions_port}/health")
                   .status_code == 200, "the action server", 120, actions)
        self.start_rasa("rasa", self.rasa_port, "bot/endpoints.yml")

    def start_rasa(self, name: str, port: int, endpoints: str, **env: str) -> subprocess.Popen:
        """A Rasa server with every channel; `env` adds to or overrides its environment."""
        rasa_env = {**os.environ, **CHANNEL_SECRETS, "RASA_TELEMETRY_ENABLED": "false",
                    "TELEGRAM_API_URL": self.platforms.url,
                    "SLACK_API_URL": f"{self.platforms.url}/api/",
                    "FACEBOOK_API_URL": f"{self.platforms.url}/graph",
                    "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                    "TRACKER_DB": str(self.tmp / "tracker.db"),
                    "EVENTS_DB": str(self.tmp / "events.db"), **env}
        rasa = self._start(name, [RASA, "run", "--model", str(MODEL), "--enable-api",
                                  "--auth-token", RASA_TOKEN, "--cors", "*",
                                  "--endpoints", endpoints,
                                  "--credentials", "bot/credentials.channels.yml",
                                  "--port", str(port)], rasa_env)
        status = f"http://127.0.0.1:{port}/status"
        wait_until(lambda: httpx.get(status, params={"token": RASA_TOKEN}).json().get("model_id"),
                   f"the Rasa server ({name})", 600, rasa)
        return rasa

    def staff(self) -> httpx.Client:
        token = httpx.post(f"{self.crm_url}/api/v1/auth/token",
                           data={"username": ADMIN[0], "password": ADMIN[1]}).json()
        return httpx.Client(base_url=f"{self.crm_url}/api/v1", timeout=30,
                            headers={"Authorization": f"Bearer {token['access_token']}"})

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        self.platforms.close()


class Chat:
    """One customer talking to the assistant over Rasa's REST channel."""

    def __init__(self, stack: Stack):
        self.stack, self.sender = stack, f"test-{uuid.uuid4().hex[:10]}"
        self.replies: list[str] = []

    def say(self, text: str, metadata: dict | None = None) -> str:
        body = {"sender": self.sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        resp = httpx.post(f"{self.stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        resp.raise_for_status()
        said = "\n".join(m.get("text", "") for m in resp.json())
        self.replies.append(said)
        return said

    def slots(self) -> dict:
        return httpx.get(f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
                         params={"token": RASA_TOKEN}, timeout=30).json()["slots"]




@contextmanager
def running_stack(tmp: Path):
    """The whole stack for the duration of a `with` block."""
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` first.")
    stack = Stack(tmp)
    try:
        stack.start_all()
        yield stack
    finally:
        stack.stop_all()
