/*
 * The CLI's first step (bin/deimos runs it when it was built): a plain
 * `deimos put SRC OID`, `deimos get OID DEST` or `deimos ping` sent to a
 * running service without starting Node. Node's start-up is 0.03-0.07 s
 * here, a fifth of a 1 GiB get through the service (README, "Store").
 *
 * It only sends: the service does the work, and formats what the user sees
 * (a "text" reply, see service/textReply.ts): stdout and stderr bytes, then the
 * exit code. Everything else is the Node CLI's, which this program execs
 * unchanged: another command or form (options, `-`), a terminal on stderr
 * (progress bars), no service listening, a socket path the Node CLI would
 * turn into an abstract name, any doubt before the request is sent. After
 * it is sent, the command belongs to the service: a lost connection is
 * reported as the Node CLI reports it, never retried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* As socketPath.cts: a longer path gets an abstract name, which Node computes. */
#define MAX_SOCKET_PATH 100

static char *const *node_argv;

/* Runs the Node CLI (bin/deimos.cjs next to this program's ../bin) with the same arguments. */
static void run_node (void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
      *slash = 0;
      char entry[PATH_MAX];
      if (snprintf(entry, sizeof(entry), "%s/../bin/deimos.cjs", self) < (int) sizeof(entry)) {
        int argc = 0;
        while (node_argv[argc] != NULL) argc++;
        char **args = calloc(argc + 2, sizeof(char *));
        if (args != NULL) {
          args[0] = "node";
          args[1] = entry;
          for (int i = 1; i < argc; i++) args[i + 1] = node_argv[i];
          execvp("node", args);
        }
      }
    }
  }
  fprintf(stderr, "deimos: cannot start the Node CLI: %s; check that node is on PATH\n", strerror(errno));
  exit(2);
}

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static void put_bytes (buf_t *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) run_node();
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

static void put_str (buf_t *b, const char *s) { put_bytes(b, s, strlen(s)); }

/* A JSON string; bytes that are not UTF-8 reach the service as Node would send them (U+FFFD). */
static void put_json (buf_t *b, const char *s) {
  put_str(b, "\"");
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char) *p;
      put_bytes(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof(esc), "\\u%04x", *p);
      put_str(b, esc);
    } else {
      put_bytes(b, (const char *) p, 1);
    }
  }
  put_str(b, "\"");
}

/* Where the service listens: $DEIMOS_HOME/service.sock, as core/home.cts decides the home. */
static int socket_path (char *out, size_t size) {
  const char *home = getenv("DEIMOS_HOME");
  int n;
  if (home != NULL && home[0] != 0) {
    n = snprintf(out, size, "%s/service.sock", home);
  } else if (getuid() == 0) {
    n = snprintf(out, size, "/var/lib/deimos/service.sock");
  } else {
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg != NULL) {
      n = snprintf(out, size, "%s/deimos/service.sock", xdg);
    } else {
      const char *h = getenv("HOME");
      if (h == NULL || h[0] == 0) {
        struct passwd *pw = getpwuid(getuid());
        if (pw == NULL) return -1;
        h = pw->pw_dir;
      }
      n = snprintf(out, size, "%s/.local/share/deimos/service.sock", h);
    }
  }
  return (n > 0 && n <= MAX_SOCKET_PATH && (size_t) n < size) ? 0 : -1;
}

/* 0, or -1 with errno. */
static int write_all (int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t) w;
  }
  return 0;
}

/* Appends what the socket has to `b`: 1, or 0 at its end, or -1 with errno. */
static int read_more (int sock, buf_t *b) {
  char chunk[65536];
  for (;;) {
    ssize_t r = read(sock, chunk, sizeof(chunk));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return (int) r;
    put_bytes(b, chunk, (size_t) r);
    return 1;
  }
}

static int lost (const char *detail) {
  if (detail == NULL) {
    fprintf(stderr, "deimos: the service closed the connection before answering; check the service log; retry\n");
  } else {
    fprintf(stderr, "deimos: lost the service connection: %s; check the service log; retry\n", detail);
  }
  return EIO;
}

/*
 * The reply: frames of one tag byte ('o' stdout, 'e' stderr, 'x' exit code),
 * the payload's length in decimal, a newline, the payload.
 */
static int relay (int sock) {
  buf_t b = { 0 };
  size_t pos = 0;
  for (;;) {
    char *nl = b.len > pos ? memchr(b.data + pos, '\n', b.len - pos) : NULL;
    if (nl != NULL) {
      char tag = b.data[pos];
      char *end;
      unsigned long n = strtoul(b.data + pos + 1, &end, 10);
      if (end != nl || (tag != 'o' && tag != 'e' && tag != 'x')) return lost("unreadable answer");
      size_t start = (size_t) (nl - b.data) + 1;
      if (b.len - start >= n) {
        if (tag == 'x') {
          char code[16];
          if (n == 0 || n >= sizeof(code)) return lost("unreadable answer");
          memcpy(code, b.data + start, n);
          code[n] = 0;
          return atoi(code);
        }
        // A closed stdout or stderr does not stop the relay: the exit code still comes.
        (void) write_all(tag == 'o' ? 1 : 2, b.data + start, n);
        pos = start + n;
        continue;
      }
    }
    int r = read_more(sock, &b);
    if (r == 0) return lost(NULL);
    if (r < 0) {
      char detail[128];
      snprintf(detail, sizeof(detail), "read %s", errno == ECONNRESET ? "ECONNRESET" : strerror(errno));
      return lost(detail);
    }
  }
}

int main (int argc, char **argv) {
  node_argv = argv;
  static const struct { const char *cmd; const char *names[2]; int n; } QUICK[] = {
    { "put", { "src", "oid" }, 2 },
    { "get", { "oid", "dest" }, 2 },
    { "ping", { NULL, NULL }, 0 },
  };
  if (argc < 2 || isatty(2)) run_node();
  int q = -1;
  for (int i = 0; i < 3; i++) if (strcmp(argv[1], QUICK[i].cmd) == 0) q = i;
  if (q < 0 || argc != 2 + QUICK[q].n) run_node();
  for (int i = 2; i < argc; i++) if (argv[i][0] == 0 || argv[i][0] == '-') run_node();

  char path[PATH_MAX];
  char cwd[PATH_MAX];
  if (socket_path(path, sizeof(path)) != 0 || getcwd(cwd, sizeof(cwd)) == NULL) run_node();

  buf_t req = { 0 };
  put_str(&req, "{\"cmd\":");
  put_json(&req, QUICK[q].cmd);
  put_str(&req, ",\"args\":{");
  for (int i = 0; i < QUICK[q].n; i++) {
    if (i > 0) put_str(&req, ",");
    put_json(&req, QUICK[q].names[i]);
    put_str(&req, ":");
    put_json(&req, argv[2 + i]);
  }
  char ids[64];
  snprintf(ids, sizeof(ids), ",\"uid\":%u,\"gid\":%u,\"reply\":\"text\"}\n", (unsigned) getuid(), (unsigned) getgid());
  put_str(&req, "},\"cwd\":");
  put_json(&req, cwd);
  put_str(&req, ids);

  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) run_node();
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  memcpy(addr.sun_path, path, strlen(path) + 1);
  if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) != 0) {
    // No service (or one the Node CLI explains better): the Node CLI decides.
    close(sock);
    run_node();
  }
  signal(SIGPIPE, SIG_IGN);
  if (write_all(sock, req.data, req.len) != 0) {
    char detail[128];
    snprintf(detail, sizeof(detail), "write %s", errno == EPIPE ? "EPIPE" : errno == ECONNRESET ? "ECONNRESET" : strerror(errno));
    return lost(detail);
  }
  return relay(sock);
}
