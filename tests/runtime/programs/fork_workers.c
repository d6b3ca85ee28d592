/* A server that forks workers, for following a fork into the child: every 100 ms the
 * parent forks a worker that runs child_work (it counts `work_done` up for about a
 * second, then exits) and reaps it; the parent counts its forks in `forks`, and the
 * workers that a signal ended in `signalled` (the last one's signal in `last_signal`).
 * Built by the tests with -g -O0 as the demo programs are. Says "ready" once running.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile unsigned long forks;
volatile unsigned long work_done;
volatile unsigned long signalled;
volatile int last_signal;

static void nap(long milliseconds) {
    struct timespec pause = {0, milliseconds * 1000 * 1000};
    nanosleep(&pause, NULL);
}

void child_work(int number) {
    for (int step = 0; step < 100; step++) {
        work_done += (unsigned long)number;
        nap(10);
    }
}

int main(void) {
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        pid_t child = fork();
        if (child == 0) {
            child_work((int)forks + 1);
            _exit(0);
        }
        if (child > 0) {
            forks++;
            nap(100);
            int status;
            while (waitpid(-1, &status, WNOHANG) > 0) {
                if (WIFSIGNALED(status)) {
                    signalled++;
                    last_signal = WTERMSIG(status);
                }
            }
        } else {
            nap(100);
        }
    }
}
