"""The Ansible collections the deploy jobs install (deployments/ansible/requirements.yml) are pinned to exact
versions, and those are the versions the delivery tests run the role with (bundled by the pinned `ansible`)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import yaml

from conftest import ROOT

REQUIREMENTS = ROOT / "deployments/ansible/requirements.yml"


def installed_version(name: str) -> str:
    namespace, collection = name.split(".")
    spec = importlib.util.find_spec(f"ansible_collections.{namespace}.{collection}")
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed beside the tests"
    manifest = Path(list(spec.submodule_search_locations)[0]) / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


def test_collections_are_pinned_to_the_versions_the_tests_use():
    collections = yaml.safe_load(REQUIREMENTS.read_text())["collections"]
    assert {c["name"] for c in collections} == {"community.docker", "community.crypto"}
    for collection in collections:
        version = str(collection["version"])
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{collection['name']}: '{version}' is not an exact version"
        assert version == installed_version(collection["name"]), (
            f"{collection['name']}: requirements.yml pins {version}, the tests run {installed_version(collection['name'])}")
