/*
 * The sandbox of `danvan serve` once it is serving: a seccomp filter
 * (libseccomp) on every thread, installed after the listener is open, the
 * keys are read and the worker threads run. DANVAN_SECCOMP=0 turns it off.
 *
 * What stays allowed is what a serving process does (traced under the API
 * tests): memory, threads' futexes and signals, clocks and randomness, the
 * epoll loop and its sockets, and what libpq needs to connect again when
 * PostgreSQL went away (socket, connect, reading .pgpass, /etc/hosts or
 * the OpenSSL configuration). Uploads never touch the file system (their
 * bytes go to PostgreSQL from memory), but an XLSX export is written to a
 * temporary file in DANVAN_EXPORT_DIR, read back and unlinked: files may be
 * made and removed. Where is not for seccomp to judge (it cannot see a
 * path): danvan.service leaves only its private /tmp writable.
 *
 * Any other call fails with EPERM: a path of a library the list misses
 * costs one request an error, not every request in flight. The calls an
 * intruder needs first, running a program, making a process or reading
 * another's memory, kill the process (SIGSYS, logged; systemd restarts it).
 * clone3 answers ENOSYS so glibc falls back to clone, whose flags can be
 * checked: threads only. Sanitizer builds also allow what LeakSanitizer does
 * at exit (a tracer task that attaches to the threads).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "core/core.h"

/* Allowed with any arguments. */
static const char *const allowed[] = {
	/* memory */
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	/* threads, signals, exit */
	"futex",
	"set_robust_list",
	"rseq",
	"sched_yield",
	"sched_getaffinity",
	"gettid",
	"getpid",
	"tgkill",
	"rt_sigprocmask",
	"rt_sigaction",
	"rt_sigreturn",
	"rt_sigtimedwait",
	"sigaltstack",
	"restart_syscall",
	"exit",
	"exit_group",
	/* clocks, randomness, identity (libpq looks up its user) */
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"time",
	"nanosleep",
	"clock_nanosleep",
	"getrandom",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"uname",
	/* sysconf(_SC_PHYS_PAGES), which qsort() asks for larger arrays */
	"sysinfo",
	/* descriptors */
	"read",
	"write",
	"openat",
	"unlink",
	"unlinkat",
	"ftruncate",
	"fsync",
	"fdatasync",
	"readv",
	"writev",
	"pread64",
	"lseek",
	"close",
	"fstat",
	"newfstatat",
	"statx",
	"fcntl",
	"ioctl",
	"dup",
	"pipe2",
	"eventfd2",
	/* the event loop and its sockets */
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"accept",
	"accept4",
	"connect",
	"recvfrom",
	"recvmsg",
	"sendto",
	"sendmsg",
	"sendmmsg",
	"shutdown",
	"getsockopt",
	"setsockopt",
	"getsockname",
	"getpeername",
};

/* What an intruder runs first: the process dies. */
static const char *const fatal[] = {
	"execve",
	"execveat",
	"fork",
	"vfork",
	"process_vm_readv",
	"process_vm_writev",
	"ptrace",
};

/*
 * What LeakSanitizer does at exit in a sanitizer build: a tracer task
 * (clone without CLONE_THREAD) reads /proc/self/task and /proc/self/maps,
 * attaches to every thread and reads its registers.
 */
static const char *const sanitizer[] = {
	"clone",
	"open",
	"getdents",
	"access",
	"ptrace",
	"wait4",
	"waitid",
	"prctl",
	"getdents64",
	"readlink",
	"readlinkat",
	"getppid",
	"kill",
	"tkill",
	"sched_getparam",
	"prlimit64",
	"getrlimit",
	"sigaltstack",
	"pipe",
	"dup2",
	"dup3",
	"stat",
	"lstat",
	"arch_prctl",
	"personality",
	"sched_getscheduler",
	"getpriority",
	"unshare",
};

static int
rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
    const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name), rc;

	/* A name this architecture does not have (time, select on some). */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	if ((rc = seccomp_rule_add_array(ctx, action, nr, n, args)) != 0) {
		log_error("seccomp: cannot add %s: %s", name, strerror(-rc));
		return -1;
	}
	return 0;
}

static int
rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rule(ctx, action, names[i], 0, NULL) == -1)
			return -1;
	return 0;
}

/* A test of the first argument, every field set (libseccomp's SCMP_A0
 * leaves datum_b out when it is not needed, which clang warns about). */
static struct scmp_arg_cmp
arg0(enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp c = { .arg = 0,
		.op = op,
		.datum_a = a,
		.datum_b = b };

	return c;
}

int
sandbox_enter(void)
{
	const struct scmp_arg_cmp thread = arg0(SCMP_CMP_MASKED_EQ,
	    CLONE_THREAD, CLONE_THREAD);
	const struct scmp_arg_cmp process = arg0(SCMP_CMP_MASKED_EQ,
	    CLONE_THREAD, 0);
	/* libmicrohttpd names its threads. */
	const struct scmp_arg_cmp name = arg0(SCMP_CMP_EQ, PR_SET_NAME, 0);
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	scmp_filter_ctx ctx;
	struct scmp_arg_cmp family;
	size_t i;
	int rc = -1, err;

	if (!cfg.seccomp) {
		log_info("seccomp: off (DANVAN_SECCOMP=0)");
		return 0;
	}
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		log_error("seccomp: cannot make a filter");
		return -1;
	}
	/* Every thread of the process, the ones already running too. */
	if ((err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		log_error("seccomp: %s", strerror(-err));
		goto out;
	}
	if (rules(ctx, SCMP_ACT_ALLOW, allowed, nitems(allowed)) == -1)
		goto out;
	if (SANITIZED) {
		if (rules(ctx, SCMP_ACT_ALLOW, sanitizer, nitems(sanitizer)) ==
		    -1)
			goto out;
	} else {
		if (rules(ctx, SCMP_ACT_KILL_PROCESS, fatal, nitems(fatal)) ==
			-1 ||
		    rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &thread) == -1 ||
		    rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &name) == -1)
			goto out;
		/* clone without CLONE_THREAD makes a process. */
		if (rule(ctx, SCMP_ACT_KILL_PROCESS, "clone", 1, &process) == -1)
			goto out;
	}
	if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL) == -1)
		goto out;
	for (i = 0; i < nitems(families); i++) {
		family = arg0(SCMP_CMP_EQ, (scmp_datum_t)families[i], 0);
		if (rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &family) == -1)
			goto out;
	}
	if ((err = seccomp_load(ctx)) != 0) {
		log_error("seccomp: cannot load the filter: %s", strerror(-err));
		goto out;
	}
	log_info("seccomp: filter installed");
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
