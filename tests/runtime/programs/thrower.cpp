// A program that throws and catches a C++ exception every 20 ms, for the throw and
// catch catchpoints: `thrown` and `caught` count them (read through /proc/PID/mem).
// Says "ready" once running.
#include <stdio.h>
#include <stdexcept>
#include <time.h>

volatile unsigned long thrown = 0;
volatile unsigned long caught = 0;

[[gnu::noinline]] void throw_one(unsigned long round) {
    thrown = thrown + 1;
    throw std::runtime_error(round % 2 ? "odd round" : "even round");
}

[[gnu::noinline]] void catch_one(unsigned long round) {
    try {
        throw_one(round);
    } catch (const std::runtime_error &error) {
        caught = caught + 1;
    }
}

int main() {
    struct timespec pause = {0, 20 * 1000 * 1000};
    printf("ready\n");
    fflush(stdout);
    for (unsigned long round = 0;; round++) {
        catch_one(round);
        nanosleep(&pause, nullptr);
    }
}
