/* syscall_loop MODE N [RATE] : the event source for bench/backend_bench.py.
 *
 *   getppid N RATE  N calls of syscall(SYS_getppid), paced at RATE per second (0 = flat out)
 *   read N          read(fd, buf, i) on /dev/zero for i = 1..N (N distinct read sizes)
 *
 * Before the N calls it waits for one byte on stdin; while it waits it calls
 * getppid() every 10 ms ("pings") so a harness can see that a tracer
 * filtered on its pid is attached. Its comm is "btls_ping" while it waits
 * and "btls_drv" for the N calls, so a printed comm tells pings from the
 * counted events. At the end it prints "pings=P calls=N elapsed_ns=T" on
 * stderr (T covers the N calls only). */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s getppid N [RATE] | read N\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1];
  long n = atol(argv[2]);
  double rate = argc > 3 ? atof(argv[3]) : 0;
  prctl(PR_SET_NAME, "btls_ping", 0, 0, 0);

  long pings = 0;
  struct pollfd in = {.fd = 0, .events = POLLIN};
  for (;;) {
    int ready = poll(&in, 1, 10);
    if (ready > 0) {
      char c;
      if (read(0, &c, 1) <= 0) return 1;
      prctl(PR_SET_NAME, "btls_drv", 0, 0, 0);
      break;
    }
    syscall(SYS_getppid);
    pings++;
  }

  long long start = now_ns();
  if (strcmp(mode, "getppid") == 0) {
    long long period = rate > 0 ? (long long)(1e9 / rate) : 0;
    for (long i = 0; i < n; i++) {
      if (period) {
        long long due = start + i * period;
        while (now_ns() < due) {
        }
      }
      syscall(SYS_getppid);
    }
  } else if (strcmp(mode, "read") == 0) {
    char *buf = malloc(n + 1);
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0 || !buf) {
      perror("open");
      return 1;
    }
    for (long i = 1; i <= n; i++)
      if (read(fd, buf, (size_t)i) < 0) {
        perror("read");
        return 1;
      }
    close(fd);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  fprintf(stderr, "pings=%ld calls=%ld elapsed_ns=%lld\n", pings, n, now_ns() - start);
  return 0;
}
