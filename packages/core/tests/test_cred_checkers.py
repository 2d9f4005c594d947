"""fw.cred: password hashes (fw.cred.passwd) and the password file checker."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fw.cred import _hashing, checkers, credentials, error, passwd
from fw.internet.defer import Deferred
from fw.internet.task import deferLater
from fw.logger import capturedLogs
from fw.python.failure import Failure

RunReactor = Callable[..., Any]

# Cheap scrypt parameters, so that the tests are fast; the format is the same.
FAST = {"n": 2**4, "r": 1, "p": 1}


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def failureResultOf(d: Deferred[Any], *types: type[BaseException]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    assert isinstance(results[0], Failure), f"not a failure: {results}"
    if types:
        assert results[0].check(*types), results[0]
    return results[0]


def login(checker: Any, user: bytes, password: bytes) -> Deferred[Any]:
    return checker.requestAvatarId(credentials.UsernamePassword(user, password))


def test_scryptFormatMatchesHashlib() -> None:
    hashed = passwd.hashPassword("pässword", n=2**10, r=8, p=1)
    prefix, scheme, params, salt, key = hashed.split("$")
    assert (prefix, scheme, params) == ("", "scrypt", "n=1024,r=8,p=1")
    assert "=" not in salt + key
    rawSalt = base64.b64decode(salt + "==")
    rawKey = base64.b64decode(key + "=" * (-len(key) % 4))
    assert len(rawSalt) == 16
    assert len(rawKey) == 32
    expected = hashlib.scrypt("pässword".encode(), salt=rawSalt, n=1024, r=8, p=1, dklen=32)
    assert rawKey == expected
    assert passwd.verifyPassword("pässword", hashed)
    assert passwd.verifyPassword("pässword".encode(), hashed.encode())
    assert not passwd.verifyPassword("password", hashed)
    assert passwd.identifyHash(hashed) == "scrypt"
    assert passwd.identifyHash("plain") is None


def test_defaultScryptParameters() -> None:
    hashed = passwd.hashPassword("x")
    assert hashed.startswith(f"$scrypt$n={passwd.DEFAULT_SCRYPT_N},r=8,p=1$")
    assert passwd.DEFAULT_SCRYPT_N >= 2**14
    assert passwd.verifyPassword("x", hashed)


def test_saltsDiffer() -> None:
    assert passwd.hashPassword("x", **FAST) != passwd.hashPassword("x", **FAST)


@pytest.mark.parametrize(
    "bad",
    [
        "$scrypt$n=16,r=1,p=1$c2FsdHNhbHQ",  # missing key
        "$scrypt$n=15,r=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # n not a power of two
        "$scrypt$n=16,r=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # no p
        "$scrypt$n=16,r=1,p=1,p=2$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "$scrypt$n=33554432,r=8,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # too costly
        "$scrypt$n=16,r=1,p=1$!!!$" + "A" * 43,  # not base64
        "$scrypt$n=16,r=1,p=1$c2FsdA$" + "A" * 43,  # salt too short
        "$scrypt$n=16,r=x,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "plaintext",
        "$2b$12$short",
        b"\xff\xfe",
    ],
)
def test_malformedHashesAreRefusedClearly(bad: Any) -> None:
    with pytest.raises(passwd.InvalidPasswordHash):
        passwd.verifyPassword("x", bad)


def test_unknownSchemeAndBcryptLimits() -> None:
    with pytest.raises(ValueError, match="unknown password hash scheme"):
        passwd.hashPassword("x", "md5")
    with pytest.raises(ValueError):
        passwd.hashPassword("x", n=3)


def test_bcrypt() -> None:
    pytest.importorskip("bcrypt")
    hashed = passwd.hashPassword("secret", "bcrypt", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert passwd.identifyHash(hashed) == "bcrypt"
    assert passwd.verifyPassword("secret", hashed)
    assert not passwd.verifyPassword("secreT", hashed)
    with pytest.raises(ValueError, match="72"):
        passwd.hashPassword("x" * 73, "bcrypt", rounds=4)
    # Long passwords are checked on their first 72 bytes, as bcrypt always did.
    long = passwd.hashPassword("y" * 72, "bcrypt", rounds=4)
    assert passwd.verifyPassword("y" * 80, long)


def test_bcryptWithoutThePackage(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail, as when it is not installed.
    monkeypatch.setitem(sys.modules, "bcrypt", None)
    with pytest.raises(passwd.UnsupportedPasswordHash, match=r"fw-core\[bcrypt\]"):
        passwd.verifyPassword("x", "$2b$04$" + "a" * 53)
    with pytest.raises(passwd.UnsupportedPasswordHash):
        passwd.hashPassword("x", "bcrypt")
    # scrypt needs nothing more.
    assert passwd.verifyPassword("x", passwd.hashPassword("x", **FAST))


def writeFile(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def hashedFile(tmp_path: Path) -> Path:
    return writeFile(
        tmp_path / "passwd",
        [
            "# users",
            "",
            "alice:" + passwd.hashPassword("secret", **FAST),
            "bob:" + passwd.hashPassword("pw:with:colons", **FAST),
        ],
    )


def test_fileCheckerHashedByDefault(hashedFile: Path) -> None:
    checker = checkers.FilePasswordDB(hashedFile)
    assert checker.hash is checkers.HASHED
    assert checker.credentialInterfaces == (credentials.IUsernamePassword,)
    assert successResultOf(login(checker, b"alice", b"secret")) == b"alice"
    assert successResultOf(login(checker, b"bob", b"pw:with:colons")) == b"bob"
    failureResultOf(login(checker, b"alice", b"wrong"), error.UnauthorizedLogin)
    failureResultOf(login(checker, b"carol", b"secret"), error.UnauthorizedLogin)
    assert checker.validate() == 2
    assert checker.getUser(b"alice")[0] == b"alice"
    with pytest.raises(KeyError):
        checker.getUser(b"nobody")


def test_fileCheckerReadsChangesUnlessCached(hashedFile: Path) -> None:
    fresh = checkers.FilePasswordDB(hashedFile)
    cached = checkers.FilePasswordDB(hashedFile, cache=True)
    successResultOf(login(cached, b"alice", b"secret"))
    with hashedFile.open("a") as f:
        f.write("carol:" + passwd.hashPassword("c", **FAST) + "\n")
    assert successResultOf(login(fresh, b"carol", b"c")) == b"carol"
    failureResultOf(login(cached, b"carol", b"c"), error.UnauthorizedLogin)


def test_plaintextOnlyByName(tmp_path: Path) -> None:
    path = writeFile(tmp_path / "plain", ["alice:secret"])
    # A plaintext password in a hashed file is a clear error, not a login.
    default = checkers.FilePasswordDB(path)
    with pytest.raises(checkers.PasswordFileError, match=r"plain, line 1: not a password hash"):
        default.validate()
    with capturedLogs() as events:
        failureResultOf(login(default, b"alice", b"secret"), error.UnauthorizedLogin)
    assert any("line 1" in str(e.get("error")) for e in events)
    for checker in [
        checkers.FilePasswordDB(path, hash=None),
        checkers.FilePasswordDB(path, plaintext=True),
    ]:
        assert credentials.IUsernameHashedPassword in checker.credentialInterfaces
        assert successResultOf(login(checker, b"alice", b"secret")) == b"alice"
        failureResultOf(login(checker, b"alice", b"Secret"), error.UnauthorizedLogin)
        hashedCreds = credentials.UsernameHashedPassword(b"alice", b"secret")
        assert successResultOf(checker.requestAvatarId(hashedCreds)) == b"alice"
    with pytest.raises(TypeError):
        checkers.FilePasswordDB(path, hash=lambda u, p, s: p, plaintext=True)


def test_twistedHashCallable(tmp_path: Path) -> None:
    def md5hash(username: bytes, password: bytes, stored: bytes) -> bytes:
        return hashlib.md5(password).hexdigest().encode()

    path = writeFile(tmp_path / "md5", ["alice:" + hashlib.md5(b"secret").hexdigest()])
    checker = checkers.FilePasswordDB(path, hash=md5hash)
    assert successResultOf(login(checker, b"alice", b"secret")) == b"alice"
    failureResultOf(login(checker, b"alice", b"nope"), error.UnauthorizedLogin)


def test_fieldsDelimiterAndCase(tmp_path: Path) -> None:
    path = writeFile(tmp_path / "p", ["x|Alice|" + passwd.hashPassword("s", **FAST)])
    checker = checkers.FilePasswordDB(
        path, delim=b"|", usernameField=1, passwordField=2, caseSensitive=False
    )
    assert successResultOf(login(checker, b"ALICE", b"s")) == b"alice"
    sensitive = checkers.FilePasswordDB(path, delim=b"|", usernameField=1, passwordField=2)
    failureResultOf(login(sensitive, b"alice", b"s"), error.UnauthorizedLogin)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["# ok", "alice"], "line 2: expected at least 2 fields"),
        (["alice:" + "$scrypt$n=16,r=1,p=1$c2FsdHNhbHRzYWx0$AAAA"], "line 1: scrypt key"),
        ([":" + "$scrypt$n=16,r=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43], "line 1: empty user name"),
        (["a:b", "x" * 70000], "line 1"),
        (["bob:$scrypt$n=17,r=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43], "line 1: scrypt n"),
    ],
)
def test_malformedFilesNameTheLine(tmp_path: Path, lines: list[str], message: str) -> None:
    path = writeFile(tmp_path / "bad", lines)
    checker = checkers.FilePasswordDB(path)
    with pytest.raises(checkers.PasswordFileError, match=message) as info:
        checker.validate()
    assert info.value.filename == str(path)
    with capturedLogs():
        failureResultOf(login(checker, b"alice", b"x"), error.UnauthorizedLogin)


def test_overlongLine(tmp_path: Path) -> None:
    path = tmp_path / "long"
    path.write_bytes(b"a:" + b"x" * (checkers.MAX_LINE_LENGTH + 10) + b"\n")
    with pytest.raises(checkers.PasswordFileError, match="line 1: line longer"):
        checkers.FilePasswordDB(path, plaintext=True).validate()


def test_missingFileIsUnauthorizedAndLogged(tmp_path: Path) -> None:
    checker = checkers.FilePasswordDB(tmp_path / "missing")
    with capturedLogs() as events:
        failureResultOf(login(checker, b"a", b"b"), error.UnauthorizedLogin)
    assert events


def test_passwdSetPassword(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    passwd.setPassword(path, "alice", passwd.hashPassword("one", **FAST))
    passwd.setPassword(path, "bob", passwd.hashPassword("two", **FAST))
    passwd.setPassword(path, "alice", passwd.hashPassword("three", **FAST))
    assert os.stat(path).st_mode & 0o777 == 0o600
    checker = checkers.FilePasswordDB(path)
    assert checker.validate() == 2
    assert successResultOf(login(checker, b"alice", b"three")) == b"alice"
    assert successResultOf(login(checker, b"bob", b"two")) == b"bob"
    with pytest.raises(ValueError):
        passwd.setPassword(path, "a:b", "x")


def test_passwdCommand(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    env = dict(os.environ)
    run = [sys.executable, "-m", "fw.cred.passwd", "--stdin", "--scrypt-n", "16"]
    out = subprocess.run(
        [*run, "alice"], input="secret\n", capture_output=True, text=True, env=env, check=True
    )
    user, _, hashed = out.stdout.strip().partition(":")
    assert user == "alice"
    assert passwd.verifyPassword("secret", hashed)
    subprocess.run([*run, "-f", str(path), "bob"], input="pw\n", text=True, env=env, check=True)
    assert successResultOf(login(checkers.FilePasswordDB(path), b"bob", b"pw")) == b"bob"
    bad = subprocess.run([*run, "a:b"], input="pw\n", capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert "cannot contain" in bad.stderr


def test_constantTimeComparisonsInSource() -> None:
    # Every secret comparison goes through hmac.compare_digest.
    import inspect

    from fw.cred import _credentials, _digest, _hashing

    for module in (_credentials, _digest, _hashing, checkers):
        source = inspect.getsource(module)
        assert "compare_digest" in source
        for line in source.splitlines():
            code = line.split("#")[0]
            if "password" in code.lower() and "==" in code:
                pytest.fail(f"{module.__name__}: non-constant-time comparison? {line.strip()}")


def test_fileCheckerHashesOffTheReactorThread(
    reactor: Any, runReactor: RunReactor, hashedFile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    While the reactor runs, reading the file and verifying hashes happen in
    its thread pool, and the reactor keeps turning meanwhile; the results
    are those of the synchronous check.
    """
    checker = checkers.FilePasswordDB(hashedFile, reactor=reactor)
    threads: list[threading.Thread] = []
    verifying = threading.Event()
    resume = threading.Event()
    verifyPassword = _hashing.verifyPassword

    def watchedVerify(password: bytes | str, hashed: bytes | str) -> bool:
        threads.append(threading.current_thread())
        verifying.set()
        # The reactor must answer while this hash is being checked.
        assert resume.wait(5)
        return verifyPassword(password, hashed)

    monkeypatch.setattr(_hashing, "verifyPassword", watchedVerify)

    async def scenario() -> None:
        d = login(checker, b"alice", b"secret")
        assert not d.called
        turns = 0
        while not verifying.is_set():
            await deferLater(reactor, 0.001, lambda: None)
        while turns < 3:
            await deferLater(reactor, 0.001, lambda: None)
            turns += 1
        resume.set()
        assert await d == b"alice"
        with pytest.raises(error.UnauthorizedLogin):
            await login(checker, b"alice", b"wrong")
        # An unknown user spends a verification too (off the reactor thread).
        with pytest.raises(error.UnauthorizedLogin):
            await login(checker, b"nobody", b"x")
        missing = checkers.FilePasswordDB(hashedFile.parent / "missing", reactor=reactor)
        with capturedLogs() as events, pytest.raises(error.UnauthorizedLogin):
            await login(missing, b"alice", b"secret")
        assert any("cannot check a password" in str(e.get("log_format")) for e in events)

    runReactor(reactor, scenario)
    assert threads
    assert all(t is not threading.main_thread() for t in threads)
    # alice twice, and the unknown user's burnt verification.
    assert len(threads) == 3
