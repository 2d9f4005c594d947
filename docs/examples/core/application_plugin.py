# A fwd plugin: an IServiceMaker with a name, a description, options, and a
# makeService.  Declared in a distribution's pyproject.toml:
#
#     [project.entry-points."fw.service_makers"]
#     echo = "mypackage.echoplugin:serviceMaker"
#
# it runs as `fwd -n echo --port 8007`.  Run as a script, this file parses a
# command line the way fwd does and shows the service it makes.

from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.application import internet, service
from fw.internet import protocol
from fw.plugin import IPlugin
from fw.python import usage


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Options(usage.Options):
    optParameters = [
        ["port", "p", 8007, "The port to listen on.", usage.portCoerce],
        ["interface", "i", "127.0.0.1", "The interface to listen on."],
    ]


@implementer(service.IServiceMaker, IPlugin)
class EchoServiceMaker:
    tapname = "echo"
    description = "An echo server."
    options = Options

    def makeService(self, options):
        factory = protocol.ServerFactory.forProtocol(Echo)
        return internet.TCPServer(options["port"], factory, interface=options["interface"])


serviceMaker = EchoServiceMaker()


if __name__ == "__main__":
    verifyObject(service.IServiceMaker, serviceMaker)
    options = serviceMaker.options()
    options.parseOptions(["--port", "9000"])
    made = serviceMaker.makeService(options)
    print(serviceMaker.tapname, "-", serviceMaker.description)
    print(type(made).__name__, made.args[0], made.kwargs)
