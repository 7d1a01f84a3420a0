// vnb-wire: the built-in engine's data path for request/response and open-loop load, in C so
// that nothing of a garbage-collected event loop sits between a message and its timestamps.
// Request/response is sockperf's ping-pong: client and server block in the kernel. The open-loop
// client sends and receives on one thread that waits in poll(2) or spins (below); the server
// answers from a blocking thread. The Node side plans the trial and makes every figure from the
// records written here (wire.ts reads them), after the flow ends.
//
// One process serves flow after flow, so a trial does not wait for a process to start. It reads
// commands from stdin, a line each, and ends when stdin closes:
//
//   serve udp|tcp HOST REQUEST RESPONSE HEADER
//       writes a listening record with the bound port, then echoes: each request of REQUEST bytes
//       gets RESPONSE bytes whose first HEADER bytes are the request's, until a "close" line.
//   rr udp|tcp HOST PORT REQUEST RESPONSE WARMUP_NS DURATION_NS
//   paced udp|tcp HOST PORT REQUEST RESPONSE WARMUP_NS DURATION_NS INTERVAL_NS
//       run one flow's client side and write its 40-byte records (below) to stdout.
//
// Every command ends with an end record. A server's threads stay, idle, until the next command
// or the end: their CPU time stays readable in /proc for the monitor that attributes it to the
// generator. `vnb-wire version` prints the version.

#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  KIND_START = 1,       // a = start ns, b = first measured message (paced), seq = total messages (paced)
  KIND_TRANSACTION = 2, // a = sent ns, b = answered ns (-1: lost)
  KIND_ANSWER = 3,      // seq, lateness (its message's), intended_us, a = read ns, b = receive lag ns (-1: unknown)
  KIND_SENT = 4,        // seq, lateness: one measured message left (ns after it was due)
  KIND_SUMMARY = 5,     // seq = sent, lateness = times the socket was full, a = last sent ns, b = sent measured
  KIND_END = 6,         // seq = errno of a failure (0: none)
  KIND_LISTENING = 7,   // seq = the port a server is bound to
};

typedef struct {
  uint32_t kind, seq, lateness, pad;
  double intended_us;
  int64_t a, b;
} record_t;

_Static_assert(sizeof(record_t) == 40, "records are 40 bytes");

// The ring holds 2^22 records (160 MiB of address space, touched only as filled): a flow of up
// to 10 s at 100k messages/s (two records each) is reported after it ends, nothing written
// while it runs; a longer one is written out half a ring at a time.
enum { HEADER_BYTES = 16, RING_SIZE = 1 << 22, WRITER_POLL_NS = 20000000 };

static int64_t clock_ns(clockid_t clock) {
  struct timespec now;
  clock_gettime(clock, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}
static int64_t mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("vnb-wire: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(2);
}

// One producer thread (the data path), one consumer (the writer): the data path never makes a
// system call to report what it measured, and the writer drains the ring only when it is half
// full or the flow is over, so the reader (Node) has nothing to do while messages are timed.
typedef struct {
  record_t slots[RING_SIZE];
  _Atomic uint64_t head, tail;
} ring_t;

static ring_t *ring;

static void ring_put(const record_t *record) {
  uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  while (head - atomic_load_explicit(&ring->tail, memory_order_acquire) >= RING_SIZE) sched_yield();
  ring->slots[head % RING_SIZE] = *record;
  atomic_store_explicit(&ring->head, head + 1, memory_order_release);
}

// The writer sleeps on this until a poll interval passes (while a flow runs) or a flush is asked.
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t writer_wake = PTHREAD_COND_INITIALIZER, writer_flushed = PTHREAD_COND_INITIALIZER;
static int flow_running, flush_wanted;

static void write_all(int fd, const void *data, size_t length) {
  const char *bytes = data;
  while (length > 0) {
    ssize_t written = write(fd, bytes, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) exit(3); // the reader is gone: nobody wants the rest
    bytes += written;
    length -= (size_t)written;
  }
}

static void drain_ring(int all) {
  static record_t batch[4096];
  uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
  uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
  if (!all && head - tail < RING_SIZE / 2) return;
  while (tail < head) {
    size_t n = 0;
    while (tail < head && n < sizeof batch / sizeof batch[0]) batch[n++] = ring->slots[tail++ % RING_SIZE];
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    write_all(1, batch, n * sizeof(record_t));
  }
}

static void *writer(void *unused) {
  (void)unused;
  pthread_mutex_lock(&writer_lock);
  for (;;) {
    if (flush_wanted) {
      pthread_mutex_unlock(&writer_lock);
      drain_ring(1);
      pthread_mutex_lock(&writer_lock);
      flush_wanted = 0;
      pthread_cond_signal(&writer_flushed);
    } else if (flow_running) {
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_nsec += WRITER_POLL_NS;
      if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&writer_wake, &writer_lock, &until);
      pthread_mutex_unlock(&writer_lock);
      drain_ring(0);
      pthread_mutex_lock(&writer_lock);
    } else {
      pthread_cond_wait(&writer_wake, &writer_lock);
    }
  }
  return NULL;
}

// Allocates the ring and starts the thread that writes it out, once for the process.
static void start_writer(void) {
  ring = calloc(1, sizeof(ring_t));
  if (!ring) fail("out of memory");
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&writer_wake, &monotonic);
  pthread_t thread;
  if (pthread_create(&thread, NULL, writer, NULL) != 0) fail("cannot start the writer thread");
}

// A flow's records may now be written out when the ring is half full.
static void flow_started(void) {
  pthread_mutex_lock(&writer_lock);
  flow_running = 1;
  pthread_cond_signal(&writer_wake);
  pthread_mutex_unlock(&writer_lock);
}

// Writes every record the ring holds, then the end record of the command.
static void finish(int error) {
  pthread_mutex_lock(&writer_lock);
  flow_running = 0;
  flush_wanted = 1;
  pthread_cond_signal(&writer_wake);
  while (flush_wanted) pthread_cond_wait(&writer_flushed, &writer_lock);
  pthread_mutex_unlock(&writer_lock);
  record_t end = {.kind = KIND_END, .seq = (uint32_t)error};
  write_all(1, &end, sizeof end);
}

static long number(const char *text, const char *what) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno || *end || value < 0) fail("%s must be a non-negative integer, got \"%s\"", what, text);
  return value;
}

static int is_udp(const char *protocol) {
  if (!strcmp(protocol, "udp")) return 1;
  if (!strcmp(protocol, "tcp")) return 0;
  fail("protocol must be udp or tcp, got \"%s\"", protocol);
  return 0;
}

static void socket_options(int fd, int udp) {
  int size = 4 << 20, on = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (!udp) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static struct addrinfo *resolve(const char *host, const char *port, int udp, int passive) {
  struct addrinfo hints = {.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
                           .ai_flags = AI_NUMERICHOST | (passive ? AI_PASSIVE : 0)};
  struct addrinfo *found;
  int status = getaddrinfo(host, port, &hints, &found);
  if (status) fail("address %s: %s", host, gai_strerror(status));
  return found;
}

static int connect_to(const char *host, const char *port, int udp) {
  struct addrinfo *address = resolve(host, port, udp, 0);
  int fd = socket(address->ai_family, address->ai_socktype, 0);
  if (fd < 0) fail("socket: %s", strerror(errno));
  socket_options(fd, udp);
  if (connect(fd, address->ai_addr, address->ai_addrlen) < 0)
    fail("connect to %s port %s: %s", host, port, strerror(errno));
  freeaddrinfo(address);
  return fd;
}

// Reads exactly `length` bytes; 0 when the peer closed or the socket failed.
static int read_fully(int fd, char *buffer, size_t length) {
  while (length > 0) {
    ssize_t got = recv(fd, buffer, length, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 0;
    buffer += got;
    length -= (size_t)got;
  }
  return 1;
}

static int send_fully(int fd, const char *buffer, size_t length) {
  while (length > 0) {
    ssize_t sent = send(fd, buffer, length, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return 0;
    buffer += sent;
    length -= (size_t)sent;
  }
  return 1;
}

/* ---- server ---- */

static size_t request_size, response_size, header_size;
static int listen_fd = -1;
static _Atomic int closing;

// The server's threads, and the connections they answer, until they are released.
static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released_wake = PTHREAD_COND_INITIALIZER;
static int released;
static pthread_t *server_threads;
static size_t server_thread_count, server_thread_capacity;
static int *connections;
static size_t connection_count, connection_capacity;

static void *grow(void *array, size_t *capacity, size_t size) {
  *capacity = *capacity ? *capacity * 2 : 16;
  void *grown = realloc(array, *capacity * size);
  if (!grown) fail("out of memory");
  return grown;
}

// Starts a server thread; with `fd` >= 0, a connection of the server (shut down when it closes).
static int start_server_thread(void *(*run)(void *), int fd) {
  pthread_mutex_lock(&server_lock);
  if (fd >= 0 && atomic_load(&closing)) shutdown(fd, SHUT_RDWR);
  pthread_t thread;
  int started = pthread_create(&thread, NULL, run, (void *)(intptr_t)fd) == 0;
  if (started) {
    if (server_thread_count == server_thread_capacity)
      server_threads = grow(server_threads, &server_thread_capacity, sizeof *server_threads);
    server_threads[server_thread_count++] = thread;
    if (fd >= 0) {
      if (connection_count == connection_capacity)
        connections = grow(connections, &connection_capacity, sizeof *connections);
      connections[connection_count++] = fd;
    }
  }
  pthread_mutex_unlock(&server_lock);
  return started;
}

// A server thread whose work is done waits here, idle, until released.
static void *park(void) {
  pthread_mutex_lock(&server_lock);
  while (!released) pthread_cond_wait(&released_wake, &server_lock);
  pthread_mutex_unlock(&server_lock);
  return NULL;
}

// Ends the parked threads of the last server and closes its sockets.
static void release_server(void) {
  pthread_mutex_lock(&server_lock);
  released = 1;
  pthread_cond_broadcast(&released_wake);
  pthread_mutex_unlock(&server_lock);
  // The first thread listens: once it has ended, no connection is added.
  for (size_t i = 0; i < server_thread_count; i++) pthread_join(server_threads[i], NULL);
  for (size_t i = 0; i < connection_count; i++) close(connections[i]);
  if (listen_fd >= 0) close(listen_fd);
  listen_fd = -1;
  server_thread_count = connection_count = 0;
  released = 0;
  atomic_store(&closing, 0);
}

static void *serve_udp(void *unused) {
  (void)unused;
  char *request = malloc(request_size > 65536 ? request_size : 65536);
  char *response = malloc(response_size);
  if (!request || !response) fail("out of memory");
  memset(response, 0x5a, response_size);
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t peer_length = sizeof peer;
    ssize_t got = recvfrom(listen_fd, request, 65536, 0, (struct sockaddr *)&peer, &peer_length);
    if (atomic_load(&closing)) break;
    if (got < 0) continue;
    size_t header = (size_t)got < header_size ? (size_t)got : header_size;
    memcpy(response, request, header);
    sendto(listen_fd, response, response_size, 0, (struct sockaddr *)&peer, peer_length);
  }
  free(request);
  free(response);
  return park();
}

// One connection: each complete request gets its answer; the answers to one read go in one write.
static void *serve_connection(void *argument) {
  int fd = (int)(intptr_t)argument;
  size_t capacity = 256 * 1024;
  char *input = malloc(capacity);
  size_t answers_capacity = 64;
  char *answers = malloc(answers_capacity * response_size);
  if (!input || !answers) fail("out of memory");
  char header[HEADER_BYTES];
  size_t partial = 0;
  for (;;) {
    ssize_t got = recv(fd, input, capacity, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0 || atomic_load(&closing)) break;
    size_t completed = 0;
    for (size_t offset = 0; offset < (size_t)got;) {
      if (partial < header_size) {
        size_t take = header_size - partial;
        if (take > (size_t)got - offset) take = (size_t)got - offset;
        memcpy(header + partial, input + offset, take);
      }
      size_t take = request_size - partial;
      if (take > (size_t)got - offset) take = (size_t)got - offset;
      partial += take;
      offset += take;
      if (partial < request_size) continue;
      partial = 0;
      if (completed == answers_capacity) {
        answers_capacity *= 2;
        answers = realloc(answers, answers_capacity * response_size);
        if (!answers) fail("out of memory");
      }
      char *answer = answers + completed++ * response_size;
      memset(answer, 0x5a, response_size);
      memcpy(answer, header, header_size);
    }
    if (completed > 0 && !send_fully(fd, answers, completed * response_size)) break;
  }
  free(input);
  free(answers);
  return park();
}

static void *accept_connections(void *unused) {
  (void)unused;
  for (;;) {
    int fd = accept(listen_fd, NULL, NULL);
    if (atomic_load(&closing)) {
      if (fd >= 0) close(fd);
      break;
    }
    if (fd < 0) continue;
    socket_options(fd, 0);
    if (!start_server_thread(serve_connection, fd)) close(fd);
  }
  return park();
}

static int read_line(char *line, size_t capacity);

static int serve(int argc, char **argv) {
  if (argc != 7) fail("usage: serve udp|tcp HOST REQUEST RESPONSE HEADER");
  int udp = is_udp(argv[2]);
  request_size = (size_t)number(argv[4], "REQUEST");
  response_size = (size_t)number(argv[5], "RESPONSE");
  header_size = (size_t)number(argv[6], "HEADER");
  if (!request_size || !response_size || header_size > HEADER_BYTES || header_size > request_size ||
      header_size > response_size)
    fail("sizes: request and response ≥ 1 byte, header at most 16 bytes and no longer than either");
  struct addrinfo *address = resolve(argv[3], "0", udp, 1);
  listen_fd = socket(address->ai_family, address->ai_socktype, 0);
  if (listen_fd < 0) fail("socket: %s", strerror(errno));
  int on = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  socket_options(listen_fd, udp);
  if (bind(listen_fd, address->ai_addr, address->ai_addrlen) < 0) fail("bind %s: %s", argv[3], strerror(errno));
  if (!udp && listen(listen_fd, 64) < 0) fail("listen: %s", strerror(errno));
  freeaddrinfo(address);
  struct sockaddr_storage bound;
  socklen_t bound_length = sizeof bound;
  getsockname(listen_fd, (struct sockaddr *)&bound, &bound_length);
  int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
  if (!start_server_thread(udp ? serve_udp : accept_connections, -1)) fail("cannot start serving");
  record_t listening = {.kind = KIND_LISTENING, .seq = (uint32_t)port};
  write_all(1, &listening, sizeof listening);
  char line[64];
  while (read_line(line, sizeof line) && strcmp(line, "close")) {
  }
  // Shutting the sockets down wakes the threads blocked in them, which then park.
  pthread_mutex_lock(&server_lock);
  atomic_store(&closing, 1);
  shutdown(listen_fd, SHUT_RDWR);
  for (size_t i = 0; i < connection_count; i++) shutdown(connections[i], SHUT_RDWR);
  pthread_mutex_unlock(&server_lock);
  return 0;
}

/* ---- request/response client ---- */

static record_t start_record(int64_t start_ns, int64_t first_measured, int64_t total) {
  return (record_t){.kind = KIND_START, .seq = (uint32_t)total, .a = start_ns, .b = first_measured};
}

enum { UDP_SEQ_BYTES = 4, LOSS_TIMEOUT_RTTS = 20 };
static const int64_t LOSS_TIMEOUT_FLOOR_NS = 50000000;

static void set_receive_timeout(int fd, int64_t timeout_ns) {
  struct timeval timeout = {.tv_sec = timeout_ns / 1000000000, .tv_usec = (timeout_ns % 1000000000) / 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

static int rr(int argc, char **argv) {
  if (argc != 9) fail("usage: rr udp|tcp HOST PORT REQUEST RESPONSE WARMUP_NS DURATION_NS");
  int udp = is_udp(argv[2]);
  size_t request_bytes = (size_t)number(argv[5], "REQUEST"), response_bytes = (size_t)number(argv[6], "RESPONSE");
  int64_t warmup = number(argv[7], "WARMUP_NS"), duration = number(argv[8], "DURATION_NS");
  if (udp && (request_bytes < UDP_SEQ_BYTES || response_bytes < UDP_SEQ_BYTES))
    fail("udp rr carries a 4-byte sequence number: sizes must be ≥ 4");
  if (!request_bytes || !response_bytes) fail("sizes must be ≥ 1 byte");
  int fd = connect_to(argv[3], argv[4], udp);
  char *request = malloc(request_bytes);
  size_t receive_capacity = response_bytes > 65536 ? response_bytes : 65536;
  char *response = malloc(receive_capacity);
  if (!request || !response) fail("out of memory");
  memset(request, 0x5a, request_bytes);
  flow_started();
  int64_t start = mono_ns(), measure_from = start + warmup, end = measure_from + duration;
  record_t started = start_record(start, 0, 0);
  ring_put(&started);
  int64_t timeout = LOSS_TIMEOUT_FLOOR_NS, total_ns = 0, measured = 0;
  if (udp) set_receive_timeout(fd, timeout);
  uint32_t seq = 0;
  int error = 0;
  for (;;) {
    memcpy(request, &seq, sizeof seq);
    int64_t sent = mono_ns();
    if (!send_fully(fd, request, request_bytes)) {
      error = errno ? errno : EPIPE;
      break;
    }
    int64_t done = -1;
    if (udp) {
      for (;;) {
        ssize_t got = recv(fd, response, receive_capacity, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break; // timed out: lost
        uint32_t answered;
        if ((size_t)got < sizeof answered) continue;
        memcpy(&answered, response, sizeof answered);
        // A late answer to a request already given up on is not the answer to this one.
        if (answered != seq) continue;
        done = mono_ns();
        break;
      }
    } else {
      if (!read_fully(fd, response, response_bytes)) {
        error = errno ? errno : ECONNRESET;
        break;
      }
      done = mono_ns();
    }
    record_t transaction = {.kind = KIND_TRANSACTION, .seq = seq, .a = sent, .b = done};
    ring_put(&transaction);
    seq++;
    int64_t now = done >= 0 ? done : mono_ns();
    if (done >= 0 && sent >= measure_from) {
      total_ns += done - sent;
      measured++;
      int64_t wanted = LOSS_TIMEOUT_RTTS * (total_ns / measured);
      if (wanted < LOSS_TIMEOUT_FLOOR_NS) wanted = LOSS_TIMEOUT_FLOOR_NS;
      if (udp && (wanted > timeout * 11 / 10 || wanted < timeout * 9 / 10)) set_receive_timeout(fd, timeout = wanted);
    }
    if (now >= end) break;
  }
  close(fd);
  free(request);
  free(response);
  return error;
}

/* ---- open-loop client ---- */

// One thread sends and receives, as Node's sender does but with nothing else in its loop: it
// reads the answers that are there, sends what is due, then waits for the next due time, in
// poll(2) (woken by an answer at once) for most of a long gap and spinning for the last stretch,
// which a wake-up would overshoot. Two threads of a client and the server's one would need three
// CPUs to never wait for each other; this needs two. A system call costs about 1 µs on a VM with
// page-table isolation, so every read takes up to 16 answers (recvmmsg) and every send all the
// messages due (sendmmsg, or one write of a stream): a sender that an interrupt held up catches up
// in a few calls, where a call per message kept it late for hundreds of messages.
// Messages sent, or datagrams read, at most in one system call: a sender catching up still reads.
enum { BURST = 16 };

typedef struct {
  int fd, udp;
  size_t request_bytes, response_bytes;
  int64_t start, interval_ns, give_up;
  uint32_t total, first_measured;
  // Sending.
  char *message; // the rest of a message a full stream socket took in part
  char *batch;   // the messages of one send
  uint32_t next, sent, sent_measured, socket_full;
  size_t written;    // bytes of message `next` a full stream socket has taken so far
  uint32_t lateness; // message `next`'s, while it is sent in part
  int64_t last_sent;
  // Receiving.
  char *input;
  size_t capacity, slot, partial; // a stream's read; a datagram's slot of the input
  struct mmsghdr reads[BURST];    // a datagram read: one message a slot
  struct iovec vectors[BURST];
  char controls[BURST][64];
  char header[HEADER_BYTES];
  uint8_t *seen;
  uint32_t *lateness_of; // each message's, when it had left
  uint32_t received_measured;
  int64_t worst;
  int64_t woke_real; // CLOCK_REALTIME when poll(2) last returned
  int error;
} paced_t;

static int64_t due_ns(const paced_t *plan, uint32_t seq) {
  return plan->start + (int64_t)((double)seq * (double)plan->interval_ns);
}

// With one CPU to run on (a small guest, a pinned placement) spinning would starve the server:
// then the wait is all in poll(2).
static int64_t spin_ns = 200000;

static void choose_spin(void) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) < 2) spin_ns = 0;
  // poll(2)'s timeout otherwise ends up to 50 µs late (the default timer slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

// The kernel's arrival time of what a recvmsg returned (CLOCK_REALTIME), 0 when not given.
static int64_t arrival_of(struct msghdr *message) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(message); c; c = CMSG_NXTHDR(message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec stamp;
      memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      return (int64_t)stamp.tv_sec * 1000000000 + stamp.tv_nsec;
    }
  }
  return 0;
}

// Records the whole answers in `got` bytes read at once (a datagram, or what a stream had).
static void take_answers(paced_t *plan, const char *input, size_t got, int64_t read_at, int64_t lag) {
  // A datagram is one answer; a stream's read may hold several, and part of one.
  size_t answer_bytes = plan->udp ? got : plan->response_bytes;
  for (size_t offset = 0; offset < got;) {
    if (plan->partial < HEADER_BYTES) {
      size_t take = HEADER_BYTES - plan->partial;
      if (take > got - offset) take = got - offset;
      memcpy(plan->header + plan->partial, input + offset, take);
    }
    size_t take = answer_bytes - plan->partial;
    if (take > got - offset) take = got - offset;
    plan->partial += take;
    offset += take;
    if (plan->partial < answer_bytes) continue;
    plan->partial = 0;
    if (answer_bytes < HEADER_BYTES) continue;
    record_t record = {.kind = KIND_ANSWER, .a = read_at, .b = lag};
    memcpy(&record.seq, plan->header, 4);
    memcpy(&record.lateness, plan->header + 4, 4);
    memcpy(&record.intended_us, plan->header + 8, 8);
    uint32_t seq = record.seq;
    // The header's lateness was stamped before its send call; once that call had returned we knew
    // when the message left.
    if (seq < plan->next) record.lateness = plan->lateness_of[seq];
    ring_put(&record);
    if (seq >= plan->first_measured && seq < plan->total && !(plan->seen[seq / 8] & (1 << (seq % 8)))) {
      plan->seen[seq / 8] |= (uint8_t)(1 << (seq % 8));
      plan->received_measured++;
      int64_t latency = read_at - (plan->start + (int64_t)(record.intended_us * 1000));
      if (latency > plan->worst) plan->worst = latency;
    }
  }
}

// How long an answer waited to be read (ours), from its kernel arrival time; -1 when unknown. An
// answer that came while the thread slept in poll(2) waited for the scheduler's wake-up, as any
// receiver would: then its lag runs from the wake-up.
static int64_t lag_of(const paced_t *plan, struct msghdr *message, int64_t read_real) {
  int64_t arrival = arrival_of(message);
  int64_t since = arrival > plan->woke_real ? arrival : plan->woke_real;
  return arrival > 0 && read_real >= since ? read_real - since : -1;
}

static void receive_failed(paced_t *plan) {
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) plan->error = errno;
}

// Points each datagram slot of the input, with room for its arrival time, at its read.
static void prepare_reads(paced_t *plan) {
  for (int i = 0; i < BURST; i++) {
    plan->vectors[i] = (struct iovec){plan->input + (size_t)i * plan->slot, plan->slot};
    plan->reads[i].msg_hdr = (struct msghdr){.msg_iov = &plan->vectors[i], .msg_iovlen = 1, .msg_control = plan->controls[i]};
  }
}

// Reads the answers waiting (BURST datagrams, or what a stream has, at most) in one system call
// and records them.
static void receive(paced_t *plan) {
  if (plan->udp) {
    // The kernel shortens each control length to what it wrote: the spinning loop resets only that.
    for (int i = 0; i < BURST; i++) plan->reads[i].msg_hdr.msg_controllen = sizeof plan->controls[i];
    int got = recvmmsg(plan->fd, plan->reads, BURST, MSG_DONTWAIT, NULL);
    if (got <= 0) {
      receive_failed(plan);
      return;
    }
    // Read only when something came: the spinning loop calls this between every two clock checks.
    int64_t read_at = mono_ns(), read_real = clock_ns(CLOCK_REALTIME);
    for (int i = 0; i < got; i++)
      take_answers(plan, plan->input + (size_t)i * plan->slot, plan->reads[i].msg_len, read_at,
                   lag_of(plan, &plan->reads[i].msg_hdr, read_real));
    return;
  }
  char control[64];
  struct iovec vector = {plan->input, plan->capacity};
  struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t got = recvmsg(plan->fd, &message, MSG_DONTWAIT);
  if (got < 0) {
    receive_failed(plan);
    return;
  }
  int64_t read_at = mono_ns(), read_real = clock_ns(CLOCK_REALTIME);
  if (got == 0) {
    plan->error = ECONNRESET;
    return;
  }
  take_answers(plan, plan->input, (size_t)got, read_at, lag_of(plan, &message, read_real));
}

// A message has left whole, `lateness` after it was due.
static void sent_whole(paced_t *plan, uint32_t lateness) {
  plan->lateness_of[plan->next] = lateness;
  plan->sent++;
  if (plan->next >= plan->first_measured) {
    plan->sent_measured++;
    record_t record = {.kind = KIND_SENT, .seq = plan->next, .lateness = lateness};
    ring_put(&record);
  }
  plan->next++;
}

static int send_failed(paced_t *plan) {
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) plan->socket_full++;
  else plan->error = errno;
  return 0;
}

static uint32_t clamp_lateness(int64_t late) {
  return late < 0 ? 0 : late > UINT32_MAX ? UINT32_MAX : (uint32_t)late;
}

// The lateness of message `next`, whose bytes began at `offset` of the `taken` a call from `began`
// to `ended` sent.
static uint32_t lateness_within(const paced_t *plan, int64_t began, int64_t ended, size_t offset, size_t taken) {
  int64_t start = began + (int64_t)((double)(ended - began) * (double)offset / (double)taken);
  return clamp_lateness(start - due_ns(plan, plan->next));
}

// Sends the messages due by `now` (BURST at most) in one system call, or the rest of one a full
// stream socket took in part; returns how many left whole (0: the socket's buffer is full). A
// message's lateness is when its send began, as for a call of its own: the kernel takes a call's
// messages in order, so the i-th of n began i/n of the way through the call.
static int send_due(paced_t *plan, int64_t now) {
  size_t bytes = plan->request_bytes;
  if (plan->written > 0) {
    ssize_t sent = send(plan->fd, plan->message + plan->written, bytes - plan->written, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) return send_failed(plan);
    plan->written += (size_t)sent;
    if (plan->written < bytes) return 0;
    plan->written = 0;
    plan->last_sent = mono_ns();
    sent_whole(plan, plan->lateness);
    return 1;
  }
  int due = 0;
  while (due < BURST && plan->next + (uint32_t)due < plan->total && due_ns(plan, plan->next + (uint32_t)due) <= now) {
    uint32_t seq = plan->next + (uint32_t)due;
    uint32_t lateness = clamp_lateness(now - due_ns(plan, seq));
    double intended_us = (double)seq * (double)plan->interval_ns / 1000;
    char *message = plan->batch + (size_t)due * bytes;
    memcpy(message, &seq, 4);
    memcpy(message + 4, &lateness, 4);
    memcpy(message + 8, &intended_us, 8);
    due++;
  }
  int whole;
  size_t taken; // bytes the socket took
  if (plan->udp) {
    struct mmsghdr messages[BURST];
    struct iovec vectors[BURST];
    for (int i = 0; i < due; i++) {
      vectors[i] = (struct iovec){plan->batch + (size_t)i * bytes, bytes};
      messages[i].msg_hdr = (struct msghdr){.msg_iov = &vectors[i], .msg_iovlen = 1};
    }
    whole = sendmmsg(plan->fd, messages, (unsigned)due, MSG_DONTWAIT);
    if (whole < 0) return send_failed(plan);
    taken = (size_t)whole * bytes;
  } else {
    ssize_t sent = send(plan->fd, plan->batch, (size_t)due * bytes, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) return send_failed(plan);
    taken = (size_t)sent;
    whole = (int)(taken / bytes);
    plan->written = taken % bytes;
  }
  int64_t ended = mono_ns();
  for (int i = 0; i < whole; i++) sent_whole(plan, lateness_within(plan, now, ended, (size_t)i * bytes, taken));
  if (plan->written > 0) {
    // The rest of this one goes when the socket takes it.
    memcpy(plan->message, plan->batch + (size_t)whole * bytes, bytes);
    plan->lateness = lateness_within(plan, now, ended, (size_t)whole * bytes, taken);
    plan->socket_full++;
  }
  if (whole > 0) plan->last_sent = ended;
  return whole;
}

static void wait_readable(paced_t *plan, int64_t timeout_ns) {
  struct pollfd readable = {.fd = plan->fd, .events = POLLIN};
  struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
  ppoll(&readable, 1, &timeout, NULL);
  plan->woke_real = clock_ns(CLOCK_REALTIME);
}

static const int64_t DRAIN_FLOOR_NS = 100000000, DRAIN_CEILING_NS = 2000000000;

static void paced_loop(paced_t *plan) {
  int64_t drain_until = -1;
  for (;;) {
    receive(plan);
    if (plan->error) return;
    int64_t now = mono_ns();
    if (plan->next < plan->total && now <= plan->give_up) {
      if (due_ns(plan, plan->next) <= now) {
        send_due(plan, now);
        if (plan->error) return;
      } else {
        int64_t gap = due_ns(plan, plan->next) - now;
        if (gap > spin_ns) wait_readable(plan, gap - spin_ns);
      }
      continue;
    }
    // Every message sent (or given up on): the stragglers get a while, unless all have come.
    if (drain_until < 0) {
      int64_t wait = 4 * plan->worst;
      if (wait < DRAIN_FLOOR_NS) wait = DRAIN_FLOOR_NS;
      if (wait > DRAIN_CEILING_NS) wait = DRAIN_CEILING_NS;
      drain_until = now + wait;
    }
    if (plan->received_measured >= plan->sent_measured || now >= drain_until) return;
    wait_readable(plan, drain_until - now);
  }
}

static const int64_t START_DELAY_NS = 5000000, GIVE_UP_AFTER_NS = 1000000000;

static int paced(int argc, char **argv) {
  if (argc != 10) fail("usage: paced udp|tcp HOST PORT REQUEST RESPONSE WARMUP_NS DURATION_NS INTERVAL_NS");
  static paced_t plan;
  memset(&plan, 0, sizeof plan);
  plan.udp = is_udp(argv[2]);
  plan.request_bytes = (size_t)number(argv[5], "REQUEST");
  plan.response_bytes = (size_t)number(argv[6], "RESPONSE");
  int64_t warmup = number(argv[7], "WARMUP_NS"), duration = number(argv[8], "DURATION_NS");
  plan.interval_ns = number(argv[9], "INTERVAL_NS");
  if (plan.request_bytes < HEADER_BYTES || plan.response_bytes < HEADER_BYTES)
    fail("paced messages carry a 16-byte header: sizes must be ≥ 16");
  if (plan.interval_ns <= 0) fail("INTERVAL_NS must be positive");
  double first = ceil((double)warmup / (double)plan.interval_ns);
  double total = ceil((double)(warmup + duration) / (double)plan.interval_ns);
  if (total > UINT32_MAX) fail("a trial of more than 2^32 messages");
  plan.first_measured = (uint32_t)first;
  plan.total = (uint32_t)total;
  plan.message = malloc(plan.request_bytes);
  memset(plan.message, 0x5a, plan.request_bytes);
  plan.batch = malloc(BURST * plan.request_bytes);
  plan.slot = plan.response_bytes;
  plan.capacity = plan.udp ? BURST * plan.slot : plan.response_bytes > 256 * 1024 ? plan.response_bytes : 256 * 1024;
  plan.input = malloc(plan.capacity);
  plan.seen = calloc(plan.total / 8 + 1, 1);
  plan.lateness_of = malloc(((size_t)plan.total + 1) * sizeof *plan.lateness_of);
  if (!plan.message || !plan.batch || !plan.input || !plan.seen || !plan.lateness_of) fail("out of memory");
  if (plan.udp) prepare_reads(&plan);
  plan.fd = connect_to(argv[3], argv[4], plan.udp);
  int on = 1;
  setsockopt(plan.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  choose_spin();
  flow_started();
  plan.start = mono_ns() + START_DELAY_NS;
  plan.give_up = plan.start + warmup + duration + GIVE_UP_AFTER_NS;
  record_t started = start_record(plan.start, plan.first_measured, plan.total);
  ring_put(&started);
  paced_loop(&plan);
  record_t summary = {.kind = KIND_SUMMARY,
                      .seq = plan.sent,
                      .lateness = plan.socket_full,
                      .a = plan.last_sent,
                      .b = plan.sent_measured};
  ring_put(&summary);
  close(plan.fd);
  free(plan.message);
  free(plan.batch);
  free(plan.input);
  free(plan.seen);
  free(plan.lateness_of);
  return plan.error;
}

// One line of stdin, without its newline; 0 at the end of input. A line too long is cut.
static int read_line(char *line, size_t capacity) {
  static char buffer[4096];
  static size_t start, end;
  size_t length = 0;
  for (;;) {
    while (start < end) {
      char c = buffer[start++];
      if (c == '\n') {
        line[length] = 0;
        return 1;
      }
      if (length + 1 < capacity) line[length++] = c;
    }
    ssize_t got = read(0, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return 0;
    start = 0;
    end = (size_t)got;
  }
}

enum { MAX_WORDS = 16 };

static void run_command(char *line) {
  char *argv[MAX_WORDS + 1] = {"vnb-wire"};
  int argc = 1;
  for (char *word = strtok(line, " "); word; word = strtok(NULL, " ")) {
    if (argc == MAX_WORDS) fail("a command of more than %d words", MAX_WORDS - 1);
    argv[argc++] = word;
  }
  if (argc < 2) return;
  int error;
  if (!strcmp(argv[1], "serve")) error = serve(argc, argv);
  else if (!strcmp(argv[1], "rr")) error = rr(argc, argv);
  else if (!strcmp(argv[1], "paced")) error = paced(argc, argv);
  else fail("unknown command \"%s\": serve, rr or paced", argv[1]);
  finish(error);
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && !strcmp(argv[1], "version")) return puts("vnb-wire 2") < 0;
  if (argc != 1) fail("usage: vnb-wire (commands on stdin) | vnb-wire version");
  start_writer();
  char line[1024];
  while (read_line(line, sizeof line)) {
    release_server();
    run_command(line);
  }
  release_server();
  return 0;
}
