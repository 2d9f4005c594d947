"""The public surface of the wire format and the client: Twisted names, documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "fw.names.dns", "fw.names.client", "fw.names.common", "fw.names.resolve",
    "fw.names.srvconnect", "fw.names.error",
]  # fmt: skip

#: Names Twisted programs use from twisted.names.dns, which must port by renaming.
TWISTED_DNS = [
    "A",
    "AAAA",
    "AFSDB",
    "ALL_RECORDS",
    "ANY",
    "AXFR",
    "CH",
    "CNAME",
    "CS",
    "DNAME",
    "EFORMAT",
    "ENAME",
    "ENOTIMP",
    "EREFUSED",
    "ESERVER",
    "EXT_QUERIES",
    "HINFO",
    "HS",
    "IN",
    "IXFR",
    "MAILA",
    "MAILB",
    "MB",
    "MD",
    "MF",
    "MG",
    "MINFO",
    "MR",
    "MX",
    "NAPTR",
    "NS",
    "NULL",
    "OK",
    "OPT",
    "OP_INVERSE",
    "OP_NOTIFY",
    "OP_QUERY",
    "OP_STATUS",
    "OP_UPDATE",
    "PORT",
    "PTR",
    "QUERY_CLASSES",
    "QUERY_TYPES",
    "REV_CLASSES",
    "REV_TYPES",
    "RP",
    "SOA",
    "SPF",
    "SRV",
    "SSHFP",
    "TSIG",
    "TXT",
    "WKS",
    "DNSDatagramProtocol",
    "DNSMixin",
    "DNSProtocol",
    "DNSQueryTimeoutError",
    "IEncodable",
    "IRecord",
    "Message",
    "Name",
    "Query",
    "RRHeader",
    "Record_A",
    "Record_AAAA",
    "Record_AFSDB",
    "Record_CNAME",
    "Record_DNAME",
    "Record_HINFO",
    "Record_MB",
    "Record_MD",
    "Record_MF",
    "Record_MG",
    "Record_MINFO",
    "Record_MR",
    "Record_MX",
    "Record_NAPTR",
    "Record_NS",
    "Record_NULL",
    "Record_PTR",
    "Record_RP",
    "Record_SOA",
    "Record_SPF",
    "Record_SRV",
    "Record_SSHFP",
    "Record_TSIG",
    "Record_TXT",
    "SimpleRecord",
    "UnknownRecord",
    "_EDNSMessage",
    "_OPTHeader",
    "_OPTVariableOption",
    "randomSource",
    "str2time",
]


@pytest.mark.parametrize("module", MODULES)
def test_exportsAreImportableAndDocumented(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__doc__
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{module}.{name} has no docstring"


@pytest.mark.parametrize("name", TWISTED_DNS)
def test_twistedNames(name: str) -> None:
    from fw.names import dns

    assert hasattr(dns, name)


def test_twistedClientNames() -> None:
    from fw.names import client, common, error, resolve, srvconnect

    for name in ("Resolver", "createResolver", "getResolver", "getHostByName", "lookupAddress",
                 "lookupMailExchange", "lookupService", "lookupZone", "AXFRController",
                 "DNSClientFactory"):  # fmt: skip
        assert hasattr(client, name), name
    assert hasattr(common, "ResolverBase")
    assert hasattr(common, "extractRecord")
    assert hasattr(resolve, "ResolverChain")
    assert hasattr(srvconnect, "SRVConnector")
    for name in ("DomainError", "AuthoritativeDomainError", "DNSQueryTimeoutError",
                 "DNSFormatError", "DNSServerError", "DNSNameError", "DNSNotImplementedError",
                 "DNSQueryRefusedError", "DNSUnknownError", "ResolverError"):  # fmt: skip
        assert hasattr(error, name), name


def test_errorHierarchy() -> None:
    from fw.internet.error import TimeoutError
    from fw.names import dns, error

    assert issubclass(error.DNSNameError, error.DomainError)
    assert issubclass(error.DNSQueryTimeoutError, TimeoutError)
    assert error.DNSQueryTimeoutError(5).id == 5
    assert dns.DNSQueryTimeoutError is error.DNSQueryTimeoutError
    assert error.DNSNameError.rCode == dns.ENAME


def test_constants() -> None:
    from fw.names import dns

    assert (dns.A, dns.AAAA, dns.SRV, dns.OPT, dns.HTTPS, dns.CAA) == (1, 28, 33, 41, 65, 257)
    assert dns.QUERY_TYPES[dns.NAPTR] == "NAPTR"
    assert dns.REV_TYPES["ANY"] == dns.ALL_RECORDS
    assert dns.typeToText(4321) == "TYPE4321"
    assert dns.textToType("type65") == dns.HTTPS
    assert dns.classToText(dns.CH) == "CH"
    assert dns.str2time("1w2d3h") == 7 * 86400 + 2 * 86400 + 3 * 3600
    assert dns.Record_SOA(refresh="1h").refresh == 3600
