"""The installed pytest plugin, run as another project would: a fresh pytest in a temp dir, none of our code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent / "plugin_example" / "test_with_fixture.py"


def pytest_in(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "."],
                          cwd=directory, capture_output=True, text=True, timeout=120)


def test_the_example_passes_with_only_the_fixture(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    result = pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


def test_unrelated_runs_do_not_start_or_import_the_mock(tmp_path):
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\n\ndef test_plain():\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('mockserver'))\n"
        "    assert loaded == ['mockserver', 'mockserver.pytest_plugin']\n")
    result = pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
