"""build.py: it refuses an environment install that cannot fit on disk, and finds missing Debian packages."""

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


def test_installed_versions_know_what_setup_installed_and_leave_out_the_rest():
    from lipsync_train.system import apt_packages, installed_versions

    wanted = apt_packages()
    assert "espeak-ng" in wanted and not any(name.startswith("#") or " " in name for name in wanted)
    versions = installed_versions([*wanted, "no-such-package-here"])
    assert set(versions) == set(wanted)  # build.py's setup installed every one; nothing else listed
    assert all(versions.values())
