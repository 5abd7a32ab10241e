"""Each service starts as its image runs it, and passes its readiness check.

There is no container engine here, so the image's run-time assumptions are reproduced directly,
from the files that declare them:

- the code is exactly what the runtime stage of ``deploy/images/<service>.Dockerfile`` COPYs
  from the build context (after .dockerignore), copied to a temporary folder and made
  read-only; what the builder installs into the image's environment (the pinned dependencies,
  the core, SDK and tools) is the project's environment, read-only, without its editable
  links to the clone;
- the process runs as an unprivileged user (when the tests run as root, uid 65534 by
  ``setpriv``; otherwise the current user), its working folder the image's WORKDIR (read-only),
  HOME the image's (absent, its parent read-only), and only the image's VOLUMEs writable;
- its environment is the image's ENV and the Compose service's, and nothing else: Kafka is the
  project's secured broker with the service's own principal, mounted as Compose mounts it
  (0400 files of that user), the database is PostgreSQL, migrated first by the Compose file's
  one-shot ``registry-migrate`` command.

Container paths are mapped into the temporary folder (``/app`` -> ``<folder>/app``,
``/var/lib/vigie`` -> ``<folder>/var/lib/vigie``, ...). A service that writes anywhere else
(its working folder, its code, HOME) fails: the write is refused, so it does not get ready.

The clone may sit in a private folder (mode 0700, as a home directory is) with the Python
interpreter and the environment under it, out of the unprivileged user's reach; as root they
are bind-mounted read-only into the temporary folder, in a mount namespace of the service's own.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.images import ROOT, SERVICES, context_files, read_image
from tests.support.kafka import fresh_namespace, provision
from tests.support.servers import free_port
from vigie.credentials import read_properties
from vigie.settings import CommonSettings
from vigie_tools import localkafka

COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"
# What the builder stage installs into the image's environment from the build context.
INSTALLED = ("core/vigie", "sdk/vigie_sdk", "tools/vigie_tools")
NOBODY = 65534
# Compose's addresses on its own network, replaced by this test's when the service has them;
# the ports and the topic namespace of the test are given to every service.
ADDRESSES = {"VIGIE_KAFKA_BOOTSTRAP_SERVERS", "VIGIE_DATABASE_URL", "VIGIE_REGISTRY_INTERNAL_URL"}
READY_WITHIN_S = 90.0
# A log line saying something failed.
FAILED = r'"level": "(ERROR|CRITICAL)"|Traceback'
# aiokafka logs at ERROR level the retriable answers of a broker still electing the coordinator
# of a new consumer group (its __consumer_offsets partitions are being created); it retries.
TRANSIENT = (
    r"GroupCoordinatorNotAvailableError|NotCoordinatorForGroupError|CoordinatorLoadInProgress"
)
AS_ROOT = os.geteuid() == 0


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        if variables.get(name):
            return variables[name]
        assert operator != ":?", f"{name} must be set: {word}"
        return word if operator == ":-" else ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


def _read_only(top: Path) -> None:
    for path in sorted(top.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    top.chmod(0o555)


def _writable_again(top: Path) -> None:
    for folder, dirs, _ in os.walk(top):
        for name in dirs:
            (Path(folder) / name).chmod(0o755)
    top.chmod(0o755)


def _give(path: Path, mode: int) -> None:
    """Hand ``path`` to the user the service runs as (a container's volume is its user's)."""
    path.chmod(mode)
    if AS_ROOT:
        os.chown(path, NOBODY, NOBODY)


@dataclass
class Runtime:
    """The interpreter and the environment's packages as the unprivileged user reaches them."""

    folder: Path
    mounts: list[tuple[Path, Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        prefix = Path(sys.base_prefix)
        site = Path(sysconfig.get_paths()["purelib"])
        executable = Path(sys._base_executable).resolve()  # type: ignore[attr-defined]
        libdir = Path(sysconfig.get_config_var("LIBDIR") or prefix / "lib")
        self.python, self.site_packages, self.libdir = executable, site, libdir
        if AS_ROOT and not self._reached():
            # Under a private folder: bind both, read-only, where the unprivileged user
            # reaches them (libpython's run path is absolute, hence LD_LIBRARY_PATH).
            self.folder.mkdir(mode=0o755)
            self.mounts = [(prefix, self.folder / "python"), (site, self.folder / "site")]
            for _, target in self.mounts:
                target.mkdir(mode=0o755)
            self.python = self.folder / "python" / executable.relative_to(prefix)
            self.site_packages = self.folder / "site"
            if libdir.is_relative_to(prefix):
                self.libdir = self.folder / "python" / libdir.relative_to(prefix)

    def _reached(self) -> bool:
        """Whether the unprivileged user runs the interpreter on the environment as they are."""
        probe = subprocess.run(
            [*self._drop(), str(self.python), "-c", "import pydantic"],
            env={"PYTHONPATH": str(self.site_packages), "LD_LIBRARY_PATH": str(self.libdir)},
            cwd="/",
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    @staticmethod
    def _drop() -> list[str]:
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run as the unprivileged user (with bind mounts: in a mount namespace of
        its own)."""
        if not AS_ROOT:
            return argv
        if not self.mounts:
            return [*self._drop(), *argv]
        binds = " && ".join(
            f"mount --bind {source} {target} && mount -o remount,bind,ro {target}"
            for source, target in self.mounts
        )
        drop = " ".join(self._drop())
        script = f'{binds} && exec {drop} "$@"'
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv]


@dataclass
class Container:
    """One service's image unpacked into a folder: container path P is ``folder/P``."""

    service: str
    folder: Path
    runtime: Runtime

    def __post_init__(self) -> None:
        self.image = read_image(self.service)
        (self.environment_copy,) = [c for c in self.image.copies if c.stage]

    def path(self, container_path: str) -> Path:
        return self.folder / PurePosixPath(container_path).relative_to("/")

    def build(self, mounted: dict[str, bytes]) -> None:
        """The image's files and the Compose service's ``mounted`` files (path -> content),
        all read-only; its volumes, writable by its user only."""
        for inside, source in context_files(self.image).items():
            target = self.path(inside)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for package in INSTALLED:
            shutil.copytree(
                ROOT / package,
                self.path(self.environment_copy.destination) / "lib" / Path(package).name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        self.path(self.image.workdir).mkdir(parents=True, exist_ok=True)
        for volume in self.image.volumes:
            self.path(volume).mkdir(parents=True, exist_ok=True)
        for inside, content in mounted.items():
            self.path(inside).parent.mkdir(parents=True, exist_ok=True)
            self.path(inside).write_bytes(content)
        _read_only(self.folder)
        for volume in self.image.volumes:
            _give(self.path(volume), 0o700)
        for inside in mounted:
            _give(self.path(inside), 0o400)

    def environment(self, compose_env: dict[str, str]) -> dict[str, str]:
        """The image's ENV, then the Compose service's, container paths mapped; nothing of
        the test's own environment."""
        env: dict[str, str] = {"PATH": "/usr/bin:/bin"}
        for key, value in {**self.image.env, **compose_env}.items():
            if key != "PATH":
                env[key] = str(self.path(value)) if value.startswith("/") else value
        env["TMPDIR"] = str(self.path("/tmp"))
        # After the image's PYTHONPATH, what its environment holds.
        env["PYTHONPATH"] = os.pathsep.join(
            [
                env["PYTHONPATH"],
                str(self.path(self.environment_copy.destination) / "lib"),
                str(self.runtime.site_packages),
            ]
        )
        env["LD_LIBRARY_PATH"] = str(self.runtime.libdir)
        return env

    def _command(self, argv: list[str]) -> list[str]:
        return self.runtime.command([str(self.runtime.python), *argv])

    def vigie(self, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        """The image's ENTRYPOINT (``vigie``, the tools' console script) with ``argv``."""
        assert self.image.entrypoint == ["vigie"]
        with log.open("wb") as out:
            return subprocess.Popen(
                self._command(["-m", "vigie_tools", *argv]),
                cwd=self.path(self.image.workdir),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def python(self, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """``python -c code`` in the container."""
        return subprocess.run(
            self._command(["-c", code]),
            cwd=self.path(self.image.workdir),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A 0755 temporary folder (pytest's own is private to the user running the tests)."""
    folder = Path(tempfile.mkdtemp(prefix="vigie-images-"))
    folder.chmod(0o755)
    yield folder
    _writable_again(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _service_env(
    compose: dict[str, Any], name: str, variables: dict[str, str], here: dict[str, str]
) -> dict[str, str]:
    """The Compose service's environment, interpolated, with the addresses of this test's
    broker, database and services (``here``) for those of the Compose network."""
    raw = compose["services"][name].get("environment", {})
    env = {key: _interpolate(str(value), variables) for key, value in raw.items()}
    return {**env, **{k: v for k, v in here.items() if k in env or k not in ADDRESSES}}


def _mounted(container: Container, compose: dict[str, Any], ca: Path) -> dict[str, bytes]:
    """The files the Compose service mounts from kafka-init's volumes, made for this test's
    broker: its principal's client file, the CA, the registry's audit signing key."""
    init = {
        entry.split(":")[0]: PurePosixPath(entry.split(":")[1]).name
        for entry in compose["services"]["kafka-init"]["volumes"]
    }
    service = compose["services"][container.service]
    mounts = {
        init[volume]: target
        for volume, target, *_ in (entry.split(":") for entry in service.get("volumes", []))
        if volume in init
    }
    ca_inside = f"{mounts.pop('trust')}/ca.crt"
    files = {ca_inside: ca.read_bytes()}
    if mounts.pop("audit", None) is not None:
        key = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        files[service["environment"]["VIGIE_AUDIT_SIGNING_KEY_FILE"]] = key
    ((principal, _),) = mounts.items()
    props = read_properties(localkafka.client_properties(localkafka.ClusterSpec(), principal))
    # As kafka-init writes it, the CA where the trust volume is mounted.
    props["ssl.ca.location"] = str(container.path(ca_inside))
    text = "".join(f"{key}={value}\n" for key, value in props.items())
    files[service["environment"]["VIGIE_KAFKA_CLIENT_PROPERTIES"]] = text.encode()
    return files


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


# PostgreSQL, as in Compose.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_each_service_starts_as_its_image_runs_it(
    kafka_bootstrap: str, database_url: str, workspace: Path
) -> None:
    compose = _compose()
    namespace = fresh_namespace()
    # The operator's `topics` step of the Compose file: topics and the services' ACLs.
    provision(CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace))
    admin = read_properties(localkafka.admin_properties(localkafka.ClusterSpec()))
    ca = Path(admin["ssl.ca.location"])
    ports = {
        "VIGIE_INGEST_PORT": free_port(),
        "VIGIE_INGEST_METRICS_PORT": free_port(),
        "VIGIE_REGISTRY_PORT": free_port(),
        "VIGIE_REGISTRY_METRICS_PORT": free_port(),
        "VIGIE_TRIAGE_METRICS_PORT": free_port(),
        "VIGIE_TRIAGE_HEALTH_PORT": free_port(),
    }
    readiness = {
        "ingest": ports["VIGIE_INGEST_PORT"],
        "registry": ports["VIGIE_REGISTRY_PORT"],
        "triage": ports["VIGIE_TRIAGE_HEALTH_PORT"],
    }
    variables = {"VIGIE_PSEUDONYM_KEY": secrets.token_urlsafe(32)}
    here = {
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_REGISTRY_INTERNAL_URL": f"http://127.0.0.1:{ports['VIGIE_REGISTRY_PORT']}",
        "VIGIE_TOPIC_NAMESPACE": namespace,
        **{key: str(port) for key, port in ports.items()},
    }
    runtime = Runtime(workspace / "runtime")
    containers = {name: Container(name, workspace / name, runtime) for name in SERVICES}
    envs = {}
    for name, container in containers.items():
        container.build(_mounted(container, compose, ca))
        envs[name] = container.environment(_service_env(compose, name, variables, here))

    # The sandbox holds: nothing can be written in the working folder, the code or HOME.
    attempt = containers["triage"].python(
        "import os, pathlib\n"
        "for p in ('.vigie/x', os.path.expanduser('~/.cache/x'), 'services/x'):\n"
        "    try:\n"
        "        pathlib.Path(p).parent.mkdir(parents=True, exist_ok=True)\n"
        "        pathlib.Path(p).write_text('x')\n"
        "    except OSError:\n"
        "        continue\n"
        "    raise SystemExit('written: ' + p)\n",
        envs["triage"],
    )
    assert attempt.returncode == 0, attempt.stdout + attempt.stderr

    # registry-migrate, the one-shot step the registry waits for.
    registry = containers["registry"]
    migrate_env = registry.environment(_service_env(compose, "registry-migrate", variables, here))
    log = workspace / "registry-migrate.log"
    command = compose["services"]["registry-migrate"]["command"]
    assert registry.vigie(command, migrate_env, log).wait(timeout=120) == 0, _tail(log)

    logs = {name: workspace / f"{name}.log" for name in SERVICES}
    procs = {
        name: containers[name].vigie(compose["services"][name]["command"], envs[name], logs[name])
        for name in SERVICES
    }
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        pending = set(SERVICES)
        while pending:
            for name in sorted(pending):
                assert procs[name].poll() is None, f"{name} stopped:\n{_tail(logs[name])}"
                if _ready(f"http://127.0.0.1:{readiness[name]}/readyz"):
                    pending.discard(name)
            assert time.monotonic() < deadline, {name: _tail(logs[name]) for name in pending}
            time.sleep(0.5)
        # The Compose healthcheck itself, run in the container (on the test's port).
        for name, container in containers.items():
            kind, program, flag, code = compose["services"][name]["healthcheck"]["test"]
            assert (kind, program, flag) == ("CMD", "python", "-c"), name
            code = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{readiness[name]}", code)
            check = container.python(code, envs[name])
            assert check.returncode == 0, (name, check.stderr)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        codes = {name: proc.wait(timeout=30) for name, proc in procs.items()}
    for name, code in codes.items():
        # Stopped cleanly (uvicorn ends by re-raising the signal it handled), and nothing was
        # logged as failed on the way.
        output = logs[name].read_text(errors="replace")
        assert code in (0, -signal.SIGTERM), (name, code, _tail(logs[name]))
        failures = [
            line
            for line in output.splitlines()
            if re.search(FAILED, line) and not re.search(TRANSIENT, line)
        ]
        assert not failures, (name, failures)
