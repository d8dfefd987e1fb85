"""docs/prism-matrix.md cannot drift: its matrix section equals what a fresh
``examples/verify-prism.sh`` run produces (dates and free ports aside).

Needs Prism where the script installs it (``$PRISM_HOME``); ``.ci/run`` installs it from the
npm registry when missing and sets WEBHOOK_CONTRACTS_REQUIRE_PRISM=1, so in CI a missing Prism
fails instead of skipping. The run is deterministic (seed 1) and takes about 15 s.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRISM_VERSION = os.environ.get("PRISM_VERSION", "5.16.0")
PRISM_HOME = Path(os.environ.get("PRISM_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                  / "twilio-webhook-contracts" / f"prism-{PRISM_VERSION}")


def _doc_module():
    spec = importlib.util.spec_from_file_location("prism_matrix_doc", ROOT / "examples" / "prism_matrix_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_section_tools_find_and_replace_exactly_one_section():
    doc = _doc_module()
    page = "intro\n<!-- matrix:start -->\nold · 2026-01-01 · x\n<!-- matrix:end -->\nprose\n"
    fresh = doc.render_section("## Conformance matrix\n\nSeed `1` · 2027-02-02 · x http://127.0.0.1:4321\n### t\n", "9")
    assert fresh.startswith("### Matrix (Prism 9)") and "<port>" in fresh and "\n#### t" in fresh
    assert doc.replace_section(page, fresh).endswith("<!-- matrix:end -->\nprose\n")
    assert doc.differences(doc.replace_section(page, fresh), fresh) == []
    assert doc.differences(page, fresh)  # a different section is a difference
    with pytest.raises(ValueError):
        doc.section_of("no section here")


@pytest.mark.slow
def test_the_committed_prism_matrix_equals_a_fresh_run(tmp_path):
    prism = PRISM_HOME / "node_modules" / ".bin" / "prism"
    if not prism.exists() or shutil.which("node") is None:
        if os.environ.get("WEBHOOK_CONTRACTS_REQUIRE_PRISM"):
            pytest.fail(f"Prism is not installed at {prism} (.ci/run installs it)")
        pytest.skip(f"Prism is not installed at {prism} (examples/verify-prism.sh installs it)")
    out = tmp_path / "prism-verify"
    result = subprocess.run(["bash", str(ROOT / "examples" / "verify-prism.sh"), str(out)], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "PRISM_HOME": str(PRISM_HOME)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    doc = _doc_module()
    fresh = doc.render_section((out / "matrix.md").read_text(encoding="utf-8"), PRISM_VERSION)
    diff = doc.differences((ROOT / "docs" / "prism-matrix.md").read_text(encoding="utf-8"), fresh)
    assert diff == [], ("docs/prism-matrix.md differs from a fresh run; regenerate it with "
                        "examples/verify-prism.sh --update-docs\n" + "\n".join(diff[:80]))
