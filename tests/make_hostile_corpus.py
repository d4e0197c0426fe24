"""Write the corpus of hostile bundles kept in tests/fixtures/hostile (each a few kB).

    .venv/bin/python tests/make_hostile_corpus.py

Each file is one attack on `qamtu verify`; test_fuzz_inputs.py checks that every one is refused with a
message, and the fuzz tests mutate a small genuine bundle around them.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hostile_zip import RawMember, deflated, raw_zip  # noqa: E402
from test_fuzz_inputs import BUNDLE  # noqa: E402

OUT = Path(__file__).parent / "fixtures" / "hostile"


def members(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    m = members(BUNDLE)
    decoy = raw_zip([deflated("inspection.json", b'{"id": "FORGED"}')])
    corpus = {
        "prepended-zip.zip": decoy + BUNDLE,
        "appended-bytes.zip": BUNDLE + b"\x00trailing",
        "declared-4GiB-member.zip": raw_zip([deflated(n, b) for n, b in m.items()]
                                            + [RawMember("documents/huge.pdf", b"\x03\x00", 0, 0xFFFFFFFE)]),
        "control-chars-in-name.zip": raw_zip([deflated(n, b) for n, b in m.items()]
                                             + [deflated("x\x1b[2K\r\x1b[32mOK\x1b[0m.pdf", b"%PDF")]),
        "duplicate-member.zip": raw_zip([deflated(n, b) for n, b in m.items()] + [deflated("inspection.json", b"{}")]),
        "manifest-is-a-list.zip": raw_zip([deflated(n, b) for n, b in {**m, "manifest.json": b"[]"}.items()]),
        "no-manifest.zip": raw_zip([deflated("inspection.json", b"{}")]),
        "not-a-zip.zip": b"%PDF-1.7 this is not a zip\n",
    }
    for name, blob in corpus.items():
        (OUT / name).write_bytes(blob)
        print(f"{name}: {len(blob)} bytes")
    (OUT / "README.md").write_text("Hostile bundles for `qamtu verify` (see tests/make_hostile_corpus.py; "
                                   + json.dumps(sorted(corpus)) + ").\n", encoding="utf-8")


if __name__ == "__main__":
    main()
