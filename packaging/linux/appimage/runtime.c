/*
 * The runtime of LabelDesk's Linux AppImage (the type 2 layout: this ELF program with a
 * squashfs image of the PyInstaller bundle appended; see docs/packaging.md).
 *
 * Started, it mounts the image read-only with FUSE (squashfuse's library) in a child process,
 * then becomes the app: it execs AppRun from the mount, so the app keeps the pid, the terminal
 * and the signals the user sends. The app holds the read end of a pipe and the file-system
 * child watches the write end: once the app (and whatever it started that kept the pipe) is
 * gone (or the child gets a SIGTERM), the child unmounts and removes the mount point. It runs in
 * a session of its own, so a Ctrl-C for the app cannot pull the files from under it.
 *
 *   LabelDesk-x86_64.AppImage [labeldesk arguments]
 *   LabelDesk-x86_64.AppImage --appimage-extract [DIR]  unpack instead (no FUSE; DIR defaults
 *                                                       to squashfs-root), then run DIR/AppRun
 *   LabelDesk-x86_64.AppImage --appimage-mount          mount, print the mount point, wait
 *   LabelDesk-x86_64.AppImage --appimage-offset         where the image starts in this file
 *
 * packaging/linux/appimage.sh builds it against Debian's static libsquashfuse and libfuse3;
 * glibc stays dynamic, as it is for the bundle itself.
 */
#define _GNU_SOURCE
#include "ll.h" /* squashfuse; its config.h sets FUSE_USE_VERSION */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAME "labeldesk"
#define EXIT_NO_MOUNT 127

/* The sections AppImage tools read: update information and a signature (both left empty). */
char update_info[1024] __attribute__((section(".upd_info"), used));
char signature[1024] __attribute__((section(".sha256_sig"), used));

/* The image starts where this ELF file ends: after its section header table. */
static long image_offset(const char *self) {
    Elf64_Ehdr header;
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = pread(fd, &header, sizeof header, 0);
    close(fd);
    if (got != (ssize_t)sizeof header || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0
        || header.e_ident[EI_CLASS] != ELFCLASS64)
        return -1;
    return (long)(header.e_shoff + (Elf64_Off)header.e_shnum * header.e_shentsize);
}

/* ---- the file-system child ---- */

static pthread_t server_thread;
static struct fuse_session *volatile session;

/* SIGUSR1 (from the watcher) and SIGTERM end the loop: the flag, and no SA_RESTART so that the
 * loop's blocking read of /dev/fuse returns. */
static void stop(int signal_number) {
    (void)signal_number;
    if (session)
        fuse_session_exit(session);
}

/* Waits until nobody reads the keep-alive pipe any more (poll reports POLLERR on a pipe's
 * write end once every read end is closed), then stops the loop. */
static void *watch_app(void *keepalive) {
    struct pollfd fd = {.fd = *(int *)keepalive, .events = 0};
    while (poll(&fd, 1, -1) < 0 && errno == EINTR)
        ;
    pthread_kill(server_thread, SIGUSR1);
    return NULL;
}

static int serve(const char *image, long offset, const char *mountpoint, int ready,
                 int keepalive) {
    setsid();
    prctl(PR_SET_NAME, NAME "-fuse");
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction on_stop = {.sa_handler = stop};
    sigaction(SIGUSR1, &on_stop, NULL);
    sigaction(SIGTERM, &on_stop, NULL);

    sqfs_ll *ll = sqfs_ll_open(image, (size_t)offset);
    if (!ll)
        return 1;
    struct fuse_lowlevel_ops ops = {
        .lookup = sqfs_ll_op_lookup, .forget = sqfs_ll_op_forget,
        .getattr = sqfs_ll_op_getattr, .readlink = sqfs_ll_op_readlink,
        .open = sqfs_ll_op_open, .read = sqfs_ll_op_read, .release = sqfs_ll_op_release,
        .opendir = sqfs_ll_op_opendir, .readdir = sqfs_ll_op_readdir,
        .releasedir = sqfs_ll_op_releasedir, .getxattr = sqfs_ll_op_getxattr,
        .listxattr = sqfs_ll_op_listxattr, .create = sqfs_ll_op_create,
    };
    char *options[] = {NAME, "-o", "ro,nodev,nosuid,fsname=" NAME ",subtype=" NAME, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, options);
    sqfs_ll_chan channel;
    if (sqfs_ll_mount(&channel, mountpoint, &args, &ops, sizeof ops, ll) != SQFS_OK)
        return 1;
    session = channel.session;

    /* Mounted: tell the parent, and let go of the terminal and of the app's pipes. */
    if (write(ready, "m", 1) != 1)
        return 1;
    close(ready);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3 && null >= 0; fd++)
        dup2(null, fd);

    server_thread = pthread_self();
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch_app, &keepalive);
    fuse_session_loop(session);
    sqfs_ll_unmount(&channel, mountpoint); /* lazy: files still open keep working */
    sqfs_ll_destroy(ll);
    free(ll);
    rmdir(mountpoint);
    return 0;
}

/* ---- the parent: mount, then become the app ---- */

static int run(const char *self, long offset, char **argv, int mount_only) {
    const char *tmp = getenv("TMPDIR");
    char mountpoint[PATH_MAX];
    snprintf(mountpoint, sizeof mountpoint, "%s/.mount_" NAME ".XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(mountpoint)) {
        perror("labeldesk: cannot make a mount point");
        return EXIT_NO_MOUNT;
    }
    int ready[2], keepalive[2];
    if (pipe2(ready, O_CLOEXEC) || pipe2(keepalive, O_CLOEXEC)) {
        perror("labeldesk: pipe");
        return EXIT_NO_MOUNT;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("labeldesk: fork");
        return EXIT_NO_MOUNT;
    }
    if (child == 0) {
        close(ready[0]);
        close(keepalive[0]);
        _exit(serve(self, offset, mountpoint, ready[1], keepalive[1]));
    }
    close(ready[1]);
    close(keepalive[1]);
    char byte;
    ssize_t got;
    while ((got = read(ready[0], &byte, 1)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    if (got != 1) {
        waitpid(child, NULL, 0);
        rmdir(mountpoint);
        fprintf(stderr,
                "labeldesk: cannot mount the AppImage with FUSE.\n"
                "  Install FUSE 3 (Debian/Ubuntu: sudo apt install fuse3; Fedora: fuse3), or\n"
                "  unpack it and run it from there:\n"
                "    %s --appimage-extract && squashfs-root/AppRun\n", self);
        return EXIT_NO_MOUNT;
    }
    if (mount_only) {
        printf("%s\n", mountpoint);
        fflush(stdout);
        for (;;)
            pause();
    }
    /* The app inherits the read end: the mount lives as long as it does. */
    fcntl(keepalive[0], F_SETFD, 0);
    char cwd[PATH_MAX], app[PATH_MAX + 16];
    setenv("APPIMAGE", self, 1);
    setenv("APPDIR", mountpoint, 1);
    setenv("ARGV0", argv[0], 1);
    if (getcwd(cwd, sizeof cwd))
        setenv("OWD", cwd, 1);
    snprintf(app, sizeof app, "%s/AppRun", mountpoint);
    execv(app, argv);
    perror("labeldesk: cannot start AppRun");
    return EXIT_NO_MOUNT;
}

/* ---- --appimage-extract ---- */

static int copy_file(sqfs *fs, sqfs_inode *inode, const char *path) {
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return -1;
    static char buffer[1 << 17];
    for (sqfs_off_t done = 0; done < (sqfs_off_t)inode->xtra.reg.file_size;) {
        sqfs_off_t size = sizeof buffer;
        if (sqfs_read_range(fs, inode, done, &size, buffer) != SQFS_OK || size <= 0
            || write(out, buffer, (size_t)size) != size) {
            close(out);
            return -1;
        }
        done += size;
    }
    return fchmod(out, inode->base.mode & 07777) | close(out);
}

static int extract(const char *self, long offset, const char *target) {
    sqfs fs;
    sqfs_traverse walk;
    sqfs_err error = SQFS_OK;
    if (sqfs_open_image(&fs, self, (size_t)offset) != SQFS_OK)
        return 1;
    if ((mkdir(target, 0755) && errno != EEXIST)
        || sqfs_traverse_open(&walk, &fs, sqfs_inode_root(&fs)) != SQFS_OK) {
        perror(target);
        return 1;
    }
    int failed = 0;
    while (!failed && sqfs_traverse_next(&walk, &error)) {
        if (walk.dir_end)
            continue;
        sqfs_inode inode;
        char path[PATH_MAX], link[PATH_MAX];
        size_t size = sizeof link;
        snprintf(path, sizeof path, "%s/%s", target, walk.path);
        if (sqfs_inode_get(&fs, &inode, walk.entry.inode) != SQFS_OK)
            failed = 1;
        else if (S_ISDIR(inode.base.mode))
            failed = mkdir(path, inode.base.mode & 07777) && errno != EEXIST;
        else if (S_ISREG(inode.base.mode))
            failed = copy_file(&fs, &inode, path) != 0;
        else if (S_ISLNK(inode.base.mode))
            failed = sqfs_readlink(&fs, &inode, link, &size) != SQFS_OK
                     || ((unlink(path) && errno != ENOENT) || symlink(link, path));
        if (failed)
            perror(path);
    }
    sqfs_traverse_close(&walk);
    sqfs_destroy(&fs);
    if (failed || error != SQFS_OK)
        return 1;
    fprintf(stderr, "Unpacked into %s/ (start it with %s/AppRun)\n", target, target);
    return 0;
}

int main(int argc, char **argv) {
    /* fds 0-2 open before the image is, so nothing later mistakes its fd for stdio */
    int fd;
    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3)
        ;
    if (fd >= 3)
        close(fd);
    char *self = realpath("/proc/self/exe", NULL);
    long offset = self ? image_offset(self) : -1;
    if (offset <= 0) {
        fprintf(stderr, "labeldesk: cannot read this AppImage (%s)\n", self ? self : "?");
        return EXIT_NO_MOUNT;
    }
    const char *option = argc > 1 && !strncmp(argv[1], "--appimage-", 11) ? argv[1] + 11 : NULL;
    if (!option)
        return run(self, offset, argv, 0);
    if (!strcmp(option, "offset")) {
        printf("%ld\n", offset);
        return 0;
    }
    if (!strcmp(option, "extract"))
        return extract(self, offset, argc > 2 ? argv[2] : "squashfs-root");
    if (!strcmp(option, "mount"))
        return run(self, offset, argv, 1);
    fprintf(stderr,
            "usage: %s [labeldesk arguments]\n"
            "       %s --appimage-extract [DIR] | --appimage-mount | --appimage-offset\n",
            argv[0], argv[0]);
    return strcmp(option, "help") ? 2 : 0;
}
