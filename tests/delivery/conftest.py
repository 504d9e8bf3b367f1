"""Shared fixtures of the delivery tests (tests/delivery/run.sh sets up the venv and the binaries)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STAND_INS = HERE / "stand-ins"
VENV_BIN = Path(sys.executable).parent

sys.path.insert(0, str(HERE))


def binary(variable: str, name: str) -> Path:
    """The binary named by `variable` (run.sh sets it), else the debug build's."""
    path = Path(os.environ.get(variable) or ROOT / ".build" / "debug" / name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build first (swift build) or set {variable}")
    return path


@pytest.fixture(scope="session")
def mywebsite_bin() -> Path:
    return binary("MYWEBSITE_BIN", "mywebsite")


@pytest.fixture(scope="session")
def mywebsite_data_bin() -> Path:
    return binary("MYWEBSITE_DATA_BIN", "mywebsite-data")


@pytest.fixture
def workdir():
    """A temporary directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="mywebsite-delivery-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def module_workdir():
    path = Path(tempfile.mkdtemp(prefix="mywebsite-delivery-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment with the venv's tools first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env
