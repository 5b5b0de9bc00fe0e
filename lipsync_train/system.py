"""The Debian packages the project needs (``requirements/apt.txt``) and what is installed.

Standard library only: ``build.py`` imports it before any virtual environment exists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

APT_LIST = Path(__file__).resolve().parents[1] / "requirements" / "apt.txt"


def apt_packages() -> list[str]:
    """The package names ``requirements/apt.txt`` asks for, comments and blank lines left out."""
    names = [line.split("#")[0].strip() for line in APT_LIST.read_text().splitlines()]
    return [name for name in names if name]


def installed_versions(packages: list[str]) -> dict[str, str]:
    """The installed version of each of ``packages``; those not installed are left out."""
    query = ["dpkg-query", "-W", "-f=${db:Status-Abbrev}${Package} ${Version}\\n", *packages]
    listed = subprocess.run(query, capture_output=True, text=True).stdout  # unknown names: not listed
    rows = [line.split() for line in listed.splitlines()]
    return {row[1]: row[2] for row in rows if len(row) == 3 and row[0] == "ii"}
