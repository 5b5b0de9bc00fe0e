"""build.py refuses to start an environment install that cannot fit on disk."""

import shutil
from collections import namedtuple

import pytest

import build

Usage = namedtuple("Usage", "total used free")


def test_too_little_disk_stops_before_pip_with_the_numbers(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "disk_usage", lambda place: Usage(100e9, 99.5e9, 0.5e9))
    with pytest.raises(SystemExit) as stop:
        build.ensure_disk_space("blender50", tmp_path / ".venv")
    message = str(stop.value)
    assert "blender50" in message and "0.5 GB free" in message and "4.2 GB needed" in message


def test_enough_disk_passes(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "disk_usage", lambda place: Usage(100e9, 50e9, 50e9))
    build.ensure_disk_space("py311", tmp_path / ".venv")
    assert (tmp_path / ".venv").is_dir()


def test_every_environment_has_a_size():
    assert set(build.ENV_SIZE_GB) == set(build.ENVS)
