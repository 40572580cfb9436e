// greeter: prints "$GREETING, <arg1>!" and exits 3 when no name is given.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  const char *greeting = getenv("GREETING");
  if (!greeting) greeting = "Hello";
  if (argc < 2) {
    fprintf(stderr, "usage: greeter NAME\n");
    return 3;
  }
  printf("%s, %s!\n", greeting, argv[1]);
  return 0;
}
