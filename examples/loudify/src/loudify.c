// loudify: copies stdin to stdout, upper-cased. Streams in 64 KiB blocks, so any size works.
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static unsigned char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) buf[i] = (unsigned char)toupper(buf[i]);
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w < 0) return 1;
      off += w;
    }
  }
  return n < 0 ? 1 : 0;
}
