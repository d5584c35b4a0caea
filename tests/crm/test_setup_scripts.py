"""The set-up scripts behind `make run` stop with one line saying what to do."""

import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_port_in_use_is_one_clear_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run([ROOT / "scripts/check-port", str(port), "the CRM", "CRM_PORT"],
                              capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"Port {port} is already in use" in lines[0]
    assert "CRM_PORT" in lines[0]
    free = subprocess.run([ROOT / "scripts/check-port", str(port), "the CRM"],
                          capture_output=True, text=True)
    assert free.returncode == 0


def test_missing_python_310_is_one_clear_line(tmp_path):
    # Only the shell's own tools: no uv, no pyenv, no python3.10 on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    done = subprocess.run(["bash", ROOT / "scripts/find-python310"], capture_output=True,
                          text=True, env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Python 3.10 is required for the Rasa assistant (Rasa 3.6 supports only <3.11). "
        "Install it with: uv python install 3.10"]


def test_python_310_is_found_here():
    done = subprocess.run([ROOT / "scripts/find-python310"], capture_output=True, text=True)
    assert done.returncode == 0
    version = subprocess.run([done.stdout.strip(), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.10")
