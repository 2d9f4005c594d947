"""
Telnet's byte values: commands (RFC 854), option codes and the LINEMODE
sub-command vocabulary (RFC 1184).

Every constant is a one-byte ``bytes`` value, as in Twisted, so that they
concatenate: ``IAC + WILL + ECHO``.  The LINEMODE mode bits (``EDIT``,
``TRAPSIG``...) are ``int`` masks, as in Twisted.
"""

from __future__ import annotations

# -- NVT control characters (RFC 854, "The NVT printer and keyboard") --------

NULL = b"\x00"  #: No operation.
BEL = b"\x07"  #: Audible or visible signal.
BS = b"\x08"  #: Back space.
HT = b"\x09"  #: Horizontal tab.
LF = b"\x0a"  #: Line feed.
VT = b"\x0b"  #: Vertical tab.
FF = b"\x0c"  #: Form feed.
CR = b"\x0d"  #: Carriage return.

# -- commands (RFC 854, "Telnet command structure"), each after IAC ---------

EOF = b"\xec"  #: End of file (RFC 1184, LINEMODE).
SUSP = b"\xed"  #: Suspend the current process (RFC 1184, LINEMODE).
ABORT = b"\xee"  #: Abort the process (RFC 1184, LINEMODE).
EOR = b"\xef"  #: End of record (RFC 885).
SE = b"\xf0"  #: End of subnegotiation parameters.
NOP = b"\xf1"  #: No operation.
DM = b"\xf2"  #: Data Mark: the data stream part of a Synch.
BRK = b"\xf3"  #: NVT character Break.
IP = b"\xf4"  #: Interrupt Process.
AO = b"\xf5"  #: Abort Output.
AYT = b"\xf6"  #: Are You There.
EC = b"\xf7"  #: Erase Character.
EL = b"\xf8"  #: Erase Line.
GA = b"\xf9"  #: Go Ahead.
SB = b"\xfa"  #: Start of subnegotiation of the option that follows.
WILL = b"\xfb"  #: Sender wants to enable, or confirms enabling, an option on its side.
WONT = b"\xfc"  #: Sender refuses to enable, or disables, an option on its side.
DO = b"\xfd"  #: Sender asks, or confirms, that the peer enable an option.
DONT = b"\xfe"  #: Sender asks, or confirms, that the peer disable an option.
IAC = b"\xff"  #: Interpret As Command; doubled, the data byte 255.

# -- options (the IANA "Telnet Options" registry) ----------------------------

BINARY = b"\x00"  #: Transmit binary (RFC 856).
ECHO = b"\x01"  #: Echo (RFC 857).
SGA = b"\x03"  #: Suppress Go Ahead (RFC 858).
STATUS = b"\x05"  #: Status (RFC 859).
TIMINGMARK = b"\x06"  #: Timing mark (RFC 860).
TTYPE = b"\x18"  #: Terminal type (RFC 1091).
NAWS = b"\x1f"  #: Negotiate About Window Size (RFC 1073).
TSPEED = b"\x20"  #: Terminal speed (RFC 1079).
LFLOW = b"\x21"  #: Remote flow control (RFC 1372).
LINEMODE = b"\x22"  #: Line mode (RFC 1184).
NEW_ENVIRON = b"\x27"  #: Environment variables (RFC 1572).

# -- TTYPE sub-commands (RFC 1091) ------------------------------------------

TTYPE_IS = b"\x00"  #: ``IAC SB TTYPE IS <name> IAC SE``: the terminal type.
TTYPE_SEND = b"\x01"  #: ``IAC SB TTYPE SEND IAC SE``: asks for the terminal type.

# -- LINEMODE (RFC 1184) ----------------------------------------------------

MODE = b"\x01"  #: The LINEMODE MODE sub-command (Twisted's name).
EDIT = 1  #: MODE bit: the client edits lines locally.
TRAPSIG = 2  #: MODE bit: the client turns signals into telnet commands.
MODE_ACK = 4  #: MODE bit: acknowledges a MODE.
SOFT_TAB = 8  #: MODE bit: the client expands tabs.
LIT_ECHO = 16  #: MODE bit: the client echoes non-printables literally.

LINEMODE_MODE = b"\x01"
LINEMODE_EDIT = b"\x01"
LINEMODE_TRAPSIG = b"\x02"
LINEMODE_MODE_ACK = b"\x04"
LINEMODE_SOFT_TAB = b"\x08"
LINEMODE_LIT_ECHO = b"\x10"
LINEMODE_FORWARDMASK = b"\x02"
LINEMODE_SLC = b"\x03"

LINEMODE_SLC_SYNCH = b"\x01"
LINEMODE_SLC_BRK = b"\x02"
LINEMODE_SLC_IP = b"\x03"
LINEMODE_SLC_AO = b"\x04"
LINEMODE_SLC_AYT = b"\x05"
LINEMODE_SLC_EOR = b"\x06"
LINEMODE_SLC_ABORT = b"\x07"
LINEMODE_SLC_EOF = b"\x08"
LINEMODE_SLC_SUSP = b"\x09"
LINEMODE_SLC_EC = b"\x0a"
LINEMODE_SLC_EL = b"\x0b"
LINEMODE_SLC_EW = b"\x0c"
LINEMODE_SLC_RP = b"\x0d"
LINEMODE_SLC_LNEXT = b"\x0e"
LINEMODE_SLC_XON = b"\x0f"
LINEMODE_SLC_XOFF = b"\x10"
LINEMODE_SLC_FORW1 = b"\x11"
LINEMODE_SLC_FORW2 = b"\x12"
LINEMODE_SLC_MCL = b"\x13"
LINEMODE_SLC_MCR = b"\x14"
LINEMODE_SLC_MCWL = b"\x15"
LINEMODE_SLC_MCWR = b"\x16"
LINEMODE_SLC_MCBOL = b"\x17"
LINEMODE_SLC_MCEOL = b"\x18"
LINEMODE_SLC_INSRT = b"\x19"
LINEMODE_SLC_OVER = b"\x1a"
LINEMODE_SLC_ECR = b"\x1b"
LINEMODE_SLC_EWR = b"\x1c"
LINEMODE_SLC_EBOL = b"\x1d"
LINEMODE_SLC_EEOL = b"\x1e"

LINEMODE_SLC_DEFAULT = b"\x03"
LINEMODE_SLC_VALUE = b"\x02"
LINEMODE_SLC_CANTCHANGE = b"\x01"
LINEMODE_SLC_NOSUPPORT = b"\x00"
LINEMODE_SLC_LEVELBITS = b"\x03"

LINEMODE_SLC_ACK = b"\x80"
LINEMODE_SLC_FLUSHIN = b"\x40"
LINEMODE_SLC_FLUSHOUT = b"\x20"
LINEMODE_EOF = b"\xec"
LINEMODE_SUSP = b"\xed"
LINEMODE_ABORT = b"\xee"

#: The command bytes that may follow IAC on their own (no option byte).
SIMPLE_COMMANDS = frozenset(bytes([b]) for b in range(EOF[0], SB[0]) if bytes([b]) != SE)

#: The negotiation commands, each followed by one option byte.
NEGOTIATION_COMMANDS = frozenset((WILL, WONT, DO, DONT))
