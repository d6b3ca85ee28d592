/* cntr-tui test program for the threads pane: argv[1] pool threads (pool-K) sleeping in
 * pool_wait(), then one more thread (late-K) every 20 ms while it runs, up to argv[2]
 * of them; each late thread sleeps in late_wait(). Prints "ready" once the pool runs.
 * Built with -g -O0 so every function is known to gdb. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void pool_wait(void) {
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (;;)
        nanosleep(&pause, NULL);
}

static void late_wait(void) {
    struct timespec pause = {0, 50 * 1000 * 1000};
    for (;;)
        nanosleep(&pause, NULL);
}

static void *pool_main(void *arg) {
    char name[16];
    snprintf(name, sizeof name, "pool-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    pool_wait();
    return NULL;
}

static void *late_main(void *arg) {
    char name[16];
    snprintf(name, sizeof name, "late-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    late_wait();
    return NULL;
}

static int start(void *(*body)(void *), int id) {
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int failed = pthread_create(&thread, &attr, body, (void *)(intptr_t)id);
    pthread_attr_destroy(&attr);
    return failed;
}

int main(int argc, char **argv) {
    int pool = argc > 1 ? atoi(argv[1]) : 40;
    int late = argc > 2 ? atoi(argv[2]) : 100;
    for (int i = 0; i < pool; i++)
        if (start(pool_main, i) != 0)
            return 1;
    printf("ready %d\n", pool);
    fflush(stdout);
    struct timespec period = {0, 20 * 1000 * 1000};
    for (int i = 0; i < late; i++) {
        nanosleep(&period, NULL);
        if (start(late_main, i) != 0)
            return 1;
    }
    for (;;)
        nanosleep(&period, NULL); /* main's line */
}
