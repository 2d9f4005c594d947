"""
Credentials: what a user offers to prove who they are.

Each kind of credentials provides an interface (:class:`IUsernamePassword`,
:class:`IAnonymous`...); a checker verifies the kinds it names in its
``credentialInterfaces``.  Every comparison of secrets is constant-time.
"""

from fw.cred._credentials import (
    Anonymous,
    CramMD5Credentials,
    IAnonymous,
    ICredentials,
    ISSHPrivateKey,
    IUsernameDigestHash,
    IUsernameHashedPassword,
    IUsernamePassword,
    SSHPrivateKey,
    UsernameHashedPassword,
    UsernamePassword,
)
from fw.cred._digest import (
    DigestCredentialFactory,
    DigestedCredentials,
    calcHA1,
    calcHA2,
    calcResponse,
)

__all__ = [
    "Anonymous",
    "CramMD5Credentials",
    "DigestCredentialFactory",
    "DigestedCredentials",
    "IAnonymous",
    "ICredentials",
    "ISSHPrivateKey",
    "IUsernameDigestHash",
    "IUsernameHashedPassword",
    "IUsernamePassword",
    "SSHPrivateKey",
    "UsernameHashedPassword",
    "UsernamePassword",
    "calcHA1",
    "calcHA2",
    "calcResponse",
]
