/*
 * A provided-runtime bootstrap that echoes each event as its response: the Lambda Runtime API client of
 * RuntimeLimitBenchmark, as small as one can be, so that what it measures is the Runtime API's round trips.
 *
 * One keep-alive connection (reopened when the server closes it), TCP_NODELAY, and each request in one
 * write: headers and body in two writes would let a small body wait on the peer's delayed ACK wherever
 * Nagle is on. Responses are read by Content-Length (the Runtime API sends no chunked bodies to runtimes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BASE "/2018-06-01/runtime"

typedef struct {
  char *data;
  size_t length, capacity;
} buffer;

static char host[256];
static char port[16];
static int fd = -1;
static buffer in, out;

static void fail(const char *what) {
  fprintf(stderr, "bootstrap: %s: %s\n", what, errno ? strerror(errno) : "bad response");
  exit(1);
}

static void reserve(buffer *b, size_t more) {
  if (b->length + more > b->capacity) {
    b->capacity = (b->length + more) * 2;
    b->data = realloc(b->data, b->capacity);
    if (b->data == NULL) {
      fail("out of memory");
    }
  }
}

static void append(buffer *b, const void *data, size_t length) {
  reserve(b, length);
  memcpy(b->data + b->length, data, length);
  b->length += length;
}

static void open_connection(void) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *address;
  if (getaddrinfo(host, port, &hints, &address) != 0) {
    fail("cannot resolve AWS_LAMBDA_RUNTIME_API");
  }
  fd = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
  if (fd < 0 || connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
    fail("cannot connect to the Runtime API");
  }
  freeaddrinfo(address);
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  in.length = 0;
}

static void close_connection(void) {
  close(fd);
  fd = -1;
}

static int send_all(const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    data += n;
    length -= n;
  }
  return 0;
}

static int receive(void) {
  reserve(&in, 64 * 1024);
  ssize_t n;
  do {
    n = recv(fd, in.data + in.length, in.capacity - in.length, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    in.length += n;
  }
  return n > 0 ? 0 : -1;
}

/*
 * Reads one response into `in`: its status, the request id (when `id` is given), where its body starts and
 * its length; -1 when the connection ended before it was whole.
 */
static int read_response(int *status, char *id, size_t id_size, size_t *body, size_t *length, int *closes) {
  char *end;
  while ((end = memmem(in.data, in.length, "\r\n\r\n", 4)) == NULL) {
    if (receive() != 0) {
      return -1;
    }
  }
  *end = '\0';
  *body = end - in.data + 4;
  *length = 0;
  *closes = 0;
  if (strncmp(in.data, "HTTP/1.", 7) != 0) {
    errno = 0;
    fail("not an HTTP response");
  }
  *status = atoi(in.data + 9);
  for (char *line = strstr(in.data, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
    line += 2;
    char *value = strchr(line, ':');
    if (value == NULL) {
      continue;
    }
    size_t name = value - line;
    value += 1 + strspn(value + 1, " \t");
    size_t value_length = strcspn(value, "\r");
    if (name == 14 && strncasecmp(line, "Content-Length", name) == 0) {
      *length = strtoul(value, NULL, 10);
    } else if (name == 10 && strncasecmp(line, "Connection", name) == 0) {
      *closes = strncasecmp(value, "close", 5) == 0;
    } else if (name == 17 && strncasecmp(line, "Transfer-Encoding", name) == 0) {
      errno = 0;
      fail("chunked responses are not supported");
    } else if (id != NULL && name == 29 && strncasecmp(line, "Lambda-Runtime-Aws-Request-Id", name) == 0) {
      if (value_length >= id_size) {
        errno = 0;
        fail("request id too long");
      }
      memcpy(id, value, value_length);
      id[value_length] = '\0';
    }
  }
  while (in.length < *body + *length) {
    if (receive() != 0) {
      return -1;
    }
  }
  return 0;
}

/* Drops the response just read from `in`, keeping whatever followed it. */
static void consume(size_t bytes, int closes) {
  memmove(in.data, in.data + bytes, in.length - bytes);
  in.length -= bytes;
  if (closes) {
    close_connection();
  }
}

/*
 * Sends `out` and reads its response, on a new connection when the kept-alive one was closed by the
 * server in the meantime (once).
 */
static void exchange(int *status, char *id, size_t id_size, size_t *body, size_t *length, int *closes) {
  for (int attempt = 1;; attempt++) {
    if (fd < 0) {
      open_connection();
    }
    if (send_all(out.data, out.length) == 0 && read_response(status, id, id_size, body, length, closes) == 0) {
      return;
    }
    close_connection();
    if (attempt == 2) {
      fail("the Runtime API connection broke");
    }
  }
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char *colon = api == NULL ? NULL : strrchr(api, ':');
  if (colon == NULL || (size_t) (colon - api) >= sizeof host || strlen(colon + 1) >= sizeof port) {
    errno = 0;
    fail("AWS_LAMBDA_RUNTIME_API is not host:port");
  }
  memcpy(host, api, colon - api);
  strcpy(port, colon + 1);
  char next[512], id[256], head[512];
  snprintf(next, sizeof next, "GET " BASE "/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
  for (;;) {
    int status, closes;
    size_t body, length;
    out.length = 0;
    append(&out, next, strlen(next));
    id[0] = '\0';
    exchange(&status, id, sizeof id, &body, &length, &closes);
    if (status != 200 || id[0] == '\0') {
      fprintf(stderr, "bootstrap: /invocation/next answered %d\n", status);
      return status == 410 ? 0 : 1;
    }
    out.length = 0;
    int n = snprintf(head, sizeof head, "POST " BASE "/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", id, api, length);
    append(&out, head, n);
    append(&out, in.data + body, length);
    consume(body + length, closes);
    exchange(&status, NULL, 0, &body, &length, &closes);
    if (status < 200 || status >= 300) {
      fprintf(stderr, "bootstrap: the response of %s was answered %d\n", id, status);
    }
    consume(body + length, closes);
  }
}
