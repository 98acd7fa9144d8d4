"""One typed Settings object, built once at start-up from a YAML file and the environment."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from fedloom.errors import InvalidInput


class PartyRoute(BaseModel):
    """Where another party's federation listener is (cluster mode), and the key commands to it are signed
    with (shared by the two parties only; `fedloom certs init` makes one per pair)."""

    model_config = ConfigDict(extra="forbid")
    host: str
    port: int = Field(ge=1, le=65535)
    secret: SecretStr | None = None

    @field_validator("secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class TlsFiles(BaseModel):
    """PEM files of this party's federation identity: the cluster CA, its certificate and its key."""

    model_config = ConfigDict(extra="forbid")
    ca: Path
    cert: Path
    key: Path


class ClientAuth(BaseModel):
    """Client API authentication: fate-client 1.x app-key signing, one secret per app key."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = Field(
        None, description="Require signed client requests (default: on in cluster mode or off loopback)."
    )
    apps: dict[str, SecretStr] = Field(default_factory=dict, description="app key -> secret key.")


class Settings(BaseSettings):
    """Every setting of a fedloom server. Environment variables `FEDLOOM_<NAME>` override the file."""

    model_config = SettingsConfigDict(env_prefix="FEDLOOM_", extra="forbid", env_nested_delimiter="__")

    host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    port: int = Field(9380, description="Port of the HTTP API.")
    data_dir: Path = Field(Path("~/.fedloom"), description="Tables, models, logs, SQLite database.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the metadata store; default SQLite under data_dir."
    )
    party_ids: list[int] = Field(
        default_factory=list,
        description="Parties this server serves. Empty = standalone: it hosts every party of a job.",
    )
    federation_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Cluster mode: port of the party-to-party listener (mutual TLS only).",
    )
    federation_host: str | None = Field(
        None, description="Cluster mode: address the federation listener binds to (default: host)."
    )
    routes: dict[int, PartyRoute] = Field(
        default_factory=dict,
        description="Cluster mode: party id -> that party's federation listener and the command key.",
    )
    tls: TlsFiles | None = Field(None, description="Cluster mode: ca, cert and key PEM files.")
    server_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Replicas: this server's name when several servers share one database and data_dir.",
    )
    client_auth: ClientAuth = Field(default_factory=ClientAuth, description="Client API authentication.")
    command_deadline: float = Field(
        30.0, gt=0, description="Cluster mode: seconds a command to a party is retried before it fails."
    )
    party_timeout: float = Field(
        300.0,
        gt=0,
        description="Cluster mode: a job fails once one of its parties has been unreachable this long.",
    )
    total_cores: int = Field(
        default_factory=lambda: max(os.cpu_count() or 1, 1) * 4,
        description="Cores each hosted party may reserve for running tasks (over-subscription allowed).",
    )
    default_task_cores: int = Field(1, description="task_cores of a job that does not set it.")
    max_running_jobs: int = Field(4, description="Jobs running at once; the rest wait in the queue.")
    sweep_interval: float = Field(2.0, description="Seconds between safety sweeps of the scheduler.")
    federation_timeout: float = Field(
        600.0, description="Seconds a task waits for a message from a peer before failing."
    )
    worker_preload: bool = Field(True, description="Start the warm worker pool at start-up.")
    max_body_bytes: int = Field(512 * 1024 * 1024, description="Largest accepted request body (uploads).")
    max_json_bytes: int = Field(4 * 1024 * 1024, description="Largest accepted JSON request body.")
    output_preview_rows: int = Field(100, description="Rows kept in output-data previews (FATE: 100).")
    # Security (docs/security.md).
    import_dirs: list[Path] = Field(
        default_factory=list,
        description="Directories a JSON upload (use_local_data: 0) may read server files from. None by default.",
    )
    export_dir: Path | None = Field(
        None, description="Directory data/download may write into; default <data_dir>/exports."
    )
    app_key: str | None = Field(None, description="Client API key (fate-client's --app-key).")
    secret_key: SecretStr | None = Field(None, description="Client API secret (fate-client's --secret-key).")
    auth_required: bool | None = Field(
        None,
        description="Require signed requests. Default: required when a key is set or host is not loopback.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra names accepted in the Host header (localhost, 127.0.0.1, ::1 and host always are).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed besides the server's own."
    )
    api_docs: bool = Field(False, description="Serve /docs and /openapi.json.")
    max_job_components: int = Field(10_000, ge=1, description="Largest number of components in one DSL.")

    @field_validator("app_key", "secret_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        """An empty key (e.g. `FEDLOOM_APP_KEY=`) is no key: never a valid credential."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> Settings:
        if (self.app_key is None) != (self.secret_key is None):
            raise ValueError("app_key and secret_key must be set together")
        return self

    @model_validator(mode="after")
    def _cluster_complete(self) -> Settings:
        """Cluster mode needs its listener, its identity and a signing key per partner."""
        if len(set(self.party_ids)) != len(self.party_ids):
            raise ValueError("party_ids: a party id is listed twice")
        if not self.party_ids:
            return self
        if self.federation_port is None:
            raise ValueError("federation_port: required in cluster mode (party_ids is set)")
        if self.tls is None:
            raise ValueError("tls: required in cluster mode (ca, cert, key; see `fedloom certs init`)")
        for pid, route in self.routes.items():
            if pid in self.party_ids:
                raise ValueError(f"routes.{pid}: party {pid} is served here (party_ids), not a route")
            if route.secret is None:
                raise ValueError(f"routes.{pid}.secret: required (the command key shared with party {pid})")
        return self

    @property
    def cluster(self) -> bool:
        """True when this server serves only its own parties and talks to the others over the network."""
        return bool(self.party_ids)

    @property
    def client_apps(self) -> dict[str, str]:
        """Every app key this server accepts and its secret (app_key/secret_key and client_auth.apps)."""
        apps = {k: v.get_secret_value() for k, v in self.client_auth.apps.items()}
        if self.app_key is not None and self.secret_key is not None:
            apps[self.app_key] = self.secret_key.get_secret_value()
        return apps

    @property
    def auth_enabled(self) -> bool:
        """Signed requests required: explicitly, or because a key is set, in cluster mode, or off loopback."""
        if self.client_auth.enabled is not None:
            return self.client_auth.enabled
        if self.auth_required is not None:
            return self.auth_required
        return bool(self.client_apps) or self.cluster or not is_loopback(self.host)

    @property
    def resolved_export_dir(self) -> Path:
        if self.export_dir is None:
            return self.resolved_data_dir / "exports"
        return self.export_dir.expanduser().resolve()

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def replica(self) -> bool:
        """True when this server is one of several sharing its database and data dir (`server_id`)."""
        return self.server_id is not None

    @property
    def run_dir(self) -> Path:
        """This server's own files (lock, PID file, staging, sockets): its replica directory, or the
        data dir when it is the only server of its data."""
        if self.server_id is None:
            return self.resolved_data_dir
        return self.resolved_data_dir / "replicas" / self.server_id

    @property
    def lease_seconds(self) -> float:
        """How long a replica holds a job it reconciles without renewing it (renewed every sweep)."""
        return max(1.0, 5 * self.sweep_interval)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'fedloom.db'}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def is_loopback(host: str) -> bool:
    """True when `host` is a loopback address or `localhost` (reachable only from this machine)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings: file values, then environment, then explicit overrides (CLI flags)."""
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"config file {config_file}: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise InvalidInput(f"config file {config_file}: top level must be a mapping")
        file_values = loaded or {}
    from_env = {k for k in Settings.model_fields if f"FEDLOOM_{k.upper()}" in os.environ}
    values = {k: v for k, v in file_values.items() if k not in from_env}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise InvalidInput(f"settings: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}"


__all__ = ["ClientAuth", "PartyRoute", "Settings", "TlsFiles", "is_loopback", "load_settings"]
