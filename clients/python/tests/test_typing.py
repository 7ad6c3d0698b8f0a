"""The package is typed: mypy checks it, and an application's use of it, without errors."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import firebreak


HERE = Path(__file__).resolve().parent


def test_py_typed_is_installed() -> None:
    assert (importlib.resources.files("firebreak") / "py.typed").is_file()


def test_mypy_accepts_the_package_and_typed_usage() -> None:
    pytest.importorskip("mypy")
    with tempfile.TemporaryDirectory() as cache:
        for target in (["-p", "firebreak"], [str(HERE / "typing" / "usage.py")]):
            done = subprocess.run(
                [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--cache-dir", cache, "--no-error-summary",
                 *target], capture_output=True, text=True, timeout=300, cwd=cache)
            assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_catches_a_misuse() -> None:
    """The check above can fail: a wrong type is an error."""
    pytest.importorskip("mypy")
    with tempfile.TemporaryDirectory() as folder:
        wrong = Path(folder) / "wrong.py"
        wrong.write_text("import firebreak\n\ndef f(fb: firebreak.Client) -> str:\n    return fb.search('docs', k='ten')\n")
        done = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "--cache-dir", folder + "/c",
                               str(wrong)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "arg-type" in done.stdout and "return-value" in done.stdout


def test_the_version_is_the_installed_distributions() -> None:
    import importlib.metadata

    assert importlib.metadata.version("firebreak") == firebreak.__version__


def test_the_client_does_not_need_numpy() -> None:
    code = ("import sys; sys.modules['numpy'] = None\n"
            "import firebreak\n"
            "doc = firebreak.NewDocument(id='a', text='t', embedding=(1, 2.5))\n"
            "assert doc.embedding == [1.0, 2.5] and firebreak.Client('http://127.0.0.1:9', 't').url\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
