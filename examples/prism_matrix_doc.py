"""The generated section of docs/prism-matrix.md, from a ``webhook-contracts verify`` markdown matrix.

    python examples/prism_matrix_doc.py MATRIX_MD DOC PRISM_VERSION            # rewrite the section
    python examples/prism_matrix_doc.py MATRIX_MD DOC PRISM_VERSION --check    # exit 1 (with a diff) if it differs

``examples/verify-prism.sh --update-docs`` calls the first form; tests/test_prism_doc.py calls
:func:`differences` on a fresh run, so the committed page cannot drift from what ``verify``
produces. Free ports and the date of the run are the only parts allowed to differ.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

START, END = "<!-- matrix:start -->\n", "<!-- matrix:end -->"
_SECTION = re.compile(re.escape(START) + r"(.*?)" + re.escape(END), re.S)
_DATE = re.compile(r"(?<=· )\d{4}-\d\d-\d\d(?= ·)")


def render_section(matrix_markdown: str, prism_version: str) -> str:
    """The section as the page shows it: headings one level down, ports masked."""
    text = matrix_markdown.replace("\n### ", "\n#### ")
    text = text.replace("## Conformance matrix", f"### Matrix (Prism {prism_version})", 1)
    return re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:<port>", text)


def section_of(doc: str) -> str:
    match = _SECTION.search(doc)
    if match is None:
        raise ValueError("docs/prism-matrix.md has no <!-- matrix:start --> ... <!-- matrix:end --> section")
    return match.group(1)


def replace_section(doc: str, section: str) -> str:
    section_of(doc)  # raises when there is none
    return _SECTION.sub(lambda m: START + section + END, doc, count=1)


def differences(committed_doc: str, fresh_section: str) -> list[str]:
    """A unified diff of the committed section against a fresh one (dates aside); empty when equal."""
    old = _DATE.sub("<date>", section_of(committed_doc)).splitlines()
    new = _DATE.sub("<date>", fresh_section).splitlines()
    return list(difflib.unified_diff(old, new, "docs/prism-matrix.md (committed)", "fresh verify run", lineterm="", n=1))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    matrix, doc, version = [arg for arg in argv if arg != "--check"]
    fresh = render_section(Path(matrix).read_text(encoding="utf-8"), version)
    text = Path(doc).read_text(encoding="utf-8")
    if check:
        diff = differences(text, fresh)
        print("\n".join(diff) if diff else f"{doc}: the matrix matches a fresh run")
        return 1 if diff else 0
    Path(doc).write_text(replace_section(text, fresh), encoding="utf-8")
    print(f"== updated {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
