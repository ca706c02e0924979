/*
 * The seccomp filter of `danvan serve` (api/core/sandbox.c), each case in a
 * child process of its own: what stays allowed (reading files, the
 * temporary file of an export, sockets of the UNIX and IP families,
 * threads, exiting through atexit), what fails with EPERM (other socket
 * families) and what kills (running a program, making a process). A
 * sanitizer build lets LeakSanitizer's tracer make a task at exit, so the
 * case that depends on that is skipped there.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"

/* Runs fn under the filter in a child; its wait status. */
static int
sandboxed(int (*fn)(void))
{
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		cfg.seccomp = 1;
		if (sandbox_enter() != 0)
			_exit(90);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
assert_exits_0(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
read_a_file(void)
{
	int fd = open("/etc/hosts", O_RDONLY);

	return fd >= 0 && close(fd) == 0 ? 0 : 1;
}

/* What an XLSX export does: a temporary file made, written, read back and
 * unlinked. */
static int
a_temporary_file(void)
{
	char path[] = "/tmp/danvan-sandbox-XXXXXX", buf[4];
	int fd;

	if ((fd = mkstemp(path)) == -1)
		return 1;
	if (write(fd, "xlsx", 4) != 4 || pread(fd, buf, 4, 0) != 4 ||
	    memcmp(buf, "xlsx", 4) != 0 || ftruncate(fd, 0) != 0)
		return 2;
	return unlink(path) == 0 && close(fd) == 0 ? 0 : 3;
}

static int
sockets(void)
{
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 || close(fd) != 0)
		return 1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 || close(fd) != 0)
		return 2;
	if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 3;
	return 0;
}

static void *
nothing(void *arg)
{
	return arg;
}

static int
a_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, nothing, NULL) != 0)
		return 1;
	return pthread_join(t, NULL) == 0 ? 0 : 2;
}

/* exit(), not _exit(): atexit handlers, LeakSanitizer's check among them,
 * run under the filter. */
static int
exit_normally(void)
{
	exit(0);
}

static int
run_a_program(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return 1;
}

static int
make_a_process(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 1;
}

static void
test_allowed(void **state)
{
	(void)state;
	assert_exits_0(sandboxed(read_a_file));
	assert_exits_0(sandboxed(a_temporary_file));
	assert_exits_0(sandboxed(sockets));
	assert_exits_0(sandboxed(a_thread));
	assert_exits_0(sandboxed(exit_normally));
}

static void
test_programs_and_processes_kill(void **state)
{
	int status;

	(void)state;
	if (SANITIZED)
		skip();
	status = sandboxed(run_a_program);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	status = sandboxed(make_a_process);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
test_off_switch(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		cfg.seccomp = 0;
		if (sandbox_enter() != 0)
			_exit(90);
		_exit(run_a_program());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* /bin/true ran. */
	assert_exits_0(status);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_programs_and_processes_kill),
		cmocka_unit_test(test_off_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
