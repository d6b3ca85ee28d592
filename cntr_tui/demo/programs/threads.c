/* cntr-tui demo program: a few named worker threads that keep computing.
 * Built with -g -O0 so gdb sees every local; `tick` is a handy breakpoint target.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 3

struct worker {
    int id;
    char name[16];
    unsigned long iterations;
    double total;
};

static volatile sig_atomic_t stopping;
static struct worker workers[WORKERS];

static void on_term(int sig) {
    (void)sig;
    stopping = 1;
}

static double compute_step(struct worker *w, int step) {
    double value = 0.0;
    for (int i = 1; i <= 1000; i++)
        value += (double)(w->id + 1) / (i + step);
    return value;
}

static void tick(struct worker *w) {
    w->iterations++;
    w->total += compute_step(w, (int)(w->iterations % 97));
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    pthread_setname_np(pthread_self(), w->name);
    struct timespec pause = {0, 100 * 1000 * 1000};
    while (!stopping) {
        tick(w);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[WORKERS];
    struct sigaction term = {0};
    term.sa_handler = on_term;
    sigaction(SIGTERM, &term, NULL);
    sigaction(SIGINT, &term, NULL);

    for (int i = 0; i < WORKERS; i++) {
        workers[i].id = i;
        snprintf(workers[i].name, sizeof workers[i].name, "worker-%d", i);
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    printf("ready %d workers\n", WORKERS);
    fflush(stdout);

    struct timespec pause = {1, 0};
    while (!stopping)
        nanosleep(&pause, NULL);

    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
