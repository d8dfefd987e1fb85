"""Installing as a user would: from a checkout, a built wheel, a VCS URL; the release
artefacts; the declared dependencies against what runtime code imports; and a foreign
project whose own ``strategies``/``contract_tests`` must survive us (issue 17).

The slow tests build real virtual environments (dependencies come from the package
index, a warm pip cache makes that a few seconds) and run the installed copy from a
directory outside the checkout, so nothing is found through the source tree.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

CHECK = """
import sys
from twilio_webhook_contracts.spec import default_spec
import twilio_webhook_contracts, twilio_webhook_contracts.strategies, twilio_webhook_contracts.contract_tests
from twilio_webhook_contracts.strategies import invalid_requests, valid_requests
spec = default_spec()
assert "site-packages" in str(spec.directory), spec.directory
assert "site-packages" in twilio_webhook_contracts.__file__
print(len(spec.operations), " ".join(sorted(spec.operations)))
"""

#: distributions whose ``import`` name differs from the distribution name
_RUNTIME_ROOTS = ("twilio_webhook_contracts", "strategies", "contract_tests")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def _runtime_imports() -> dict[str, set[str]]:
    """Top-level third-party modules imported by the shipped code, with the files importing them."""
    own = {"twilio_webhook_contracts", "strategies", "contract_tests"}
    found: dict[str, set[str]] = {}
    for folder in _RUNTIME_ROOTS:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in own and top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_runtime_dependencies_are_exactly_what_runtime_code_imports():
    imports = _runtime_imports()
    oracle_only = {module for module, files in imports.items() if files == {"twilio_webhook_contracts/oracle.py"}}
    distributions = packages_distributions()
    needed = {_norm(distributions[module][0]) for module in imports if module not in oracle_only}
    declared = _requirement_names(PYPROJECT["project"]["dependencies"])
    assert declared == needed, f"declared but not imported: {declared - needed}; imported but not declared: {needed - declared}"
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {_norm(distributions[module][0]) for module in oracle_only} == _requirement_names(extras["oracle"])
    # what the tests import beyond the runtime lives in the test extra
    assert {"openapi-core", "werkzeug", "lxml", "twine"} <= _requirement_names(extras["test"])


def test_version_comes_from_one_place():
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "twilio_webhook_contracts.__version__"
    source = (ROOT / "twilio_webhook_contracts" / "__init__.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^__version__ = ", source, re.M)) == 1


def _venv(where: Path) -> Path:
    venv.create(where, with_pip=True)
    return where / "bin" / "python"


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS")
            and not k.startswith("PYTEST_XDIST")}


def _run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=_environ(), capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _assert_installed_copy_works(python: Path, cwd: Path) -> None:
    count, names = _run([python, "-c", CHECK], cwd).stdout.split(" ", 1)
    assert count == "9"
    assert "CreateChannelWebhook" in names and "UpdateServiceWebhookConfiguration" in names
    assert "webhook-contracts" in _run([python, "-m", "twilio_webhook_contracts", "--help"], cwd).stdout
    assert "webhook-contracts" in _run([python.parent / "webhook-contracts", "--help"], cwd).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """sdist and wheel, the wheel built from the sdist (so the sdist is complete)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], ROOT)
    return out


@pytest.mark.slow
def test_release_artefacts_pass_twine_check_and_carry_the_version(built):
    from twilio_webhook_contracts import __version__

    sdists, wheels = list(built.glob("*.tar.gz")), list(built.glob("*.whl"))
    assert [p.name for p in sdists] == [f"twilio_webhook_contracts-{__version__}.tar.gz"]
    assert [p.name for p in wheels] == [f"twilio_webhook_contracts-{__version__}-py3-none-any.whl"]
    check = _run([sys.executable, "-m", "twine", "check", "--strict", *sdists, *wheels], built)
    assert check.stdout.count("PASSED") == 2, check.stdout
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"twilio_webhook_contracts-{__version__}.dist-info/METADATA").decode()
    assert not any(name.startswith(("strategies/", "contract_tests/", "openapi/")) for name in names), "top-level packages"
    fragments = {p.name for p in (ROOT / "openapi").glob("*.yaml")}
    assert fragments and {f"twilio_webhook_contracts/openapi/{name}" for name in fragments} <= set(names)
    assert f"Version: {__version__}" in metadata
    assert "Requires-Dist: openapi-core" in metadata and "extra == \"oracle\"" in metadata


def _tiny_distribution(where: Path) -> Path:
    """A foreign distribution shipping top-level ``strategies/`` and ``contract_tests/`` packages."""
    project = where / "foreign"
    for package in ("strategies", "contract_tests"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"OWNER = 'foreign-{package}'\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "foreign-strategies"\nversion = "1.0"\n'
        '[tool.setuptools]\npackages = ["strategies", "contract_tests"]\n')
    out = where / "foreign-dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, project], where)
    return next(out.glob("foreign_strategies-*.whl"))


def _digests(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for package in ("strategies", "contract_tests") for p in sorted((site / package).rglob("*.py"))}


USER_CONFTEST = """
import strategies  # the user's own module, imported before our plugin's suite is collected
assert strategies.OWNER == "user", strategies
"""


@pytest.mark.slow
def test_foreign_packages_survive_install_and_uninstall_and_a_user_strategies_module_runs_the_suite(tmp_path, built):
    wheel = next(built.glob("*.whl"))
    python = _venv(tmp_path / "venv")
    _run([python, "-m", "pip", "install", "-q", _tiny_distribution(tmp_path)], tmp_path)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip())
    before = _digests(site)
    assert len(before) == 2

    _run([python, "-m", "pip", "install", "-q", wheel], tmp_path)
    assert _digests(site) == before, "our install changed another distribution's files"
    _run([python, "-m", "pip", "check"], tmp_path)
    _assert_installed_copy_works(python, tmp_path)
    owners = _run([python, "-c", "import strategies, contract_tests; print(strategies.OWNER, contract_tests.OWNER)"], tmp_path)
    assert owners.stdout.split() == ["foreign-strategies", "foreign-contract_tests"]

    # a project with its own strategies.py (shadowing the foreign one, as a project's modules do) runs our suite
    project = tmp_path / "project"
    project.mkdir()
    (project / "strategies.py").write_text("OWNER = 'user'\ndef my_strategy():\n    return 1\n")
    (project / "conftest.py").write_text(USER_CONFTEST)
    suite = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs", "twilio_webhook_contracts.contract_tests",
                  "--contract-max-examples", "2", "--contract-seed", "1"], project)
    assert re.search(r"\b\d+ passed", suite.stdout) and "failed" not in suite.stdout and "error" not in suite.stdout.lower()

    _run([python, "-m", "pip", "uninstall", "-y", "-q", "twilio-webhook-contracts"], tmp_path)
    assert _digests(site) == before, "our uninstall removed another distribution's files"
    _run([python, "-m", "pip", "check"], tmp_path)
    owners = _run([python, "-c", "import strategies, contract_tests; print(strategies.OWNER, contract_tests.OWNER)"], tmp_path)
    assert owners.stdout.split() == ["foreign-strategies", "foreign-contract_tests"]


@pytest.mark.slow
def test_install_lines_from_a_checkout_and_a_vcs_url_work_in_a_fresh_venv(tmp_path):
    """The README's lines: ``pip install .`` in a checkout and ``pip install git+file://…``
    (the same resolver path as ``git+https://github.com/…``, offline). The VCS line installs
    the checkout's committed HEAD: CI runs on a clean clone, where the two are the same."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout: no VCS URL to install from")
    python = _venv(tmp_path / "venv")
    _run([python, "-m", "pip", "install", "-q", "."], ROOT)
    _assert_installed_copy_works(python, tmp_path)
    _run([python, "-m", "pip", "uninstall", "-y", "-q", "twilio-webhook-contracts"], tmp_path)
    assert _run([python, "-c", "import importlib.util as u; print(u.find_spec('twilio_webhook_contracts'))"],
                tmp_path).stdout.strip() == "None"
    _run([python, "-m", "pip", "install", "-q", f"git+file://{ROOT}"], tmp_path)
    _assert_installed_copy_works(python, tmp_path)
