"""Renders the Kustomize overlays of deploy/kubernetes as `kubectl kustomize` does, in Python.

Debian ships no kustomize recent enough and the tests must run without one, so this renderer
implements the part of Kustomize that deploy/kubernetes uses, and refuses the rest loudly: a
kustomization's `resources` (files, or directories holding a kustomization), `images` (name,
newName, newTag), `replicas` (Deployments) and `patches` given inline as JSON 6902 operations
(add, replace, remove) with a `target` selected by group, version, kind and name. Reference:
https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/ (Apache-2.0).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

_SUPPORTED = {"apiVersion", "kind", "resources", "images", "replicas", "patches"}


def build(directory: Path) -> list[dict[str, Any]]:
    """The resources the kustomization in ``directory`` renders to."""
    (kustomization,) = _documents(directory / "kustomization.yaml")
    unknown = set(kustomization) - _SUPPORTED
    assert not unknown, f"{directory}: kustomization fields this renderer lacks: {unknown}"
    assert kustomization.get("kind", "Kustomization") == "Kustomization"
    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources.extend(build(path))
        else:
            assert path.is_relative_to(directory.resolve()), f"{entry}: outside {directory}"
            resources.extend(_documents(path))
    for patch in kustomization.get("patches", []):
        _apply_patch(resources, patch)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    for replicas in kustomization.get("replicas", []):
        _set_replicas(resources, replicas)
    keys = [(r["apiVersion"].split("/")[0], r["kind"], _namespace(r), _name(r)) for r in resources]
    assert len(keys) == len(set(keys)), f"{directory}: a resource is defined twice"
    return resources


def _documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [copy.deepcopy(doc) for doc in yaml.safe_load_all(stream) if doc]


def _name(resource: dict[str, Any]) -> str:
    return str(resource["metadata"]["name"])


def _namespace(resource: dict[str, Any]) -> str:
    return str(resource["metadata"].get("namespace", ""))


def _selected(resource: dict[str, Any], target: dict[str, str]) -> bool:
    unknown = set(target) - {"group", "version", "kind", "name"}
    assert not unknown, f"patch target fields this renderer lacks: {unknown}"
    group, _, version = resource["apiVersion"].rpartition("/")
    wanted = {"group": group, "version": version, "kind": resource["kind"]}
    if any(key in target and target[key] != value for key, value in wanted.items()):
        return False
    # Kustomize reads a target's name as an anchored regular expression.
    return "name" not in target or re.fullmatch(target["name"], _name(resource)) is not None


def _apply_patch(resources: list[dict[str, Any]], patch: dict[str, Any]) -> None:
    assert set(patch) == {"target", "patch"}, f"only inline patches with a target: {patch}"
    operations = yaml.safe_load(patch["patch"])
    assert isinstance(operations, list), "only JSON 6902 patches (a list of operations)"
    selected = [r for r in resources if _selected(r, patch["target"])]
    assert selected, f"patch target matches nothing: {patch['target']}"
    for resource in selected:
        for operation in operations:
            _apply_operation(resource, operation)


def _apply_operation(document: dict[str, Any], operation: dict[str, Any]) -> None:
    op, pointer = operation["op"], operation["path"]
    assert op in ("add", "replace", "remove"), f"JSON patch operation {op!r} unsupported"
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, copy.deepcopy(operation["value"]))
        elif op == "replace":
            node[index] = copy.deepcopy(operation["value"])
        else:
            del node[index]
        return
    assert op == "add" or last in node, f"{pointer}: nothing to {op}"
    if op == "remove":
        del node[last]
    else:
        node[last] = copy.deepcopy(operation["value"])


def _set_image(resources: list[dict[str, Any]], image: dict[str, str]) -> None:
    unknown = set(image) - {"name", "newName", "newTag"}
    assert not unknown, f"image fields this renderer lacks: {unknown}"
    found = False
    for resource in resources:
        spec = resource.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*spec.get("containers", []), *spec.get("initContainers", [])]:
            name, tag = _split_image(container["image"])
            if name != image["name"]:
                continue
            found = True
            name = image.get("newName", name)
            tag = image.get("newTag", tag)
            container["image"] = f"{name}:{tag}" if tag else name
    assert found, f"no container runs image {image['name']}"


def _split_image(reference: str) -> tuple[str, str]:
    assert "@" not in reference, "digests are not handled"
    name, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:  # no tag, or the colon was a registry's port
        return reference, ""
    return name, tag


def _set_replicas(resources: list[dict[str, Any]], replicas: dict[str, Any]) -> None:
    (deployment,) = [
        r for r in resources if r["kind"] == "Deployment" and _name(r) == replicas["name"]
    ]
    deployment["spec"]["replicas"] = replicas["count"]
