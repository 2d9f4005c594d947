"""
A password file of scrypt hashes, checked by FilePasswordDB, and the same
checker made from an --auth description.
"""

import tempfile
from pathlib import Path

from fw.cred import checkers, credentials, passwd, strcred

directory = Path(tempfile.mkdtemp())
path = directory / "passwd"

# What "python -m fw.cred.passwd -f passwd alice" does.  (The small n keeps
# the example fast; leave the default in real use.)
passwd.setPassword(path, "alice", passwd.hashPassword("wonderland", n=2**10))
passwd.setPassword(path, "bob", passwd.hashPassword("builder", n=2**10))
line = path.read_text().splitlines()[0]
print(line.split("$")[:3])


def check(checker, username, password):
    creds = credentials.UsernamePassword(username, password)
    checker.requestAvatarId(creds).addCallbacks(
        lambda avatarId: print(f"{username.decode()}: ok, avatar id {avatarId!r}"),
        lambda reason: print(f"{username.decode()}: {type(reason.value).__name__}"),
    )


checker = checkers.FilePasswordDB(path)
check(checker, b"alice", b"wonderland")
check(checker, b"bob", b"wrong")

# A plaintext password in the file is an error that names the line.
path.write_text(path.read_text() + "carol:plaintext\n")
try:
    checker.validate()
except checkers.PasswordFileError as e:
    print("refused:", str(e).replace(str(directory), "DIR"))

# --auth file:PATH makes the same checker, checking the file first.
try:
    strcred.makeChecker(f"file:{path}")
except strcred.InvalidAuthArgumentString:
    print("--auth file: refuses a malformed file")
path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")
check(strcred.makeChecker(f"file:{path}"), b"bob", b"builder")
check(strcred.makeChecker("memory:carol:secret"), b"carol", b"secret")

import shutil  # noqa: E402 - the cleanup, last

shutil.rmtree(directory)
