"""The Kubernetes overlays as a platform team applies them: both render (tests.support.kustomize,
the same output as `kubectl kustomize`), validate offline against the Kubernetes OpenAPI schemas
(kubernetes-validate) and the Strimzi and prometheus-operator CRDs (tests/data/crds), and hold
what the architecture and the security model say: hardened pods with probes and resources,
pinned images, only the network paths of the architecture, Kafka topics and users as the code
defines them.
"""

from __future__ import annotations

import functools
import ipaddress
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

from services.ingest.settings import IngestSettings
from services.registry.settings import RegistrySettings
from services.triage.settings import TriageSettings
from tests.support.images import read_image
from tests.support.kustomize import build
from vigie.kafka import topic_acls
from vigie.settings import TopicNames
from vigie.topics import ALL, DLQ_SUFFIX, SERVICE_PRINCIPALS
from vigie_tools.kafkaacl import ADMIN

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
CRDS = ROOT / "tests" / "data" / "crds"
OVERLAYS = ("dev", "prod")
SERVICES = {"ingest": "vigie-ingest", "triage": "vigie-triage", "registry": "vigie-registry"}
# The oldest Kubernetes release still supported upstream when this was written, and the newest
# kubernetes-validate knows: the manifests must be valid on both.
KUBERNETES_VERSIONS = ("1.32.0", kubernetes_validate.utils.latest_version())
CUSTOM_GROUPS = ("kafka.strimzi.io", "monitoring.coreos.com")

# The network paths of the architecture (README, "Architecture"; base/network-policies.yaml):
# (from, to, protocol, port). Peers outside the namespace are named by NAMED_PEERS.
PATHS = {
    ("ingress-controller", "ingest", "TCP", 8000),
    ("ingress-controller", "registry", "TCP", 8001),
    ("ingest", "registry", "TCP", 8001),  # bearer tokens checked by the registry
    *{(service, "kafka", "TCP", 9093) for service in SERVICES},
    ("registry", "postgresql", "TCP", 5432),
    ("prometheus", "ingest", "TCP", 8003),
    ("prometheus", "triage", "TCP", 8002),
    ("prometheus", "registry", "TCP", 8004),
    *{(service, "dns", protocol, 53) for service in SERVICES for protocol in ("UDP", "TCP")},
}
NAMED_PEERS = {
    ("ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),)): "ingress-controller",
    ("monitoring", (("app.kubernetes.io/name", "prometheus"),)): "prometheus",
    ("kafka", (("strimzi.io/cluster", "vigie"), ("strimzi.io/kind", "Kafka"))): "kafka",
    ("kube-system", (("k8s-app", "kube-dns"),)): "dns",
    ("postgres", ()): "postgresql",
}


@functools.cache
def _rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(build(KUBERNETES / "overlays" / overlay))


def _of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in _rendered(overlay) if r["kind"] == kind}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _pods(overlay: str) -> dict[str, dict[str, Any]]:
    return {
        name: d["spec"]["template"]["spec"] for name, d in _of_kind(overlay, "Deployment").items()
    }


def _config(overlay: str) -> dict[str, str]:
    return _of_kind(overlay, "ConfigMap")["vigie"]["data"]  # type: ignore[no-any-return]


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return str(tomllib.load(stream)["project"]["version"])


# --- rendering and schemas -----------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_render_the_same_workloads(overlay: str) -> None:
    kinds = {r["kind"] for r in _rendered(overlay)}
    assert set(_of_kind(overlay, "Deployment")) == set(SERVICES)
    assert {
        "Namespace",
        "ConfigMap",
        "Service",
        "NetworkPolicy",
        "KafkaTopic",
        "KafkaUser",
    } <= kinds
    # Topics are the Topic Operator's, not a Job's; nothing runs as the operator principal.
    assert not {"Job", "CronJob", "Pod"} & kinds
    assert all(
        r["metadata"]["namespace"] == "vigie"
        for r in _rendered(overlay)
        if r["kind"] != "Namespace"
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_are_valid_kubernetes(overlay: str, version: str) -> None:
    checked = set()
    for resource in _rendered(overlay):
        if resource["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
            continue
        # strict: a field the schema does not know is an error, not silently dropped.
        kubernetes_validate.validate(resource, version, strict=True)
        checked.add(resource["kind"])
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "NetworkPolicy"} <= checked


def test_the_kubernetes_validator_refuses_a_wrong_field() -> None:
    deployment = dict(_of_kind("prod", "Deployment")["ingest"])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    with pytest.raises(SchemaNotFoundError):
        kubernetes_validate.validate(
            _of_kind("prod", "KafkaTopic")["vigie.reports.v1"], KUBERNETES_VERSIONS[-1]
        )


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields (the API server would prune them silently)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    closed = "properties" in schema and "additionalProperties" not in schema
    if closed and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@functools.cache
def _crd_schemas() -> dict[tuple[str, str, str], dict[str, Any]]:
    """(group, version, kind) -> the served version's schema, from the vendored CRDs."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        with path.open(encoding="utf-8") as stream:
            for crd in yaml.safe_load_all(stream):
                if not crd:
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if version["served"]:
                        schema = _strict(version["schema"]["openAPIV3Schema"])
                        # metadata is the API server's; its schema is ObjectMeta, checked above.
                        schema["properties"]["metadata"] = {"type": "object"}
                        schemas[(group, version["name"], kind)] = schema
    return schemas


def _check_custom(resource: dict[str, Any]) -> None:
    group, _, version = resource["apiVersion"].partition("/")
    schema = _crd_schemas().get((group, version, resource["kind"]))
    assert schema is not None, f"no vendored CRD serves {resource['apiVersion']} {resource['kind']}"
    # Not jsonschema.validate: it first checks the schema's patterns as Python regular
    # expressions, and some CRD patterns are Go's (a `(?i)` after `^`), for fields not used here.
    jsonschema.Draft7Validator(schema).validate(resource)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_are_valid_against_their_crds(overlay: str) -> None:
    custom = [r for r in _rendered(overlay) if r["apiVersion"].split("/")[0] in CUSTOM_GROUPS]
    for resource in custom:
        _check_custom(resource)
    kinds = {r["kind"] for r in custom}
    assert {"KafkaTopic", "KafkaUser"} <= kinds
    # The alert rules and the scraping (deploy/kubernetes/monitoring) go with production.
    assert ({"PrometheusRule", "PodMonitor"} <= kinds) == (overlay == "prod")


def test_prod_scrapes_every_service_on_its_metrics_port() -> None:
    (monitor,) = _of_kind("prod", "PodMonitor").values()
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in _of_kind("prod", "Deployment").items()
    }
    assert _labels(monitor["spec"]["selector"], pods) == set(SERVICES)
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    for name, pod in _pods("prod").items():
        (container,) = pod["containers"]
        assert endpoint["port"] in {p.get("name") for p in container["ports"]}, name


def test_the_crd_check_refuses_a_wrong_custom_resource() -> None:
    topic = _of_kind("prod", "KafkaTopic")["vigie.reports.v1"]
    with pytest.raises(jsonschema.ValidationError):
        _check_custom({**topic, "spec": {**topic["spec"], "partitions": 0}})
    with pytest.raises(jsonschema.ValidationError):
        _check_custom({**topic, "spec": {**topic["spec"], "replica": 3}})
    user = _of_kind("prod", "KafkaUser")["vigie-ingest"]
    acl = {"resource": {"type": "topic", "name": "x"}, "operations": ["Publish"]}
    with pytest.raises(jsonschema.ValidationError):
        _check_custom(
            {**user, "spec": {**user["spec"], "authorization": {"type": "simple", "acls": [acl]}}}
        )


# --- pods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_hardened_and_bounded(overlay: str) -> None:
    for name, pod in _pods(overlay).items():
        assert pod["automountServiceAccountToken"] is False, name
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == 10001, name
        assert context["runAsGroup"] == 10001, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in _containers(pod):
            where = f"{name}/{container['name']}"
            own = container["securityContext"]
            assert own["runAsNonRoot"] is True, where
            assert own["readOnlyRootFilesystem"] is True, where
            assert own["allowPrivilegeEscalation"] is False, where
            assert own["capabilities"] == {"drop": ["ALL"]}, where
            assert own["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert "privileged" not in own and "runAsUser" not in own, where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert "memory" in resources["limits"], where


def test_prod_resources_are_stricter_than_dev() -> None:
    for name, pod in _pods("prod").items():
        for container in _containers(pod):
            resources = container["resources"]
            assert "cpu" in resources["limits"], name
            # Memory requested as limited: no overcommit, no eviction under pressure first.
            assert resources["requests"]["memory"] == resources["limits"]["memory"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_container_has_probes(overlay: str) -> None:
    for name, pod in _pods(overlay).items():
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert "httpGet" in container[probe], (name, probe)


def _probe_port(container: dict[str, Any], probe: str) -> tuple[str, int]:
    get = container[probe]["httpGet"]
    port = get["port"]
    if isinstance(port, str):
        (port,) = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return get["path"], port


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_ask_each_service_its_health_endpoints(overlay: str) -> None:
    ports = {
        "ingest": IngestSettings().ingest_port,
        "registry": RegistrySettings().registry_port,
        "triage": TriageSettings().triage_health_port,
    }
    for name, pod in _pods(overlay).items():
        (container,) = pod["containers"]
        port = ports[name]
        assert _probe_port(container, "livenessProbe") == ("/healthz", port), name
        assert _probe_port(container, "startupProbe") == ("/healthz", port), name
        assert _probe_port(container, "readinessProbe") == ("/readyz", port), name
    # The kubelet reaches them on the pod's address, not the loopback.
    for host in ("INGEST_HOST", "REGISTRY_HOST", "TRIAGE_HEALTH_HOST"):
        assert _config(overlay)[f"VIGIE_{host}"] == "0.0.0.0"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_the_services_own_pinned_to_the_release(overlay: str) -> None:
    for name, pod in _pods(overlay).items():
        for container in _containers(pod):
            image, _, tag = container["image"].rpartition(":")
            assert image.rsplit("/", 1)[-1] == SERVICES[name], container["image"]
            assert tag == _version() != "latest", container["image"]
            assert "command" not in container, "the image's entrypoint, `vigie`"
        (main,) = pod["containers"]
        assert main["args"] == ["serve", name]
    (migrate,) = _pods(overlay)["registry"]["initContainers"]
    assert migrate["args"] == ["db", "upgrade"]
    assert migrate["image"] == _pods(overlay)["registry"]["containers"][0]["image"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_writable_only_where_the_services_write(overlay: str) -> None:
    writable_folders = {"/tmp", "/var/lib/vigie"}
    for name, pod in _pods(overlay).items():
        volumes = {v["name"]: v for v in pod["volumes"]}
        writable = set()
        for container in _containers(pod):
            for mount in container["volumeMounts"]:
                volume = volumes[mount["name"]]
                if mount.get("readOnly") is not True:
                    assert set(volume) == {"name", "emptyDir"}, (name, mount)
                    assert "sizeLimit" in volume["emptyDir"], (name, mount)
                    writable.add(mount["mountPath"])
        assert writable <= writable_folders, name
        assert "/tmp" in writable, name
        assert ("/var/lib/vigie" in writable) == (name == "triage"), name
    spool = PurePosixPath(_config(overlay)["VIGIE_TRIAGE_SELF_SPOOL"])
    assert spool.parent == PurePosixPath("/var/lib/vigie")


def test_pods_run_their_images_as_built() -> None:
    """The image of each service (deploy/images) agrees with the pod that runs it: same user,
    the `vigie` entrypoint, and exactly its declared volumes mounted writable."""
    for overlay in OVERLAYS:
        for name, pod in _pods(overlay).items():
            image = read_image(name)
            context = pod["securityContext"]
            assert image.user == f"{context['runAsUser']}:{context['runAsGroup']}", name
            assert image.entrypoint == ["vigie"], name
            (container,) = pod["containers"]
            assert image.cmd == container["args"], name
            writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert writable == set(image.volumes), name
            assert image.env.get("VIGIE_ENV") == _config(overlay)["VIGIE_ENV"] == "production"


def _service_port(overlay: str, url: str) -> int:
    """The container port a cluster URL (http://<service>.<namespace>.svc[:port]) ends on."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    service_name, namespace, svc = parts.hostname.split(".")
    assert (namespace, svc) == ("vigie", "svc"), url
    service = _of_kind(overlay, "Service")[service_name]
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == (parts.port or 80)]
    (container,) = _pods(overlay)[service_name]["containers"]
    (target,) = [
        p["containerPort"] for p in container["ports"] if p.get("name") == port["targetPort"]
    ]
    return target  # type: ignore[no-any-return]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingest_checks_tokens_at_the_registry_service(overlay: str) -> None:
    assert "registry_internal_url" in IngestSettings.model_fields
    url = _config(overlay)["VIGIE_REGISTRY_INTERNAL_URL"]
    assert _service_port(overlay, url) == RegistrySettings().registry_port
    public = urlsplit(_config(overlay)["VIGIE_REGISTRY_PUBLIC_URL"])
    assert public.scheme == "https"


# --- Kafka principals ----------------------------------------------------------------------


def _volume_at(pod: dict[str, Any], container: dict[str, Any], folder: str) -> dict[str, Any]:
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
    assert mount.get("readOnly") is True, folder
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    return volume  # type: ignore[no-any-return]


def _principal(overlay: str, pod: dict[str, Any], container: dict[str, Any]) -> str:
    env = {e["name"]: e["value"] for e in container["env"]}
    props_path = PurePosixPath(env["VIGIE_KAFKA_CLIENT_PROPERTIES"])
    config = _volume_at(pod, container, str(props_path.parent))["configMap"]
    (item,) = config["items"]
    assert item["path"] == props_path.name
    text = _of_kind(overlay, "ConfigMap")[config["name"]]["data"][item["key"]]
    props = dict(line.split("=", 1) for line in text.splitlines() if line)
    assert props["security.protocol"] == "SASL_SSL"
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert "sasl.password" not in props
    assert props["bootstrap.servers"] == _config(overlay)["VIGIE_KAFKA_BOOTSTRAP_SERVERS"]
    ca = _volume_at(pod, container, str(PurePosixPath(props["ssl.ca.location"]).parent))
    assert ca["configMap"]["name"] == "vigie-kafka-ca"
    password_path = PurePosixPath(env["VIGIE_KAFKA_SASL_PASSWORD_FILE"])
    secret = _volume_at(pod, container, str(password_path.parent))["secret"]
    assert secret["defaultMode"] in (0o400, 0o600)
    assert secret["secretName"] == props["sasl.username"], "the principal's own Secret"
    return str(props["sasl.username"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_workload_connects_as_its_own_principal(overlay: str) -> None:
    principals = {}
    for name, pod in _pods(overlay).items():
        (container,) = pod["containers"]
        principals[name] = _principal(overlay, pod, container)
        # The migration needs the database, not Kafka: no Kafka credential is mounted.
        for init in pod.get("initContainers", []):
            assert "env" not in init and len(init["volumeMounts"]) == 1, name
    assert principals == SERVICES
    bootstrap = _config(overlay)["VIGIE_KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap == "vigie-kafka-bootstrap.kafka.svc:9093"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_file_setting_names_a_file_the_pod_mounts(overlay: str) -> None:
    for name, pod in _pods(overlay).items():
        for container in _containers(pod):
            for entry in container.get("env", []):
                if not entry["name"].endswith(("_FILE", "_PROPERTIES")):
                    continue
                path = PurePosixPath(entry["value"])
                volume = _volume_at(pod, container, str(path.parent))
                source = volume.get("secret") or volume["configMap"]
                assert [item["path"] for item in source["items"]] == [path.name], (name, path)
                if "secret" in volume:
                    assert volume["secret"]["defaultMode"] == 0o400, (name, path)
    # A production registry does not start without its audit signing key.
    (registry,) = _pods(overlay)["registry"]["containers"]
    env = {e["name"]: e["value"] for e in registry["env"]}
    assert "audit_signing_key_file" in RegistrySettings.model_fields
    key = PurePosixPath(env["VIGIE_AUDIT_SIGNING_KEY_FILE"])
    volume = _volume_at(_pods(overlay)["registry"], registry, str(key.parent))
    assert volume["secret"]["secretName"] == "vigie-audit-signing-key"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_kafka_password_in_environments(overlay: str) -> None:
    for name, pod in _pods(overlay).items():
        for container in _containers(pod):
            for entry in container.get("env", []):
                assert "valueFrom" not in entry, name
                if "PASSWORD" in entry["name"]:
                    assert entry["name"].endswith("_FILE"), name
    for key in _config(overlay):
        assert "PASSWORD" not in key and "SASL" not in key


def _strimzi_acls(overlay: str) -> dict[str, set[tuple[str, str, str, str]]]:
    users: dict[str, set[tuple[str, str, str, str]]] = {}
    for name, user in _of_kind(overlay, "KafkaUser").items():
        assert user["metadata"]["labels"] == {"strimzi.io/cluster": "vigie"}
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        acls = users.setdefault(name, set())
        authorization = user["spec"].get("authorization")
        if authorization is None:
            continue
        assert authorization["type"] == "simple"
        for acl in authorization["acls"]:
            resource = acl["resource"]
            assert acl.get("host", "*") == "*"
            assert acl.get("type", "allow") == "allow"
            for operation in acl["operations"]:
                acls.add(
                    (
                        resource["type"],
                        resource.get("name", "kafka-cluster"),
                        resource.get("patternType", "literal"),
                        operation,
                    )
                )
    return users


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_strimzi_users_mirror_topic_acls(overlay: str) -> None:
    words = {"IDEMPOTENT_WRITE": "IdempotentWrite", "DESCRIBE_CONFIGS": "DescribeConfigs"}
    expected: dict[str, set[tuple[str, str, str, str]]] = {p: set() for p in SERVICE_PRINCIPALS}
    for acl in topic_acls(TopicNames()):
        pattern = acl.resource_pattern
        operation = acl.operation.name
        expected[acl.principal.removeprefix("User:")].add(
            (
                pattern.resource_type.name.lower(),
                pattern.resource_name,
                "prefix" if pattern.pattern_type.name == "PREFIXED" else "literal",
                words.get(operation, operation.capitalize()),
            )
        )
    users = _strimzi_acls(overlay)
    # The operator is a super user (no ACL); every service has exactly topic_acls' ACLs.
    assert users.pop(ADMIN) == set()
    assert users == expected


# --- Kafka topics --------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_carry_the_settings_of_the_code(overlay: str) -> None:
    config = _config(overlay)
    replicas = int(config["VIGIE_KAFKA_REPLICATION_FACTOR"])
    min_insync = config["VIGIE_KAFKA_MIN_INSYNC_REPLICAS"]
    assert 1 <= int(min_insync) <= replicas
    # What `vigie topics` (vigie.kafka.ensure_topics) creates: each topic and its dead letters.
    expected = {}
    for spec in ALL:
        settings = {**spec.config, "min.insync.replicas": min_insync}
        expected[spec.name] = (spec.partitions, replicas, settings)
        expected[spec.name + DLQ_SUFFIX] = (1, replicas, settings)
    topics = _of_kind(overlay, "KafkaTopic")
    found = {}
    for name, topic in topics.items():
        assert topic["metadata"]["labels"] == {"strimzi.io/cluster": "vigie"}
        assert topic["spec"].get("topicName", name) == name
        spec = topic["spec"]
        found[name] = (spec["partitions"], spec["replicas"], spec["config"])
    assert found == expected
    assert all(isinstance(v, str) for _, _, c in found.values() for v in c.values())


def test_prod_keeps_three_copies_and_two_in_sync() -> None:
    config = _config("prod")
    assert (
        config["VIGIE_KAFKA_REPLICATION_FACTOR"],
        config["VIGIE_KAFKA_MIN_INSYNC_REPLICAS"],
    ) == ("3", "2")


# --- network policies ----------------------------------------------------------------------


def _labels(selector: dict[str, Any], pods: dict[str, dict[str, str]]) -> set[str]:
    """The vigie pods (by app) a podSelector selects."""
    match = selector.get("matchLabels", {})
    chosen = set()
    for app, labels in pods.items():
        ok = all(labels.get(k) == v for k, v in match.items())
        for expression in selector.get("matchExpressions", []):
            assert expression["operator"] == "In"
            ok = ok and labels.get(expression["key"]) in expression["values"]
        if ok:
            chosen.add(app)
    return chosen


def _peers(peer: dict[str, Any], pods: dict[str, dict[str, str]]) -> set[str]:
    assert "ipBlock" not in peer, "peers are named by namespace and labels"
    if "namespaceSelector" not in peer:
        return _labels(peer["podSelector"], pods)
    assert set(peer["namespaceSelector"]) == {"matchLabels"}
    (namespace,) = peer["namespaceSelector"]["matchLabels"].values()
    labels = tuple(sorted(peer.get("podSelector", {}).get("matchLabels", {}).items()))
    assert (namespace, labels) in NAMED_PEERS, (namespace, labels)
    return {NAMED_PEERS[(namespace, labels)]}


def _allowed_paths(overlay: str) -> set[tuple[str, str, str, int]]:
    """The (from, to, protocol, port) paths the overlay's policies let through: a path within
    the namespace needs both the sender's egress and the receiver's ingress, since every pod is
    selected by the default deny in both directions."""
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in _of_kind(overlay, "Deployment").items()
    }
    policies = _of_kind(overlay, "NetworkPolicy")
    deny = policies.pop("default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress: set[tuple[str, str, str, int]] = set()
    ingress: set[tuple[str, str, str, int]] = set()
    for policy in policies.values():
        spec = policy["spec"]
        selected = _labels(spec["podSelector"], pods)
        for direction, rules, found in (
            ("Egress", "egress", egress),
            ("Ingress", "ingress", ingress),
        ):
            for rule in spec.get(rules, []):
                assert direction in spec["policyTypes"]
                peers = set().union(
                    *(_peers(p, pods) for p in rule["to" if rules == "egress" else "from"])
                )
                for port in rule["ports"]:
                    assert isinstance(port["port"], int), "numeric ports: they are compared"
                    for pod in selected:
                        for peer in peers:
                            pair = (pod, peer) if rules == "egress" else (peer, pod)
                            found.add((*pair, port["protocol"], port["port"]))
    paths = set()
    for path in egress | ingress:
        source, destination = path[:2]
        inside = source in pods, destination in pods
        if all(inside):
            if path in egress and path in ingress:
                paths.add(path)
        elif (path in egress) == inside[0] and (path in ingress) == inside[1]:
            paths.add(path)
    return paths


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_only_the_paths_of_the_architecture(overlay: str) -> None:
    assert _allowed_paths(overlay) == PATHS


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policy_ports_are_the_ports_the_services_listen_on(overlay: str) -> None:
    listening = {
        (name, port["containerPort"])
        for name, pod in _pods(overlay).items()
        for port in pod["containers"][0]["ports"]
    }
    inbound = {(dst, port) for _, dst, _, port in PATHS if dst in SERVICES}
    assert inbound <= listening
    # A Service of the namespace forwards to a port an allowed path reaches.
    assert _service_port(overlay, "http://ingest.vigie.svc") == IngestSettings().ingest_port


# --- production: disruption budgets and the Ingress ----------------------------------------


def test_prod_has_a_disruption_budget_per_service() -> None:
    deployments = _of_kind("prod", "Deployment")
    budgets = _of_kind("prod", "PodDisruptionBudget")
    for name, deployment in deployments.items():
        (budget,) = [
            b
            for b in budgets.values()
            if b["spec"]["selector"]
            == {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}
        ]
        assert budget["spec"]["maxUnavailable"] < deployment["spec"]["replicas"], name
    assert len(budgets) == len(deployments)


def test_prod_runs_more_replicas_than_dev() -> None:
    prod, dev = _of_kind("prod", "Deployment"), _of_kind("dev", "Deployment")
    for name in SERVICES:
        assert prod[name]["spec"]["replicas"] >= 2 > dev[name]["spec"]["replicas"], name
    partitions = {spec.name: spec.partitions for spec in ALL}
    assert prod["triage"]["spec"]["replicas"] <= partitions["vigie.reports.v1"]
    assert not _of_kind("dev", "Ingress") and not _of_kind("dev", "PodDisruptionBudget")


def test_prod_ingress_serves_both_apis_over_tls_only() -> None:
    (ingress,) = _of_kind("prod", "Ingress").values()
    spec = ingress["spec"]
    hosts = {rule["host"]: rule for rule in spec["rules"]}
    (tls,) = spec["tls"]
    assert set(tls["hosts"]) == set(hosts) and tls["secretName"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    backends = {}
    for host, rule in hosts.items():
        (path,) = rule["http"]["paths"]
        backend = path["backend"]["service"]
        backends[host] = _service_port("prod", f"http://{backend['name']}.vigie.svc")
        assert backend["port"] == {"name": "http"}
    registry_host = urlsplit(_config("prod")["VIGIE_REGISTRY_PUBLIC_URL"]).hostname
    assert backends.pop(registry_host) == RegistrySettings().registry_port
    assert list(backends.values()) == [IngestSettings().ingest_port]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_registry_mounts_the_database_secret(overlay: str) -> None:
    """The database's URL and password are in a Secret of their own that the registry's pods
    alone read (its init container included); the shared Secret holds the pseudonym key."""
    readers = set()
    for name, pod in _pods(overlay).items():
        for container in _containers(pod):
            sources = container.get("envFrom", [])
            if {"secretRef": {"name": "vigie-database"}} in sources:
                readers.add((name, container["name"]))
    assert readers == {("registry", "migrate"), ("registry", "registry")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingest_reads_client_addresses_from_private_proxies_only(overlay: str) -> None:
    """The rate limit is per client: behind the Ingress, uvicorn must take the address from
    X-Forwarded-For, trusting the pod network's proxies but never any sender ("*")."""
    (container,) = _containers(_pods(overlay)["ingest"])
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    trusted = env["FORWARDED_ALLOW_IPS"].split(",")
    assert "*" not in trusted
    for network in trusted:
        assert ipaddress.ip_network(network).is_private, network
