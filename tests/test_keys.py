"""Key files (ledger/keys.py) against specs/keys.md and specs/vectors/keys.json."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import nacl.pwhash
import nacl.secret
import pytest

from ledger import keys as K
from ledger.errors import BadKey, InvalidInput, MalformedError, NotFound, StorageError
from ledger.note import CosignatureSigner, parse_vkey

VECTORS = json.loads((Path(__file__).parent.parent / "specs" / "vectors" / "keys.json").read_text("utf-8"))
ERRORS = {"MalformedError": MalformedError, "BadKey": BadKey}
FAST_KDF = K.KdfParams(1, 8192)  # libsodium's minimum: tests only


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- vectors ----------------------------------------------------------------------------------


def test_go_skey_loads_and_gives_its_vkey(tmp_path):
    go = VECTORS["go_example"]
    signer = K.load_signer(write(tmp_path / "peter.key", go["skey"] + "\n"))
    assert signer.vkey == go["vkey"] and signer.skey == go["skey"]
    assert signer.key_id.hex() == go["key_id_hex"] and signer.public_key.hex() == go["public_key_hex"]
    verifier = K.load_verifier(go["vkey"])
    assert verifier.verify(b"message\n", signer.sign(b"message\n"))


def test_plain_vector(tmp_path):
    plain = VECTORS["plain"]
    signer = K.load_signer(write(tmp_path / "k", plain["file"]))
    assert signer.vkey == plain["vkey"]
    assert signer.skey + "\n" == plain["file"]
    assert K.load_verifier(write(tmp_path / "k.pub", plain["public_file"])).vkey == plain["vkey"]


def test_encrypted_vector_follows_the_documented_recipe(tmp_path):
    """Recompute the vector from specs/keys.md with plain PyNaCl calls, not ledger.keys."""
    vector = VECTORS["encrypted"]
    salt, nonce, seed = (bytes.fromhex(vector[k]) for k in ("salt_hex", "nonce_hex", "seed_hex"))
    key = nacl.pwhash.argon2id.kdf(32, vector["passphrase"].encode("utf-8"), salt, opslimit=vector["opslimit"], memlimit=vector["memlimit"])
    assert key.hex() == vector["derived_key_hex"]
    sealed = nacl.secret.SecretBox(key).encrypt(seed, nonce)
    lines = vector["file"].split("\n")
    assert lines == [
        "pactlog-encrypted-key/v1",
        f"vkey {vector['vkey']}",
        f"argon2id {vector['opslimit']} {vector['memlimit']}",
        f"salt {K.b64encode(salt)}",
        f"box {K.b64encode(bytes(sealed))}",
        "",
    ]


@pytest.mark.parametrize("which", ["passphrase", "passphrase_nfd"])
def test_encrypted_vector_loads(tmp_path, which):
    vector = VECTORS["encrypted"]
    assert vector["passphrase"] != vector["passphrase_nfd"]  # NFC vs NFD spelling of the same text
    signer = K.load_signer(write(tmp_path / "k", vector["file"]), vector[which])
    assert signer.vkey == vector["vkey"]


@pytest.mark.parametrize("vector", VECTORS["invalid_private"], ids=lambda v: v["name"])
def test_invalid_private_key_files(tmp_path, vector):
    path = write(tmp_path / "key", vector["file"])
    with pytest.raises(ERRORS[vector["error"]]) as caught:
        K.load_signer(path, vector["passphrase"])
    assert type(caught.value) is ERRORS[vector["error"]]
    assert caught.value.reason == vector["reason"]
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("vector", VECTORS["invalid_public"], ids=lambda v: v["name"])
def test_invalid_public_key_files(tmp_path, vector):
    path = write(tmp_path / "key.pub", vector["file"])
    with pytest.raises(ERRORS[vector["error"]]) as caught:
        K.load_verifier(str(path))
    assert caught.value.reason == vector["reason"]


def test_passphrase_required_hint_names_the_environment_variable(tmp_path):
    with pytest.raises(BadKey) as caught:
        K.load_signer(write(tmp_path / "k", VECTORS["encrypted"]["file"]))
    assert "PACTLOG_PASSPHRASE" in caught.value.hint


# --- generating -------------------------------------------------------------------------------


def test_generate_plain_key_pair(tmp_path):
    path = tmp_path / "log.key"
    signer = K.generate_key_file(path, "example.com/log")
    assert mode_of(path) == 0o600
    assert path.read_text() == signer.skey + "\n"
    assert (tmp_path / "log.key.pub").read_text() == signer.vkey + "\n"
    assert K.load_signer(path).vkey == signer.vkey
    assert K.load_verifier(str(path) + ".pub") == parse_vkey(signer.vkey)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.key", "log.key.pub"]  # no temporary left


def test_generate_encrypted_key_pair(tmp_path):
    path = tmp_path / "enc.key"
    signer = K.generate_key_file(path, "alice.example", "s3cret", kdf=FAST_KDF)
    assert mode_of(path) == 0o600
    text = path.read_text()
    assert text.startswith("pactlog-encrypted-key/v1\n") and "PRIVATE" not in text
    assert f"vkey {signer.vkey}\n" in text and "argon2id 1 8192\n" in text
    assert K.load_signer(path, "s3cret").skey == signer.skey
    with pytest.raises(BadKey) as caught:
        K.load_signer(path, "S3cret")
    assert caught.value.reason == "wrong_passphrase"


def test_default_cost_is_libsodium_moderate(tmp_path):
    assert K.DEFAULT_KDF == K.KdfParams(3, 256 * 1024 * 1024)
    path = tmp_path / "k"
    signer = K.generate_key_file(path, "alice.example", "pw")
    assert "argon2id 3 268435456\n" in path.read_text()
    assert K.load_signer(path, "pw").vkey == signer.vkey


def test_existing_keys_can_be_stored_plain_or_encrypted(tmp_path):
    go = K.load_signer(write(tmp_path / "go.key", VECTORS["go_example"]["skey"] + "\n"))
    K.write_key_files(tmp_path / "plain", go)
    assert (tmp_path / "plain").read_text() == VECTORS["go_example"]["skey"] + "\n"  # Go reads this back
    assert mode_of(tmp_path / "plain") == 0o600
    K.write_key_files(tmp_path / "enc", go, "pw", kdf=FAST_KDF)
    assert K.load_signer(tmp_path / "enc", "pw").skey == go.skey
    assert K.load_verifier(str(tmp_path / "enc.pub")).vkey == go.vkey


def test_witness_keys_are_not_written_as_signing_keys(tmp_path):
    witness = CosignatureSigner("witness.example", bytes([4]) * 32)
    with pytest.raises(BadKey) as caught:
        K.write_key_files(tmp_path / "w", witness)
    assert caught.value.reason == "unsupported_key_type"
    assert list(tmp_path.iterdir()) == []


def test_two_files_never_share_salt_or_nonce(tmp_path):
    one = K.generate_key_file(tmp_path / "a", "a.example", "pw", kdf=FAST_KDF)
    texts = [(tmp_path / "a").read_text()]
    for name in ("b", "c"):
        K.generate_key_file(tmp_path / name, "a.example", "pw", kdf=FAST_KDF)
        texts.append((tmp_path / name).read_text())
    salts = {t.split("\n")[3] for t in texts}
    boxes = {t.split("\n")[4] for t in texts}
    assert len(salts) == len(boxes) == 3 and one.name == "a.example"


@pytest.mark.parametrize("umask", [0o000, 0o077, 0o022])
def test_private_key_mode_is_0600_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        K.generate_key_file(tmp_path / "k", "x.example", kdf=FAST_KDF)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "k") == 0o600


@pytest.mark.parametrize("existing", ["k", "k.pub"])
def test_generate_refuses_to_overwrite(tmp_path, existing):
    write(tmp_path / existing, "precious\n")
    with pytest.raises(InvalidInput) as caught:
        K.generate_key_file(tmp_path / "k", "x.example")
    assert caught.value.reason == "file_exists" and caught.value.hint
    assert (tmp_path / existing).read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def test_generate_refuses_a_symlink_in_the_way(tmp_path):
    (tmp_path / "k").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInput):
        K.generate_key_file(tmp_path / "k", "x.example")
    assert not (tmp_path / "elsewhere").exists()


def test_a_file_appearing_during_generation_is_not_overwritten(tmp_path, monkeypatch):
    """The link() step refuses an existing file even if the early check missed it (a race)."""
    write(tmp_path / "k", "precious\n")
    monkeypatch.setattr(K.os.path, "lexists", lambda path: False)
    with pytest.raises(InvalidInput) as caught:
        K.generate_key_file(tmp_path / "k", "x.example")
    assert caught.value.reason == "file_exists"
    assert (tmp_path / "k").read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_a_public_key_clash_removes_the_new_private_key(tmp_path, monkeypatch):
    write(tmp_path / "k.pub", "precious\n")
    monkeypatch.setattr(K.os.path, "lexists", lambda path: False)
    with pytest.raises(InvalidInput):
        K.generate_key_file(tmp_path / "k", "x.example")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pub"]


def test_file_systems_without_hard_links_still_get_an_exclusive_0600_file(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(K.os, "link", no_links)
    signer = K.generate_key_file(tmp_path / "k", "x.example")
    assert mode_of(tmp_path / "k") == 0o600
    assert K.load_signer(tmp_path / "k").vkey == signer.vkey
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "k.pub"]


def test_generate_into_a_missing_directory_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as caught:
        K.generate_key_file(tmp_path / "missing" / "k", "x.example")
    assert caught.value.exit_code == 3


def test_generate_refuses_bad_names_and_empty_passphrases(tmp_path):
    with pytest.raises(MalformedError):
        K.generate_key_file(tmp_path / "k", "has space")
    with pytest.raises(InvalidInput) as caught:
        K.generate_key_file(tmp_path / "k", "x.example", "")
    assert caught.value.reason == "empty_passphrase"
    assert list(tmp_path.iterdir()) == []


def test_encryption_cost_must_be_in_range(tmp_path):
    with pytest.raises(MalformedError):
        K.generate_key_file(tmp_path / "k", "x.example", "pw", kdf=K.KdfParams(33, 8192))
    assert list(tmp_path.iterdir()) == []


# --- loading ----------------------------------------------------------------------------------


def test_missing_key_file_is_not_found(tmp_path):
    with pytest.raises(NotFound) as caught:
        K.load_signer(tmp_path / "nope")
    assert caught.value.exit_code == 3 and caught.value.hint


def test_unreadable_key_file_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as caught:
        K.load_signer(tmp_path)  # a directory
    assert caught.value.exit_code == 3 and not isinstance(caught.value, NotFound)


def test_oversized_and_binary_files_are_malformed(tmp_path):
    for content in (b"A" * 5000, b"\xff\xfe\x00"):
        (tmp_path / "k").write_bytes(content)
        with pytest.raises(MalformedError):
            K.load_signer(tmp_path / "k")


def test_a_passphrase_for_a_plain_key_is_ignored(tmp_path):
    path = write(tmp_path / "k", VECTORS["plain"]["file"])
    assert K.load_signer(path, "unused").vkey == VECTORS["plain"]["vkey"]


def test_load_verifier_prefers_a_vkey_over_a_same_named_file(tmp_path, monkeypatch):
    vkey = VECTORS["plain"]["vkey"]
    monkeypatch.chdir(tmp_path)
    write(tmp_path / vkey.replace("/", "_"), VECTORS["go_example"]["vkey"] + "\n")
    assert K.load_verifier(vkey).vkey == vkey


def test_load_verifier_errors(tmp_path):
    with pytest.raises(NotFound):
        K.load_verifier(str(tmp_path / "nope.pub"))
    with pytest.raises(MalformedError) as caught:  # meant as a vkey, so its own error
        K.load_verifier("alice.example+00000000+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
    assert caught.value.reason == "key_id_mismatch"


def test_keys_module_stays_out_of_sqlite():
    code = "import sys, ledger.keys, ledger.entry; assert not {'sqlite3', 'sqlite_utils', 'click'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
