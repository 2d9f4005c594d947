/*
 * echo_load: a small TCP load generator for the fw benchmarks.
 *
 * Modes (-m):
 *   echo     N connections (-n), each with one M-byte message (-s) in flight:
 *            write it, read the M bytes echoed back, count one round trip,
 *            write the next.  Prints round trips per second.
 *   connect  N connection slots; each slot connects, writes one M-byte
 *            message, reads the M-byte reply and closes (with SO_LINGER 0,
 *            so no TIME_WAIT exhausts the ports), then starts over.  Prints
 *            completed connections per second.
 *   bulk     One connection (N is ignored) writing M-byte blocks as fast as
 *            the peer reads them; the peer sinks the data.  Prints bytes
 *            written per second.
 *
 * Runs for -t seconds (a float) against 127.0.0.1:-p, pinned to CPU -c when
 * given, and prints one JSON object on stdout:
 *   {"mode":..., "ops":..., "bytes":..., "seconds":..., "rate":...,
 *    "cpu_seconds":..., "errors":...}
 * "cpu_seconds" is this process's user + system time (getrusage), so the
 * caller can tell whether the generator itself was the bottleneck.
 *
 * One thread, non-blocking sockets, level-triggered epoll.  Exit status is
 * 0 on success, 1 on bad usage, 2 when the server could not be reached or
 * misbehaved (a short or wrong echo, a closed connection in echo mode).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { ECHO, CONNECT, BULK };

struct conn {
    int fd;
    size_t sent;     /* bytes of the current message written */
    size_t received; /* bytes of the current reply read */
    int connecting;
};

static enum mode mode = ECHO;
static int nconns = 50;
static size_t msgsize = 64;
static double duration = 5.0;
static int port = 0;
static int cpu = -1;

static struct sockaddr_in server;
static unsigned char *message;
static unsigned char *replybuf;
static long long ops, errors, bytes;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static int open_socket(int *inprogress)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) == 0) {
        *inprogress = 0;
    } else if (errno == EINPROGRESS) {
        *inprogress = 1;
    } else {
        close(fd);
        return -1;
    }
    return fd;
}

static void watch(int ep, int op, struct conn *c, unsigned events)
{
    struct epoll_event ev;
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die("epoll_ctl");
}

/* Start (or restart) a connection slot; returns 0, or -1 if connect failed. */
static int start(int ep, struct conn *c)
{
    int inprogress;
    c->fd = open_socket(&inprogress);
    if (c->fd < 0)
        return -1;
    c->sent = c->received = 0;
    c->connecting = inprogress;
    watch(ep, EPOLL_CTL_ADD, c, EPOLLOUT);
    return 0;
}

static void finish(int ep, struct conn *c, int reset)
{
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* Write what is left of the message; returns -1 on error. */
static int pump_out(int ep, struct conn *c)
{
    while (c->sent < msgsize) {
        ssize_t n = write(c->fd, message + c->sent, msgsize - c->sent);
        if (n < 0) {
            if (errno == EAGAIN)
                return 0;
            return -1;
        }
        c->sent += (size_t)n;
        bytes += n;
    }
    watch(ep, EPOLL_CTL_MOD, c, EPOLLIN);
    return 0;
}

/* Read the reply; returns 1 when complete, 0 when more is due, -1 on error. */
static int pump_in(struct conn *c)
{
    while (c->received < msgsize) {
        ssize_t n = read(c->fd, replybuf + c->received, msgsize - c->received);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        if (n == 0)
            return -1;
        c->received += (size_t)n;
    }
    if (memcmp(replybuf, message, msgsize) != 0)
        return -1;
    return 1;
}

static int run_requests(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *conns = calloc((size_t)nconns, sizeof *conns);
    struct epoll_event events[256];
    double deadline = now() + duration;
    int i;
    if (ep < 0 || conns == NULL)
        die("setup");
    for (i = 0; i < nconns; i++) {
        if (start(ep, &conns[i]) < 0)
            die("connect");
    }
    while (now() < deadline) {
        int n = epoll_wait(ep, events, 256, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            int done;
            if (c->fd < 0)
                continue;
            if (c->connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0)
                    goto failed;
                c->connecting = 0;
            }
            if (c->sent < msgsize) {
                if (pump_out(ep, c) < 0)
                    goto failed;
                continue;
            }
            done = pump_in(c);
            if (done < 0)
                goto failed;
            if (done == 0)
                continue;
            ops++;
            if (mode == ECHO) {
                c->sent = c->received = 0;
                if (pump_out(ep, c) < 0)
                    goto failed;
            } else {
                finish(ep, c, 1);
                if (start(ep, c) < 0)
                    errors++;
            }
            continue;
        failed:
            errors++;
            if (mode == ECHO) {
                fprintf(stderr, "echo_load: connection failed or bad echo\n");
                return 2;
            }
            finish(ep, c, 1);
            if (start(ep, c) < 0)
                errors++;
        }
        /* Slots whose connect() failed outright are retried here. */
        if (mode == CONNECT) {
            for (i = 0; i < nconns; i++) {
                if (conns[i].fd < 0 && start(ep, &conns[i]) < 0)
                    errors++;
            }
        }
    }
    return 0;
}

static int run_bulk(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn c;
    struct epoll_event ev;
    double deadline = now() + duration;
    if (ep < 0)
        die("epoll_create1");
    if (start(ep, &c) < 0)
        die("connect");
    while (now() < deadline) {
        int n = epoll_wait(ep, &ev, 1, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        if (n == 0)
            continue;
        if (c.connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                errno = err;
                die("connect");
            }
            c.connecting = 0;
        }
        for (;;) {
            ssize_t w = write(c.fd, message, msgsize);
            if (w < 0) {
                if (errno == EAGAIN)
                    break;
                die("write");
            }
            bytes += w;
            if ((size_t)w == msgsize)
                ops++;
            else
                break;
        }
    }
    finish(ep, &c, 0);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: echo_load -p PORT [-m echo|connect|bulk] [-n CONNS] [-s BYTES]"
                    " [-t SECONDS] [-c CPU]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    int opt, status;
    double start_time, elapsed;
    struct rusage ru;
    size_t i;
    while ((opt = getopt(argc, argv, "m:n:s:t:p:c:")) != -1) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "echo") == 0)
                mode = ECHO;
            else if (strcmp(optarg, "connect") == 0)
                mode = CONNECT;
            else if (strcmp(optarg, "bulk") == 0)
                mode = BULK;
            else
                usage();
            break;
        case 'n':
            nconns = atoi(optarg);
            break;
        case 's':
            msgsize = (size_t)atol(optarg);
            break;
        case 't':
            duration = atof(optarg);
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            cpu = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (port <= 0 || port > 65535 || nconns <= 0 || msgsize == 0 || duration <= 0)
        usage();
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0)
            die("sched_setaffinity");
    }
    message = malloc(msgsize);
    replybuf = malloc(msgsize);
    if (message == NULL || replybuf == NULL)
        die("malloc");
    for (i = 0; i < msgsize; i++)
        message[i] = (unsigned char)('a' + i % 26);
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    start_time = now();
    status = mode == BULK ? run_bulk() : run_requests();
    elapsed = now() - start_time;
    if (status != 0)
        return status;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"mode\": \"%s\", \"ops\": %lld, \"bytes\": %lld, \"seconds\": %.6f, "
           "\"rate\": %.3f, \"cpu_seconds\": %.6f, \"errors\": %lld}\n",
           mode == ECHO ? "echo" : mode == CONNECT ? "connect" : "bulk", ops, bytes, elapsed,
           (mode == BULK ? (double)bytes : (double)ops) / elapsed,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
           errors);
    return 0;
}
