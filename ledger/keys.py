"""Key files: private signing keys (plain or passphrase-encrypted) and public keys.

* A plain private key file is Go's note signer key, one line:
  ``PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>\\n``; Go's
  ``note.NewSigner`` reads the same string.
* An encrypted private key file is ``pactlog-encrypted-key/v1`` (specs/keys.md):
  the vkey, Argon2id parameters, a salt, and the seed sealed with XSalsa20-Poly1305
  (libsodium secretbox) under a key derived from the passphrase.
* A public key file (``<private key path>.pub``) is the vkey and a newline.

This module reads and writes files but is otherwise as strict as the pure
parsers: every file has exactly one accepted spelling.  Where a passphrase
comes from (environment variable, prompt) is the caller's business.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ledger.errors import BadKey, InvalidInput, MalformedError, NotFound, StorageError
from ledger.note import ALG_ED25519, Signer, Verifier, b64decode_strict, b64encode, parse_vkey

ENCRYPTED_KEY_HEADER = "pactlog-encrypted-key/v1"
PASSPHRASE_ENV = "PACTLOG_PASSPHRASE"
"""The environment variable the CLI reads a key passphrase from (named in error hints)."""

PUBLIC_KEY_SUFFIX = ".pub"
MAX_KEY_FILE_SIZE = 4096
SEED_SIZE = 32

_ARGON2ID = nacl.pwhash.argon2id
_SKEY_PREFIX = "PRIVATE+KEY+"
_DECIMAL = re.compile(r"[1-9][0-9]{0,15}")


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit`` bytes (libsodium's crypto_pwhash)."""

    opslimit: int
    memlimit: int


DEFAULT_KDF = KdfParams(_ARGON2ID.OPSLIMIT_MODERATE, _ARGON2ID.MEMLIMIT_MODERATE)
"""libsodium MODERATE: 3 passes over 256 MiB (about 0.7 s); see specs/keys.md for the choice."""

INTERACTIVE_KDF = KdfParams(_ARGON2ID.OPSLIMIT_INTERACTIVE, _ARGON2ID.MEMLIMIT_INTERACTIVE)
"""libsodium INTERACTIVE: 2 passes over 64 MiB (about 0.1 s)."""

MIN_KDF = KdfParams(_ARGON2ID.OPSLIMIT_MIN, _ARGON2ID.MEMLIMIT_MIN)
MAX_KDF = KdfParams(32, _ARGON2ID.MEMLIMIT_SENSITIVE)
"""Costs a file may ask for: bounded so that a crafted file cannot demand hours or gigabytes."""


# --- generating ---------------------------------------------------------------------------------


def generate_key_file(path: str | os.PathLike, name: str, passphrase: str | None = None, *, kdf: KdfParams = DEFAULT_KDF) -> Signer:
    """Create a new Ed25519 key: the private key at ``path`` (mode 0600), the vkey at ``path.pub``.

    Never overwrites: if either file exists, InvalidInput(reason="file_exists").
    With a passphrase the private key is stored encrypted (specs/keys.md).
    """
    signer = Signer(name, nacl.utils.random(SEED_SIZE))
    write_key_files(path, signer, passphrase, kdf=kdf)
    return signer


def write_key_files(path: str | os.PathLike, signer: Signer, passphrase: str | None = None, *, kdf: KdfParams = DEFAULT_KDF) -> None:
    """Store an existing signer (e.g. a Go-generated key) as ``path`` and ``path.pub``, like generate_key_file."""
    if signer.alg != ALG_ED25519:
        raise BadKey(
            f"key {signer.name!r} has signature type 0x{signer.alg:02x}, not Ed25519 (0x01)",
            hint="pactlog key files hold ordinary note signing keys",
            reason="unsupported_key_type",
        )
    path = os.fspath(path)
    public_path = path + PUBLIC_KEY_SUFFIX
    for existing in (path, public_path):
        if os.path.lexists(existing):
            raise InvalidInput(
                f"{existing} already exists",
                hint="choose another path, or move the old key away first: pactlog never overwrites a key file",
                reason="file_exists",
            )
    private_text = signer.skey + "\n" if passphrase is None else encrypt_signer(signer, passphrase, kdf=kdf)
    _create_file(path, private_text.encode("utf-8"), 0o600)
    try:
        _create_file(public_path, (signer.vkey + "\n").encode("utf-8"), 0o644)
    except BaseException:
        os.unlink(path)  # we just created it; leave no half-made key pair behind
        raise


def encrypt_signer(signer: Signer, passphrase: str, *, kdf: KdfParams = DEFAULT_KDF) -> str:
    """The text of a ``pactlog-encrypted-key/v1`` file holding ``signer``'s seed."""
    if not isinstance(passphrase, str) or passphrase == "":
        raise InvalidInput("the passphrase is empty", hint="choose a non-empty passphrase, or store the key unencrypted", reason="empty_passphrase")
    _check_kdf(kdf)
    salt = nacl.utils.random(_ARGON2ID.SALTBYTES)
    box = nacl.secret.SecretBox(_derive_key(passphrase, salt, kdf))
    sealed = bytes(box.encrypt(_seed_of(signer)))  # 24-byte random nonce || ciphertext || 16-byte tag
    return (
        f"{ENCRYPTED_KEY_HEADER}\n"
        f"vkey {signer.vkey}\n"
        f"argon2id {kdf.opslimit} {kdf.memlimit}\n"
        f"salt {b64encode(salt)}\n"
        f"box {b64encode(sealed)}\n"
    )


def _seed_of(signer: Signer) -> bytes:
    # The seed is only exposed through the skey string: PRIVATE+KEY+name+keyid+base64(0x01 || seed).
    # Names contain no '+', so the third field after the prefix is the (possibly '+'-holding) base64.
    key64 = signer.skey[len(_SKEY_PREFIX):].split("+", 2)[2]
    return b64decode_strict(key64, "signer key")[1:]


def _derive_key(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    # NFC, so that the same passphrase typed on systems that compose accents differently
    # (macOS input methods produce NFD) derives the same key.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return _ARGON2ID.kdf(nacl.secret.SecretBox.KEY_SIZE, secret, salt, opslimit=kdf.opslimit, memlimit=kdf.memlimit)


def _check_kdf(kdf: KdfParams) -> None:
    if not (MIN_KDF.opslimit <= kdf.opslimit <= MAX_KDF.opslimit and MIN_KDF.memlimit <= kdf.memlimit <= MAX_KDF.memlimit):
        raise MalformedError(
            f"Argon2id cost opslimit={kdf.opslimit} memlimit={kdf.memlimit} is out of range",
            hint=f"opslimit {MIN_KDF.opslimit}..{MAX_KDF.opslimit}, memlimit {MIN_KDF.memlimit}..{MAX_KDF.memlimit} bytes",
            reason="malformed_key_file",
        )


def _create_file(path: str, data: bytes, mode: int) -> None:
    """Create ``path`` holding ``data`` with ``mode``, atomically and never over an existing file.

    The bytes go to a fresh temporary file (O_CREAT|O_EXCL, so born with ``mode``) that is
    fsynced and then hard-linked to ``path``: link() fails if ``path`` exists, and readers see
    either no file or the whole file.  File systems without hard links get O_EXCL on ``path``.
    """
    directory = os.path.dirname(path) or "."
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    try:
        _write_new(temporary, data, mode)
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise InvalidInput(f"{path} already exists", hint="choose another path: pactlog never overwrites a key file", reason="file_exists") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK):
                raise
            _write_new(path, data, mode)  # no hard links here: plain exclusive create
    except FileExistsError:
        raise InvalidInput(f"{path} already exists", hint="choose another path: pactlog never overwrites a key file", reason="file_exists") from None
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}", hint="check that the directory exists and is writable", reason="cannot_write_key") from None
    finally:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
    _sync_directory(directory)


def _write_new(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def _sync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the file itself is synced
    finally:
        os.close(fd)


# --- loading ------------------------------------------------------------------------------------


def load_signer(path: str | os.PathLike, passphrase: str | None = None) -> Signer:
    """The signer stored in a private key file (plain or encrypted).

    Raises NotFound (missing file), StorageError (unreadable), MalformedError (not a
    key file), BadKey (passphrase_required, wrong_passphrase, key_file_tampered).
    A passphrase given for a plain key file is ignored.
    """
    path = os.fspath(path)
    text = _read_key_text(path, "private key file")
    if text.startswith(ENCRYPTED_KEY_HEADER + "\n"):
        return _decrypt_key_file(path, text, passphrase)
    if text.startswith(_SKEY_PREFIX):
        return Signer.from_skey(_single_line(path, text))
    if _looks_like_vkey(text):
        raise MalformedError(f"{path} holds a public key, not a private key", hint="pass the private key file (without .pub)", reason="malformed_key_file")
    raise MalformedError(
        f"{path} is not a pactlog private key file",
        hint=f"a key file starts with PRIVATE+KEY+ or {ENCRYPTED_KEY_HEADER}",
        reason="malformed_key_file",
    )


def load_verifier(path_or_vkey: str | os.PathLike) -> Verifier:
    """A verifier from a vkey string or a public key file holding one.

    A string that parses as a vkey *is* that vkey (no file is consulted, so a stray
    file cannot stand in for a key given on the command line); anything else is a path.
    """
    text = os.fspath(path_or_vkey)
    try:
        return parse_vkey(text)
    except MalformedError as exc:
        if not os.path.lexists(text) and text.count("+") >= 2:
            raise  # meant as a vkey: its own error is the useful one
        vkey_error = exc
    try:
        content = _read_key_text(text, "public key file")
    except NotFound:
        raise NotFound(
            f"{text!r} is neither a verifier key ({vkey_error.message}) nor an existing file",
            hint="pass a vkey (name+keyid+base64) or the path of a .pub file",
            reason="key_not_found",
        ) from None
    if content.startswith((_SKEY_PREFIX, ENCRYPTED_KEY_HEADER)):
        raise MalformedError(f"{text} is a private key file", hint="pass the public key (the .pub file beside it)", reason="malformed_key_file")
    return parse_vkey(_single_line(text, content))


def _read_key_text(path: str, what: str) -> str:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_KEY_FILE_SIZE + 1)
    except FileNotFoundError:
        raise NotFound(f"{what} {path} does not exist", hint="check the path, or generate a key first", reason="key_not_found") from None
    except OSError as exc:
        raise StorageError(f"cannot read {what} {path}: {exc.strerror or exc}", hint="check the file's permissions", reason="key_unreadable") from None
    if len(data) > MAX_KEY_FILE_SIZE:
        raise MalformedError(f"{path} is larger than {MAX_KEY_FILE_SIZE} bytes; it is not a key file", reason="malformed_key_file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedError(f"{path} is not UTF-8 text; it is not a key file", reason="malformed_key_file") from None


def _single_line(path: str, text: str) -> str:
    """The one line of a single-line key file, which must end in exactly one newline."""
    if not text.endswith("\n") or text.count("\n") != 1 or "\r" in text:
        raise MalformedError(
            f"{path} must hold exactly one line ending in a newline",
            hint="the key string and a single \\n, nothing else (no CR, no blank lines)",
            reason="malformed_key_file",
        )
    return text[:-1]


def _looks_like_vkey(text: str) -> bool:
    try:
        parse_vkey(text.rstrip("\n"))
    except MalformedError:
        return False
    return True


def _decrypt_key_file(path: str, text: str, passphrase: str | None) -> Signer:
    vkey, kdf, salt, sealed = _parse_encrypted(path, text)
    verifier = parse_vkey(vkey)
    if passphrase is None:
        raise BadKey(
            f"{path} is encrypted and needs a passphrase",
            hint=f"set {PASSPHRASE_ENV} or enter the passphrase when asked",
            reason="passphrase_required",
        )
    try:
        seed = nacl.secret.SecretBox(_derive_key(passphrase, salt, kdf)).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise BadKey(
            f"cannot decrypt {path}: wrong passphrase, or the file was altered",
            hint=f"check the passphrase (from {PASSPHRASE_ENV} or the prompt)",
            reason="wrong_passphrase",
        ) from None
    if len(seed) != SEED_SIZE:
        raise BadKey(f"{path} decrypts to {len(seed)} bytes, not a {SEED_SIZE}-byte seed", hint="the key file was altered; restore it from a backup", reason="key_file_tampered")
    signer = Signer(verifier.name, seed)
    if signer.vkey != vkey:
        raise BadKey(
            f"{path} claims the key {vkey} but holds a different one",
            hint="the key file was altered; restore it from a backup",
            reason="key_file_tampered",
        )
    return signer


def _parse_encrypted(path: str, text: str) -> tuple[str, KdfParams, bytes, bytes]:
    """Split an encrypted key file into (vkey, kdf, salt, sealed seed), strictly."""

    def malformed(problem: str) -> MalformedError:
        return MalformedError(f"{path}: {problem}", hint=f"see specs/keys.md for the {ENCRYPTED_KEY_HEADER} format", reason="malformed_key_file")

    if not text.endswith("\n") or "\r" in text:
        raise malformed("the encrypted key file must consist of newline-terminated lines")
    lines = text[:-1].split("\n")
    labels = [ENCRYPTED_KEY_HEADER, "vkey", "argon2id", "salt", "box"]
    if len(lines) != len(labels):
        raise malformed(f"expected {len(labels)} lines, found {len(lines)}")
    fields = {}
    for label, line in zip(labels[1:], lines[1:]):
        name, _, value = line.partition(" ")
        if name != label or not value:
            raise malformed(f"expected a line '{label} ...', found {line[:40]!r}")
        fields[label] = value
    ops_text, _, mem_text = fields["argon2id"].partition(" ")
    if not (_DECIMAL.fullmatch(ops_text) and _DECIMAL.fullmatch(mem_text)):
        raise malformed("the argon2id line must be 'argon2id <opslimit> <memlimit>' in plain decimal")
    kdf = KdfParams(int(ops_text), int(mem_text))
    _check_kdf(kdf)
    try:
        salt = b64decode_strict(fields["salt"], "salt", reason="malformed_key_file")
        sealed = b64decode_strict(fields["box"], "box", reason="malformed_key_file")
    except MalformedError as exc:
        raise malformed(exc.message) from None
    if len(salt) != _ARGON2ID.SALTBYTES:
        raise malformed(f"the salt is {len(salt)} bytes, not {_ARGON2ID.SALTBYTES}")
    expected = nacl.secret.SecretBox.NONCE_SIZE + SEED_SIZE + nacl.secret.SecretBox.MACBYTES
    if len(sealed) != expected:
        raise malformed(f"the box is {len(sealed)} bytes, not {expected}")
    return fields["vkey"], kdf, salt, sealed
