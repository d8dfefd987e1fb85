"""Installed size and import time of a fresh install (issue 17: dependencies = imports).

Builds a wheel of the checkout, installs it into a new virtual environment with its
runtime dependencies only, then prints the size of everything installed besides pip
and setuptools, and the median wall time of three imports in a fresh interpreter:
the package (what ``pytest`` pays for the plugin), the validation detail engine
(what a failing response costs on first use), and ``cli --help``.

    python benchmarks/bench_footprint.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "__pycache__", "distutils-precedence.pth")

IMPORTS = {
    "import twilio_webhook_contracts.pytest_plugin": "import twilio_webhook_contracts.pytest_plugin",
    "validation detail engine": ("from twilio_webhook_contracts.validation import validate_response;"
                                 "assert validate_response('FetchConfigurationWebhook', 200,"
                                 " {'Content-Type': 'application/json'}, b'{\"url\": 1}')"),
    "webhook-contracts --help": "import sys; sys.argv=['x','--help'];"
                                "from twilio_webhook_contracts.cli import main; main(['--help'])",
}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="footprint-"))
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], check=True)
    env = work / "venv"
    venv.create(env, with_pip=True, clear=True)
    python = env / "bin" / "python"
    wheel = next(dist.glob("twilio_webhook_contracts-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    site = next((env / "lib").glob("python3*/site-packages"))
    total = sum(_size(p) if p.is_dir() else p.stat().st_size for p in site.iterdir() if not p.name.startswith(SKIP))
    dists = sorted(p.name.split("-")[0] for p in site.glob("*.dist-info") if not p.name.startswith(SKIP))
    print(f"installed: {len(dists)} distributions, {total / 1e6:.1f} MB ({', '.join(dists)})")
    for label, code in IMPORTS.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([str(python), "-c", code], check=True, capture_output=True, cwd=work)
            times.append(time.perf_counter() - start)
        print(f"{label:44} {statistics.median(times) * 1000:6.0f} ms (median of 3, whole interpreter)")


if __name__ == "__main__":
    main()
