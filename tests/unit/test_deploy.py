"""The deployment files keep Kafka as closed as the local cluster: SASL_SSL/SCRAM clients,
mutual-TLS brokers, deny-by-default ACLs, one principal per service, secrets in files only.

PyYAML is not a dependency of the project, so the YAML files are read by the small reader below,
which knows the subset deploy/ is written in: block and one-line flow collections, plain and
quoted scalars, literal block scalars, comments, documents, anchors, aliases and merge keys.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from prometheus_client import Counter

from services.ingest.settings import IngestSettings
from services.registry.settings import RegistrySettings
from services.triage.settings import TriageSettings
from tests.support.images import ROOT, context_files, dockerfile, read_image
from tests.support.kustomize import build
from vigie import metrics
from vigie.credentials import read_properties
from vigie.settings import CommonSettings
from vigie.topics import SERVICE_PRINCIPALS
from vigie_tools.kafkaacl import ADMIN
from vigie_tools.kafkatls import BROKER_DN, BROKER_PRINCIPAL

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose"
KUBERNETES = DEPLOY / "kubernetes"
SERVICES = {"ingest": "vigie-ingest", "triage": "vigie-triage", "registry": "vigie-registry"}


# --- a reader for the YAML subset of deploy/ -----------------------------------------------


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0
        self.anchors: dict[str, Any] = {}
        # An entry written on a sequence item's line ("- key: value"), read as its own line.
        self.pushed: tuple[int, int, str] | None = None

    def peek(self) -> tuple[int, str] | None:
        if self.pushed is not None and self.pushed[0] == self.i:
            return self.pushed[1], self.pushed[2]
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            content = _strip_comment(raw).strip()
            if content:
                return len(raw) - len(raw.lstrip(" ")), content
            self.i += 1
        return None

    def node(self, indent: int) -> Any:
        line = self.peek()
        assert line is not None
        if _is_item(line[1]):
            return self.sequence(line[0])
        return self.mapping(line[0])

    def nested(self, indent: int, *, sequence_may_align: bool) -> Any:
        line = self.peek()
        if line is None:
            return None
        if line[0] > indent or (sequence_may_align and line[0] == indent and _is_item(line[1])):
            return self.node(line[0])
        return None

    def sequence(self, indent: int) -> list[Any]:
        out: list[Any] = []
        while (line := self.peek()) is not None and line[0] == indent and _is_item(line[1]):
            rest = line[1][1:].lstrip(" ")
            column = indent + len(line[1]) - len(rest)
            if rest and not rest.startswith(("[", "{", '"', "'", "&", "*")) and _split_key(rest):
                self.pushed = (self.i, column, rest)
                out.append(self.mapping(column))
            else:
                self.i += 1
                out.append(self.value(rest, indent))
        return out

    def mapping(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        explicit: set[Any] = set()
        while (line := self.peek()) is not None and line[0] == indent and not _is_item(line[1]):
            split = _split_key(line[1])
            assert split, f"not a mapping entry: {line[1]!r}"
            key, rest = split
            self.i += 1
            self.pushed = None
            value = self.value(rest, indent, sequence_may_align=True)
            if key == "<<":
                for merged in value if isinstance(value, list) else [value]:
                    for k, v in merged.items():
                        out.setdefault(k, v)
            else:
                assert key not in explicit, f"duplicate key {key!r}"
                explicit.add(key)
                out[key] = value
        return out

    def value(self, rest: str, indent: int, *, sequence_may_align: bool = False) -> Any:
        if rest.startswith("&"):
            name, _, rest = rest[1:].partition(" ")
            value = self.value(rest.strip(), indent, sequence_may_align=sequence_may_align)
            self.anchors[name] = value
            return value
        if not rest:
            return self.nested(indent, sequence_may_align=sequence_may_align)
        if rest in ("|", "|-", "|+"):
            return self.literal(indent, rest)
        return _Flow(rest, self.anchors).parse()

    def literal(self, indent: int, indicator: str) -> str:
        body: list[str] = []
        block_indent = None
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip():
                here = len(raw) - len(raw.lstrip(" "))
                if here <= indent:
                    break
                block_indent = here if block_indent is None else block_indent
                body.append(raw[block_indent:])
            else:
                body.append("")
            self.i += 1
        text = "\n".join(body).rstrip("\n")
        return text if indicator == "|-" else text + "\n"


class _Flow:
    def __init__(self, text: str, anchors: dict[str, Any]) -> None:
        self.text = text
        self.pos = 0
        self.anchors = anchors

    def parse(self) -> Any:
        value = self.node(top=True)
        assert not self.text[self.pos :].strip(), f"trailing text in {self.text!r}"
        return value

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def closes(self, bracket: str) -> bool:
        self.skip()
        return self.text[self.pos] == bracket

    def node(self, *, top: bool = False, key: bool = False) -> Any:
        self.skip()
        char = self.text[self.pos]
        if char == "[":
            self.pos += 1
            items: list[Any] = []
            while not self.closes("]"):
                items.append(self.node())
                self.skip()
                if self.text[self.pos] == ",":
                    self.pos += 1
            self.pos += 1
            return items
        if char == "{":
            self.pos += 1
            out: dict[Any, Any] = {}
            while not self.closes("}"):
                name = self.node(key=True)
                self.skip()
                assert self.text[self.pos] == ":", f"no ':' in {self.text!r}"
                self.pos += 1
                value = self.node()
                if name == "<<":
                    for k, v in value.items():
                        out.setdefault(k, v)
                else:
                    out[name] = value
                self.skip()
                if self.text[self.pos] == ",":
                    self.pos += 1
            self.pos += 1
            return out
        if char == '"':
            end = self.pos + 1
            while self.text[end] != '"':
                end += 2 if self.text[end] == "\\" else 1
            value = json.loads(self.text[self.pos : end + 1])
            self.pos = end + 1
            return value
        if char == "'":
            end = self.pos + 1
            while True:
                end = self.text.index("'", end)
                if self.text[end + 1 : end + 2] != "'":
                    break
                end += 2
            value = self.text[self.pos + 1 : end].replace("''", "'")
            self.pos = end + 1
            return value
        if char == "*":
            match = re.compile(r"\*([^\s,\]}]+)").match(self.text, self.pos)
            assert match
            self.pos = match.end()
            return self.anchors[match.group(1)]
        if top:
            plain, self.pos = self.text[self.pos :].strip(), len(self.text)
        else:
            stop = r":(?=[ ,}\]]|$)" if key else r"[,\]}]|:(?=[ ,}\]]|$)"
            match = re.compile(stop).search(self.text, self.pos)
            end = match.start() if match else len(self.text)
            plain, self.pos = self.text[self.pos : end].strip(), end
        return _scalar(plain)


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _strip_comment(line: str) -> str:
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'" and (index == 0 or line[index - 1] in " [{,:"):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def _split_key(content: str) -> tuple[str, str] | None:
    if content[0] in "\"'":
        end = content.index(content[0], 1)
        key, after = content[1:end], content[end + 1 :].lstrip()
        return (key, after[1:].strip()) if after.startswith(":") else None
    match = re.search(r":(?= |$)", content)
    if not match:
        return None
    return content[: match.start()].strip(), content[match.end() :].strip()


def _scalar(text: str) -> Any:
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text):
        return float(text)
    return text


def load_yaml(path: Path) -> list[Any]:
    """Every document of a YAML file of deploy/."""
    return read_yaml(path.read_text(encoding="utf-8"))


def read_yaml(text: str) -> list[Any]:
    """Every document of a YAML text (of the subset above)."""
    documents: list[list[str]] = [[]]
    for line in text.splitlines():
        if re.fullmatch(r"---\s*(#.*)?", line):
            documents.append([])
        else:
            documents[-1].append(line.replace("\t", "    "))
    out = []
    for lines in documents:
        reader = _Reader(lines)
        if reader.peek() is not None:
            out.append(reader.node(0))
            assert reader.peek() is None, f"unread line {reader.peek()}"
    return out


def test_the_reader_reads_the_subset() -> None:
    text = (
        "a: &base\n  x: 1 # comment\n  y: 'it''s'\n"
        "b:\n  <<: *base\n  y: two\n"
        'c: [1, "q: #", {k: v, u: http://h:1}]\n'
        "d:\n- k: v\n  w: [a]\n- plain: 'x'\n- 3\n"
        "e: |\n  line one\n    indented\n"
        "f: 0.0.0.0\n"
    )
    (doc,) = read_yaml(text)
    assert doc["a"] == {"x": 1, "y": "it's"}
    assert doc["b"] == {"x": 1, "y": "two"}
    assert doc["c"] == [1, "q: #", {"k": "v", "u": "http://h:1"}]
    assert doc["d"] == [{"k": "v", "w": ["a"]}, {"plain": "x"}, 3]
    assert doc["e"] == "line one\n  indented\n"
    assert doc["f"] == "0.0.0.0"


# --- helpers -----------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    (doc,) = load_yaml(COMPOSE / "compose.yaml")
    return doc  # type: ignore[no-any-return]


def _server_properties() -> dict[str, str]:
    return read_properties(COMPOSE / "kafka" / "server.properties")


def _protocol_map(value: str) -> dict[str, str]:
    return dict(pair.split(":", 1) for pair in value.split(","))


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Container path -> (source, read-only) of a compose service's volumes."""
    out = {}
    for entry in service.get("volumes", []):
        source, target, *mode = entry.split(":")
        out[target] = (source, mode == ["ro"])
    return out


def _init_principal_of_volume() -> dict[str, str]:
    """Named volume -> the principal kafka-init writes it for (its /out/<principal> folder)."""
    init = _compose()["services"]["kafka-init"]
    return {source: PurePosixPath(target).name for target, (source, _) in _mounts(init).items()}


def _settings_fields() -> set[str]:
    fields: set[str] = set()
    for cls in (CommonSettings, IngestSettings, RegistrySettings, TriageSettings):
        assert cls.model_config.get("env_prefix") == "VIGIE_"
        fields |= {name.upper() for name in cls.model_fields}
    return fields


# --- Compose: the broker -------------------------------------------------------------------


def test_compose_runs_kafka_4_1_1_from_the_secured_configuration() -> None:
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert "/etc/vigie-kafka/start.sh" in kafka["command"]
    assert _mounts(kafka)["/etc/vigie-kafka"] == ("./kafka", True)
    start = (COMPOSE / "kafka" / "start.sh").read_text()
    assert "/etc/vigie-kafka/server.properties" in start
    assert "@/run/secrets/vigie-kafka-broker/format.args" in start
    # The image's own KAFKA_* variables would configure another broker: none is given.
    assert "environment" not in kafka


def test_no_listener_is_plaintext() -> None:
    props = _server_properties()
    protocols = _protocol_map(props["listener.security.protocol.map"])
    assert protocols == {"CLIENT": "SASL_SSL", "CONTROLLER": "SSL", "INTERNAL": "SSL"}
    for key in ("listeners", "advertised.listeners"):
        names = {entry.split("://")[0] for entry in props[key].split(",")}
        assert names <= set(protocols), key
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "INTERNAL"
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix != ".json":
            assert "PLAINTEXT" not in path.read_text(encoding="utf-8").upper(), path


def test_clients_use_scram_sha_512_and_brokers_mutual_tls() -> None:
    props = _server_properties()
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["listener.name.internal.ssl.client.auth"] == "required"
    assert props["ssl.endpoint.identification.algorithm"] == "https"
    assert props["ssl.principal.mapping.rules"] == (
        f"RULE:^{BROKER_DN}$/{BROKER_PRINCIPAL}/,DEFAULT"
    )
    init = (COMPOSE / "kafka-init" / "init.sh").read_text()
    # The broker's subject is what the mapping rule turns into vigie-broker, and its name is
    # the host name the services and the broker itself connect to.
    assert '-subj "/O=Vigie/CN=vigie-broker"' in init
    assert "subjectAltName=DNS:kafka" in init
    assert "extendedKeyUsage=serverAuth,clientAuth" in init


def test_the_authorizer_denies_by_default_with_two_super_users() -> None:
    props = _server_properties()
    assert props["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert set(props["super.users"].split(";")) == {f"User:{ADMIN}", f"User:{BROKER_PRINCIPAL}"}


def test_the_operator_is_the_first_scram_user_and_no_secret_is_on_a_command_line() -> None:
    init = (COMPOSE / "kafka-init" / "init.sh").read_text()
    assert f"ADMIN={ADMIN}" in init
    assert "SCRAM-SHA-512=[name=$ADMIN," in init
    services = _compose()["services"]
    for name, service in services.items():
        command = json.dumps([service.get("command"), service.get("entrypoint")])
        assert "password" not in command.lower(), name
    users = (COMPOSE / "kafka" / "provision-users.sh").read_text()
    assert "--add-config-file" in users and "--add-config " not in users


# --- Compose: the principals ---------------------------------------------------------------


def test_kafka_init_writes_one_volume_per_principal() -> None:
    init = (COMPOSE / "kafka-init" / "init.sh").read_text()
    match = re.search(r'^SERVICES="([^"]+)"$', init, re.M)
    assert match and tuple(match.group(1).split()) == SERVICE_PRINCIPALS
    principals = _init_principal_of_volume()
    assert sorted(p for p in principals.values() if p not in ("ca", "trust", "audit")) == sorted(
        [ADMIN, BROKER_PRINCIPAL, *SERVICE_PRINCIPALS]
    )
    assert len(set(principals)) == len(principals)
    # Files owned by the one user that reads them: the broker's user and the services' user.
    kafka_user = _compose()["services"]["kafka"]["user"].split(":")[0]
    assert f"BROKER_UID={kafka_user}" in init
    assert "CLIENT_UID=10001" in init
    for name in SERVICES:
        assert read_image(name).user == "10001:10001", name
    for mode in re.findall(r"put \S+ (0\d{3}) ", init):
        assert mode in ("0400", "0444"), mode
    # Public certificates only are 0444.
    assert re.findall(r"put (\S+) 0444 ", init) == ["/out/ca/ca.crt", "/out/trust/ca.crt"]


def _client_principal(service: dict[str, Any]) -> str:
    """The principal whose client file a compose service reads (through its own volume)."""
    path = PurePosixPath(service["environment"]["VIGIE_KAFKA_CLIENT_PROPERTIES"])
    source, read_only = _mounts(service)[str(path.parent)]
    assert read_only, f"{source} must be mounted read-only"
    return _init_principal_of_volume()[source]


def test_each_compose_service_connects_as_its_own_principal() -> None:
    services = _compose()["services"]
    seen = set()
    for name, principal in SERVICES.items():
        service = services[name]
        assert _client_principal(service) == principal, name
        assert service["environment"]["VIGIE_KAFKA_CLIENT_PROPERTIES"].endswith(
            "/client.properties"
        )
        seen.add(principal)
        # Its own secrets volume and the public CA (and the registry its audit signing key):
        # nothing of another principal.
        owned = {s for s, _ in _mounts(service).values() if s in _init_principal_of_volume()}
        expected = {principal, "trust"} | ({"audit"} if name == "registry" else set())
        assert {_init_principal_of_volume()[s] for s in owned} == expected, name
    assert seen == set(SERVICE_PRINCIPALS)


def test_the_compose_operator_steps_run_as_vigie_admin() -> None:
    services = _compose()["services"]
    topics = services["topics"]
    assert topics["entrypoint"] == ["vigie", "topics"]
    assert _client_principal(topics) == ADMIN
    assert topics["environment"]["VIGIE_KAFKA_CLIENT_PROPERTIES"].endswith("/admin.properties")
    assert topics["depends_on"] == {"kafka-users": {"condition": "service_completed_successfully"}}
    users = services["kafka-users"]
    assert _init_principal_of_volume()[_mounts(users)["/run/secrets/vigie-kafka"][0]] == ADMIN
    for name in SERVICES:
        assert services[name]["depends_on"]["topics"] == {
            "condition": "service_completed_successfully"
        }


def test_no_kafka_password_in_compose_environments() -> None:
    compose = _compose()
    environments = [compose["x-vigie-env"]] + [
        s.get("environment", {}) for s in compose["services"].values()
    ]
    for env in environments:
        for key, value in env.items():
            # PostgreSQL's and Grafana's, given by the operator at `docker compose up`.
            if "PASSWORD" in key and key not in ("POSTGRES_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"):
                assert key.endswith("_FILE"), key
            assert "sasl.password" not in str(value).lower() and "scram" not in str(value).lower()


def test_vigie_containers_are_hardened_in_compose() -> None:
    services = _compose()["services"]
    for name in ("topics", "registry-migrate", *SERVICES):
        service = services[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


# --- Compose: the images -------------------------------------------------------------------


def test_each_service_runs_its_own_image() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        build = services[name]["build"]
        assert (COMPOSE / build["context"] / build["dockerfile"]).resolve() == dockerfile(name)
        image = read_image(name)
        assert image.entrypoint == ["vigie"], name
        assert image.cmd == ["serve", name] == services[name]["command"], name
        # The builder's environment and this service's files only.
        assert [c.destination for c in image.copies if c.stage] == ["/opt/vigie"], name
    # The operator's one-shot steps run the registry's image (the `vigie` command, no service).
    for step in ("topics", "registry-migrate"):
        assert services[step]["image"] == services["registry"]["image"], step


def test_runtime_images_carry_no_data_sets_training_code_or_tests() -> None:
    for name in SERVICES:
        files = context_files(read_image(name))
        sources = {path.relative_to(ROOT).as_posix() for path in files.values()}
        assert {s for s in sources if s.startswith("data/")} == {
            "data/devices/fda_ai_devices.csv.gz"
        }, name
        assert not {s for s in sources if s.startswith(("tests/", "bench/", "deploy/"))}, name
        assert not {s for s in sources if s.endswith(".pyc")}, name
        for module in ("training.py", "dataset.py", "evaluation.py"):
            assert not [s for s in sources if s.endswith("/" + module)], (name, module)
        # A service's image holds no other service's code.
        others = [f"services/{other}/" for other in SERVICES if other != name]
        assert not [s for s in sources if s.startswith(tuple(others))], name


def test_registry_starts_after_its_migrations() -> None:
    services = _compose()["services"]
    migrate = services["registry-migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert (
        migrate["environment"]["VIGIE_DATABASE_URL"]
        == (services["registry"]["environment"]["VIGIE_DATABASE_URL"])
    )
    assert services["registry"]["depends_on"]["registry-migrate"] == {
        "condition": "service_completed_successfully"
    }
    # The registry in production needs its audit signing key, made once by kafka-init.
    key = PurePosixPath(services["registry"]["environment"]["VIGIE_AUDIT_SIGNING_KEY_FILE"])
    source, read_only = _mounts(services["registry"])[str(key.parent)]
    assert read_only and _init_principal_of_volume()[source] == "audit"
    init = (COMPOSE / "kafka-init" / "init.sh").read_text()
    assert f"put /out/audit/{key.name} 0400" in init
    assert "openssl genpkey -algorithm ed25519" in init


def test_ingest_checks_tokens_at_the_registry_by_its_service_name() -> None:
    compose = _compose()
    url = compose["services"]["ingest"]["environment"]["VIGIE_REGISTRY_INTERNAL_URL"]
    assert "registry_internal_url" in IngestSettings.model_fields
    assert url == f"http://registry:{RegistrySettings().registry_port}"
    assert compose["services"]["ingest"]["depends_on"]["registry"] == {
        "condition": "service_healthy"
    }


def test_every_service_has_a_readiness_healthcheck() -> None:
    services = _compose()["services"]
    ports = {
        "ingest": IngestSettings().ingest_port,
        "registry": RegistrySettings().registry_port,
        "triage": TriageSettings().triage_health_port,
    }
    for name, port in ports.items():
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and f"http://127.0.0.1:{port}/readyz" in test[-1], name


def test_containers_write_only_to_the_volumes_their_image_declares() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        service = services[name]
        writable = set(service["tmpfs"]) | {
            target for target, (_, read_only) in _mounts(service).items() if not read_only
        }
        assert writable == set(read_image(name).volumes), name
        # Where triage writes (its spool) is on its volume.
        for key, value in read_image(name).env.items():
            if key.startswith("VIGIE_") and value.startswith("/"):
                assert any(value.startswith(v + "/") for v in writable), (name, key)


# --- every file ----------------------------------------------------------------------------


def test_every_vigie_variable_in_deploy_is_a_setting() -> None:
    fields = _settings_fields()
    used: dict[str, set[str]] = {}
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            for name in re.findall(r"\bVIGIE_[A-Z0-9_]+", path.read_text(encoding="utf-8")):
                used.setdefault(name, set()).add(path.name)
    unknown = {name: files for name, files in used.items() if name[6:] not in fields}
    assert not unknown
    assert "VIGIE_KAFKA_CLIENT_PROPERTIES" in used


def test_every_yaml_file_of_deploy_is_read() -> None:
    for path in [*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")]:
        assert load_yaml(path), path


# --- Prometheus ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        "vigie_untrusted_events_total",
        "vigie_messages_dead_lettered_total",
        "vigie_dlq_limit_exceeded_total",
        "vigie_events_refused_total",
    ],
)
def test_prometheus_alerts_on_refused_messages(metric: str) -> None:
    counters = {
        family.name + "_total"
        for value in vars(metrics).values()
        if isinstance(value, Counter)
        for family in value.collect()
        if family.type == "counter"
    }
    assert metric in counters
    (prometheus,) = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    assert prometheus["rule_files"] == ["alerts.yml"]
    (rules,) = load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert any(f"increase({metric}[" in expr for expr in exprs)
    mounts = _mounts(_compose()["services"]["prometheus"])
    assert mounts["/etc/prometheus/alerts.yml"] == ("../prometheus/alerts.yml", True)


def test_metrics_are_scraped_from_their_own_ports_never_the_apis() -> None:
    ingest, registry, triage = IngestSettings(), RegistrySettings(), TriageSettings()
    metrics_ports = {
        "ingest": ingest.ingest_metrics_port,
        "registry": registry.registry_metrics_port,
        "triage": triage.triage_metrics_port,
    }
    assert not set(metrics_ports.values()) & {ingest.ingest_port, registry.registry_port}
    (prometheus,) = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        target
        for job in prometheus["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    }
    assert targets == {f"{name}:{port}" for name, port in metrics_ports.items()}
    for overlay in ("dev", "prod"):
        docs = build(KUBERNETES / "overlays" / overlay)
        container_ports = {}
        for doc in docs:
            if doc["kind"] == "Deployment":
                name = doc["metadata"]["name"]
                template = doc["spec"]["template"]
                port = template["metadata"]["annotations"]["prometheus.io/port"]
                assert port == str(metrics_ports[name]), name
                (container,) = template["spec"]["containers"]
                named = {p.get("name"): p["containerPort"] for p in container["ports"]}
                assert named["metrics"] == metrics_ports[name], name
                container_ports[name] = named
        for doc in docs:
            if doc["kind"] == "Service":
                named = container_ports[doc["spec"]["selector"]["app"]]
                for p in doc["spec"]["ports"]:
                    assert named.get(p["targetPort"], p["targetPort"]) not in metrics_ports.values()
        # Listening beyond the container's loopback is what lets Prometheus reach them.
        (config,) = [
            d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "vigie"
        ]
        for name in metrics_ports:
            assert config["data"][f"VIGIE_{name.upper()}_METRICS_HOST"] == "0.0.0.0"


def test_only_the_registry_receives_the_database_credentials() -> None:
    """Ingest faces the Internet and triage has no database: neither gets its password."""
    compose = _compose()
    assert "VIGIE_DATABASE_URL" not in compose["x-vigie-env"]
    holders = {
        name
        for name, service in compose["services"].items()
        if any("DATABASE_URL" in key for key in (service.get("environment") or {}))
    }
    assert holders == {"registry", "registry-migrate"}
