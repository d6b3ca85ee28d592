/* File-system workloads for bench_fs.py, run the same way natively, through libfuse's
 * passthrough_ll and inside a cntr-tui session. Prints one line: elapsed seconds.
 *   fsbench stat DIR N         stat N files DIR/f0..f(N-1)
 *   fsbench read DIR N         open+read+close N small files
 *   fsbench find ROOT          walk a tree, lstat every entry (like find)
 *   fsbench ls DIR             readdir + lstat every entry (like ls -l)
 *   fsbench seqread FILE       read FILE with 1 MiB blocks
 *   fsbench seqwrite FILE MiB BLOCK   write MiB MiB with BLOCK-byte writes, fsync
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long entries, unreadable;
static int first_errno;
static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)ftw;
    entries++;
    if (flag == FTW_DNR || flag == FTW_NS) {
        /* a walk that silently skips what it cannot read would time less work */
        if (unreadable++ == 0) {
            first_errno = errno;
            perror(path);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fsbench stat|read|find|ls|seqread|seqwrite ARGS\n");
        return 2;
    }
    const char *op = argv[1];
    char path[4096];
    static char buffer[1 << 20];
    struct stat st;
    double start = now();
    if (!strcmp(op, "stat") || !strcmp(op, "read")) {
        int n = atoi(argv[3]);
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/f%d", argv[2], i);
            if (op[0] == 's') {
                if (stat(path, &st)) { perror(path); return 1; }
            } else {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) { perror(path); return 1; }
                if (read(fd, buffer, 4096) < 0) { perror(path); return 1; }
                close(fd);
            }
        }
    } else if (!strcmp(op, "find")) {
        if (nftw(argv[2], count_entry, 64, FTW_PHYS) != 0 || unreadable) {
            fprintf(stderr, "fsbench: walk failed (%ld of %ld entries unreadable): %s\n",
                    unreadable, entries, strerror(first_errno ? first_errno : errno));
            return 1;
        }
    } else if (!strcmp(op, "ls")) {
        DIR *dir = opendir(argv[2]);
        if (!dir) { perror(argv[2]); return 1; }
        struct dirent *entry;
        while ((entry = readdir(dir))) {
            fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW);
            entries++;
        }
        closedir(dir);
    } else if (!strcmp(op, "seqread")) {
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) { perror(argv[2]); return 1; }
        while (read(fd, buffer, sizeof buffer) > 0) {}
        close(fd);
    } else if (!strcmp(op, "seqwrite") && argc == 5) {
        long total = atol(argv[3]) << 20, block = atol(argv[4]);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) { perror(argv[2]); return 1; }
        for (long done = 0; done < total; done += block)
            if (write(fd, buffer, block) != block) { perror("write"); return 1; }
        fsync(fd);
        close(fd);
    } else {
        fprintf(stderr, "fsbench: unknown operation %s\n", op);
        return 2;
    }
    printf("%.6f\n", now() - start);
    return 0;
}
