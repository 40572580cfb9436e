// counter: a reactor (no main). The runtime calls _initialize once per instance, then exports
// as often as it is asked; `counter` lives in linear memory, so it survives between calls.
#include <errno.h>
#include <stdio.h>

static int counter = 0;

// Returns the new value, or -errno when /state/count.txt cannot be appended to.
__attribute__((export_name("increment"))) int increment(void) {
  counter++;
  FILE *f = fopen("/state/count.txt", "a");
  if (!f) return -errno;
  fprintf(f, "%d\n", counter);
  if (fclose(f) != 0) return -errno;
  return counter;
}

__attribute__((export_name("get"))) int get(void) { return counter; }

// Length of the shared read-only greeting, or -errno.
__attribute__((export_name("greeting_length"))) int greeting_length(void) {
  FILE *f = fopen("/static/greeting.txt", "r");
  if (!f) return -errno;
  int n = 0;
  while (fgetc(f) != EOF) n++;
  fclose(f);
  return n;
}
