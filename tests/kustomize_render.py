"""A renderer of the kustomize features deploy/k8s uses, for tests on machines without kustomize.

Deliberately small: any kustomization field it does not implement fails the test instead of being
ignored, and test_k8s_manifests.py compares its output with `kubectl kustomize` where installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, cast

import yaml

Object = dict[str, Any]

# Kustomization fields implemented below; any other fails rather than be ignored.
_KUSTOMIZE_FIELDS: Final = {"apiVersion", "kind", "namespace", "labels", "resources", "images"}
_CLUSTER_SCOPED: Final = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def _yaml_documents(path: Path) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _set_image(container: Object, images: list[Object]) -> None:
    name, _, _ = str(container["image"]).partition(":")
    for image in images:
        if image["name"] == name:
            container["image"] = f"{image.get('newName', name)}:{image['newTag']}"


def _pod_spec(obj: Object) -> Object | None:
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return cast(Object, spec["template"]["spec"])
    return None


def render(directory: Path) -> list[Object]:
    """The objects `kustomize build directory` emits, for the fields in _KUSTOMIZE_FIELDS."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - _KUSTOMIZE_FIELDS
    assert not unknown, f"the test's renderer does not implement {sorted(unknown)}"
    objects: list[Object] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        objects += render(path) if path.is_dir() else _yaml_documents(path)
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        if "namespace" in kustomization and obj["kind"] not in _CLUSTER_SCOPED:
            metadata["namespace"] = kustomization["namespace"]
        for label in kustomization.get("labels", []):
            assert not label.get("includeSelectors"), "renderer: labels on metadata only"
            assert not label.get("includeTemplates"), "renderer: labels on metadata only"
            metadata.setdefault("labels", {}).update(label["pairs"])
        pod = _pod_spec(obj)
        for container in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
            _set_image(container, kustomization.get("images", []))
    return objects
