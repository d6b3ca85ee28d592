/* cntr-tui test program for snapshots: N worker threads (argv[1], default 8) sleeping
 * in spin(), and a ticker thread that ticks every millisecond and records the largest
 * gap between two ticks: how long the program was stopped, seen from inside it.
 *
 * The record is /tmp/stalls.stats (struct stats below, little-endian u64 fields), a
 * shared mapping a test reads through /proc/PID/root. Writing a new value into
 * `reset` makes the ticker start a fresh maximum; it says so by copying it to
 * `reset_seen`. Built with -g -O0 so every function and line is known to gdb.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct stats {
    uint64_t ticks;        /* ticks so far: moves while the program runs */
    uint64_t max_gap_ns;   /* the largest gap between two ticks since the last reset */
    uint64_t gap_start_ns; /* CLOCK_MONOTONIC of the tick before that gap */
    uint64_t gap_end_ns;   /* and of the tick after it */
    uint64_t reset;        /* written by a reader: start a fresh maximum */
    uint64_t reset_seen;   /* the last reset the ticker acted on */
    uint64_t workers;      /* how many worker threads run */
    uint64_t spins;        /* the workers' wake-ups so far */
};

static volatile struct stats *stats;

static uint64_t now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void spin(int id) {
    (void)id; /* shown among spin's arguments */
    struct timespec pause = {0, 20 * 1000 * 1000};
    unsigned long rounds = 0;
    for (;;) {
        nanosleep(&pause, NULL); /* the workers' line: spin's only call */
        rounds++;
        __atomic_add_fetch(&stats->spins, 1, __ATOMIC_RELAXED);
    }
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%d", id);
    pthread_setname_np(pthread_self(), name);
    spin(id);
    return NULL;
}

static void tick_forever(void) {
    struct timespec period = {0, 1000 * 1000};
    uint64_t last = now_ns();
    for (;;) {
        clock_nanosleep(CLOCK_MONOTONIC, 0, &period, NULL); /* the ticker's line */
        uint64_t now = now_ns();
        uint64_t gap = now - last;
        if (stats->reset != stats->reset_seen) {
            stats->max_gap_ns = 0;
            stats->reset_seen = stats->reset;
        } else if (gap > stats->max_gap_ns) {
            stats->gap_start_ns = last;
            stats->gap_end_ns = now;
            stats->max_gap_ns = gap;
        }
        stats->ticks++;
        last = now;
    }
}

static void *ticker_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "ticker");
    tick_forever();
    return NULL;
}

static int start_thread(void *(*body)(void *), void *arg) {
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024); /* 1,000 workers stay small */
    int failed = pthread_create(&thread, &attr, body, arg);
    pthread_attr_destroy(&attr);
    return failed;
}

int main(int argc, char **argv) {
    int workers = argc > 1 ? atoi(argv[1]) : 8;
    int fd = open("/tmp/stalls.stats", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, sizeof(struct stats)) != 0) {
        perror("/tmp/stalls.stats");
        return 1;
    }
    stats = mmap(NULL, sizeof(struct stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (stats == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    stats->workers = (uint64_t)workers;
    for (int i = 0; i < workers; i++) {
        if (start_thread(worker_main, (void *)(intptr_t)i) != 0) {
            fprintf(stderr, "worker %d did not start\n", i);
            return 1;
        }
    }
    start_thread(ticker_main, NULL);
    while (stats->ticks < 2) /* the ticker runs: the gaps it records are real */
        usleep(1000);
    printf("ready %d workers\n", workers);
    fflush(stdout);
    for (;;)
        pause(); /* main's line */
}
