/* A tiny single-threaded program for catchpoints the threads program cannot hit: it
 * forks a child that exits at once every 100 ms (catch fork), and on SIGUSR1 it execs
 * itself again (catch exec). The tests build it with -g -O0 as the demo programs are,
 * and once more without -g for frames with no line info. Says "ready" once running.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t wants_exec;
static volatile unsigned long forks;

static void on_usr1(int sig) {
    (void)sig;
    wants_exec = 1;
}

static void fork_one(void) {
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    if (child > 0) {
        waitpid(child, NULL, 0);
        forks++;
    }
}

int main(int argc, char **argv) {
    (void)argc;
    signal(SIGUSR1, on_usr1);
    printf("ready %s\n", argv[0]);
    fflush(stdout);
    struct timespec pause = {0, 100 * 1000 * 1000};
    while (!wants_exec) {
        fork_one();
        nanosleep(&pause, NULL);
    }
    execl("/proc/self/exe", argv[0], (char *)NULL);
    perror("execl");
    return 1;
}
