// A thread that only spins and reads the clock for 3 s: every gap in its readings is the
// machine's (interrupts, other work, the hypervisor), which any sender on it would have too.
// Prints the gaps over 2 µs, once it is done, as JSON [[from, to], ...] in microseconds.
#include <stdio.h>
#include <time.h>

enum { MAX_GAPS = 1 << 20 };
static double gaps[MAX_GAPS][2];

static double now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

int main(void) {
  double previous = now_us(), end = previous + 3e6;
  int count = 0;
  for (double now = previous; now < end; previous = now) {
    now = now_us();
    if (now - previous > 2 && count < MAX_GAPS) {
      gaps[count][0] = previous;
      gaps[count++][1] = now;
    }
  }
  putchar('[');
  for (int i = 0; i < count; i++) printf("%s[%.3f,%.3f]", i ? "," : "", gaps[i][0], gaps[i][1]);
  puts("]");
  return 0;
}
