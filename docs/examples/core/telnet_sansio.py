"""
The telnet codec without any network: bytes in, events out.

What a client sends may arrive cut anywhere: the decoder keeps an
incomplete command, subnegotiation or CR LF until the rest comes, and gives
application data (unescaped, with CR LF read as LF), commands and
subnegotiations.
"""

from fw.protocols.telnet import (
    IAC,
    NAWS,
    SB,
    SE,
    WILL,
    TelnetDecoder,
    TelnetProtocolError,
    encodeData,
)

wire = IAC + WILL + NAWS + IAC + SB + NAWS + b"\x00\x50\x00\x18" + IAC + SE + b"ls -l\r\n"

decoder = TelnetDecoder()
for piece in (wire[:9], wire[9:-1], wire[-1:]):
    print("received", piece)
    decoder.receiveData(piece)
    for event in decoder.events():
        print("   ", event)

print(encodeData(b"255 is \xff\nCR alone is \r"))

# A subnegotiation larger than the limit is the peer's fault: an error, and
# the decoder keeps nothing of it.
decoder = TelnetDecoder(maxSubnegotiationSize=16)
decoder.receiveData(IAC + SB + NAWS + b"x" * 100)
try:
    decoder.events()
except TelnetProtocolError as e:
    print("refused:", e)
