"""ledger.verify must import with only the standard library and PyNaCl (tool builders embed it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCKER = """
import importlib.abc, sys
BLOCKED = {"sqlite3", "_sqlite3", "click", "sqlite_utils", "cryptography", "rfc8785"}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
import ledger.verify
from ledger.verify import verify_bundle, verify_checkpoint, verify_consistency_file, parse_policy
loaded = sorted({m.split(".")[0] for m in sys.modules} & BLOCKED)
assert not loaded, loaded
ALLOWED = {"ledger", "nacl", "_sodium", "_cffi_backend", "__main__"}
# start-up hooks of the environment itself (setuptools' .pth hack, editable-install finders)
startup = ("_distutils_hack", "__editable__")
outside = sorted(m for m in sys.modules if m.split(".")[0] not in sys.stdlib_module_names
                 and m.split(".")[0] not in ALLOWED and not m.startswith(startup))
print(",".join(outside))
"""


def test_verify_imports_without_sqlite_click_or_server_code():
    done = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # nothing beyond the standard library, PyNaCl (and its cffi backend) and ledger itself
    assert done.stdout.strip() == "", done.stdout


def test_pure_modules_do_not_import_storage():
    pure = ["merkle", "proof", "note", "checkpoint", "policy", "bundle", "canonical", "entry", "verify"]
    code = ("import sys\n" + "".join(f"import ledger.{m}\n" for m in pure)
            + "bad = [m for m in ('ledger.store', 'ledger.log', 'ledger.keys', 'sqlite3') if m in sys.modules]\n"
            + "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
