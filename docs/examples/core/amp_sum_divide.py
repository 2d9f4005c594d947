"""
Twisted's AMP example, ampserver.py and ampclient.py, in one program: a
``Math`` server answers ``Sum`` and ``Divide``; a client sums, then divides
by zero and gets the server's ``ZeroDivisionError`` back as its own.

The original server listens on port 1234 and runs forever, and its client
connects there; here the server listens on a free port of 127.0.0.1 and the
client stops the reactor once it has its answers.
"""

from fw.internet import reactor
from fw.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from fw.internet.protocol import Factory
from fw.protocols import amp


class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


class Math(amp.AMP):
    def sum(self, a, b):
        total = a + b
        print(f"Did a sum: {a} + {b} = {total}")
        return {"total": total}

    Sum.responder(sum)

    def divide(self, numerator, denominator):
        result = float(numerator) / denominator
        print(f"Divided: {numerator} / {denominator} = {result:f}")
        return {"result": result}

    Divide.responder(divide)


def doMath(port):
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    connected = connectProtocol(endpoint, amp.AMP())

    def summed(result):
        return result["total"]

    def trapZero(failure):
        failure.trap(ZeroDivisionError)
        print("Divided by zero: returning INF")
        return 1e1000

    def calculate(proto):
        sumDeferred = proto.callRemote(Sum, a=13, b=81)
        sumDeferred.addCallback(summed)

        def divide(total):
            # Asked once the sum is answered, so that the output's order is fixed.
            divideDeferred = proto.callRemote(Divide, numerator=1234, denominator=0)
            divideDeferred.addErrback(trapZero)
            divideDeferred.addCallback(lambda result: [total, result])
            return divideDeferred

        sumDeferred.addCallback(divide)
        return sumDeferred

    def done(result):
        print("Done with math:", result)

    connected.addCallback(calculate)
    connected.addCallback(done)
    connected.addCallback(lambda _: port.stopListening())
    connected.addBoth(lambda _: reactor.stop())


listening = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Factory.forProtocol(Math))
listening.addCallback(doMath)
reactor.run()
