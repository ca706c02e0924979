/*
 * The libmicrohttpd server. DANVAN_EVENT_THREADS event threads, each with
 * its own daemon on the one listening socket and its own epoll loop, read
 * requests and send answers; they run the ROUTE_INLINE handlers, whose one
 * read goes out on the thread's deferred connection (see api/db) while the
 * connection is suspended and the thread serves others. Every other handler
 * runs on the blocking pool (DANVAN_THREADS threads, each with its own
 * database connection; offload.c), its connection suspended meanwhile.
 * The pipeline's stages run in order on what the connection gives
 * (limits.c, router.c, pipeline.c, then the body, then shape.c and wire.c's
 * answer), with metrics and the access log. microhttpd.h is included here
 * and in wire.c only.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http.h"

/* What a connection's memory pool holds beside the request's headers: the
 * index of about 130 of them (libmicrohttpd answers 431 itself past that)
 * and the answer's headers. */
#define POOL_SLACK_BYTES 2048

/* An event thread: its daemon, its epoll set (the daemon's own epoll set,
 * the deferred database socket, wake) and an eventfd that wakes it to
 * stop. */
struct worker {
	struct MHD_Daemon *d;
	pthread_t thread;
	int ep, wake;
	int started, quiesced;
};

/* The epoll tag of a worker's wake eventfd (the others are 0). */
#define WAKE 1

static struct worker *workers;
static int nworkers;
static MHD_socket listen_fd = MHD_INVALID_SOCKET;
static struct http_options opts;
static int stopping, quit, nquiesced;
/* Handlers that wait on the database, and password hashing (offload.c). */
static struct offload_pool blocking, hashing;
#define HASHING_THREADS 2
/* Requests whose handler has started and whose answer is not sent yet:
 * what a graceful stop waits for. A client still sending its body is not
 * waited for. */
static long handling;

struct conn_req {
	struct req r;
	struct MHD_Connection *c;
	struct worker *w;	/* the event thread that serves it */
	struct offload_job job; /* for a ROUTE_OFFLOAD handler */
	struct wait_entry wait; /* while waiting for a change */
	int waiting;		/* suspended in wait.c's registry */
	int wait_slot;		/* holds one of DANVAN_MAX_WAITERS */
	/* The request target as sent: why it is malformed (NULL: it is not),
	 * and where its text ended, to find a NUL byte that cut it short. */
	const char *target_bad, *target_end;
	int begun;   /* the first call of the access handler came */
	size_t seen; /* body bytes received, kept or not */
	size_t room; /* bytes the body buffer holds */
	int too_big;
	int has_body;
	int early; /* answered on the headers-only call, body unread */
	int dispatched;
	int db_wait; /* suspended until its deferred statement is answered */
	int queued;
	int preflight; /* OPTIONS, answered by cors_preflight */
};

const char *
req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(((struct conn_req *)r)->c,
	    MHD_HEADER_KIND, name);
}

const char *
req_query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(((struct conn_req *)r)->c,
	    MHD_GET_ARGUMENT_KIND, name);
}

size_t
req_query_all(struct req *r, struct query_pair **out)
{
	return wire_query(((struct conn_req *)r)->c, r->arena, out);
}

void
req_client_addr(struct req *r, char *buf, size_t cap)
{
	wire_client_addr(((struct conn_req *)r)->c, buf, cap);
}

static enum MHD_Result
finish(struct conn_req *cr)
{
	int rc;

	rc = wire_reply(cr->c, &cr->r,
	    __atomic_load_n(&stopping, __ATOMIC_RELAXED) || cr->too_big ||
		cr->early);
	cr->queued = 1;
	return rc == 0 ? MHD_YES : MHD_NO;
}

/*
 * The request's framing, before anything else is read from it: a header
 * value cut by a NUL byte, a request target that is malformed or was cut
 * by one, a body whose end the server cannot find (a transfer coding other
 * than chunked, which libmicrohttpd would wait on until the timeout).
 * Answered at once, and the connection is closed: what follows on it
 * cannot be trusted.
 */
static int
framing(struct conn_req *cr, const char *method, const char *version,
    const char *cl, const char *te)
{
	struct req *r = &cr->r;

	cr->early = 1;
	if (!wire_head_clean(cr->c, method, version))
		return req_fail(r, 400, "invalid_header",
		    "a header holds a NUL byte or is folded over several lines");
	if (cr->target_bad == NULL && cr->target_end != version - 1)
		cr->target_bad = "a NUL byte";
	if (cr->target_bad != NULL)
		return req_fail(r, 400, "invalid_path",
		    "the request target holds %s", cr->target_bad);
	if (limits_transfer_coding(r, te,
		te == NULL ?
		    0 :
		    wire_header_lines(cr->c, MHD_HTTP_HEADER_TRANSFER_ENCODING),
		cl != NULL, strcmp(version, MHD_HTTP_VERSION_1_0) == 0) == -1)
		return -1;
	cr->early = 0;
	return 0;
}

/*
 * The first call for a request: set up the context and check everything the
 * headers alone decide. Returns -1 when the request has already failed.
 */
static int
begin(struct conn_req *cr, const char *url, const char *method,
    const char *version)
{
	struct req *r = &cr->r;
	const char *rid, *cl, *te;
	size_t urlsize = strlen(url), hdrsize = 0;
	int nuls = 0;

	r->arena = arena_new();
	r->started = mono_us();
	r->path = arena_strdup(r->arena, url);
	r->route_index = -1;
	metrics_inflight(1);
	rid = req_header(r, "X-Request-Id");
	if (limits_request_id(rid))
		snprintf(r->id, sizeof(r->id), "%s", rid);
	else
		random_hex(r->id, 16);

	r->fail.vi = shape_accepts_vi(req_header(r, "Accept-Language"));
	wire_sizes(cr->c, &urlsize, &nuls, &hdrsize);
	cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	cr->has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;
	if (framing(cr, method, version, cl, te) == -1)
		return -1;

	/* An unknown method is answered before the sizes, as it always was. */
	r->method = method_parse(method);
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
		/* A preflight carries no credentials: answered from the
		 * route table alone, on a later call like any answer. */
		cr->preflight = 1;
		cr->early = cr->has_body;
		if (limits_head(r, urlsize, nuls, hdrsize) == -1 ||
		    cors_preflight(r, opts.routes, opts.nroutes, url) == -1)
			return -1;
		return cr->has_body ? -1 : 0;
	}
	if ((r->method != 0 && limits_head(r, urlsize, nuls, hdrsize) == -1) ||
	    router_resolve(r, opts.routes, opts.nroutes, method, url) == -1)
		return -1;
	if (query_check(r) == -1)
		return -1;
	if (req_query(r, "fields") != NULL &&
	    (r->method != M_GET ||
		!shape_fields_valid(req_query(r, "fields")))) {
		req_field_error(r, "fields", "format",
		    "fields is a comma-separated "
		    "list of member names, on GET only");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	}
	/* Who asks, from the headers alone: a caller without the route's
	 * permission has no byte of its body read or buffered. */
	if (pipeline_admit(r) == -1) {
		cr->early = cr->has_body;
		return -1;
	}
	if (cr->has_body) {
		if (limits_body(r, cl,
			req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), &cr->room,
			&cr->too_big) == -1) {
			cr->early = cr->too_big;
			return -1;
		}
		r->body = arena_alloc(r->arena, cr->room + 1);
	}
	return 0;
}

static void
dispatch(struct conn_req *cr)
{
	struct req *r = &cr->r;

	r->may_wait = !__atomic_load_n(&stopping, __ATOMIC_RELAXED);
	r->suspend_until = 0;
	if (cr->too_big) {
		req_fail(r, 413, "payload_too_large",
		    "the body is larger than %zu bytes",
		    limits_body_cap(r->route));
		return;
	}
	db_defer_arm(1);
	pipeline_run(r);
	db_defer_arm(0);
}

void
req_resume(struct req *r)
{
	MHD_resume_connection(((struct conn_req *)r)->c);
}

/* From another thread: resumes cr's connection and wakes its event thread,
 * whose daemon has no channel of its own for that. cr is not touched once
 * resumed: the event thread may have answered it and freed it already. */
static void
resume_from_afar(struct conn_req *cr)
{
	uint64_t one = 1;
	int wake = cr->w->wake;

	MHD_resume_connection(cr->c);
	if (write(wake, &one, sizeof(one)) == -1)
		log_warn("cannot wake an event thread: %m");
}

static int wait_for_change(struct conn_req *);

/* On an offload thread: run the request, then wake its connection, unless
 * the handler waits for a change (wait.c wakes it then). */
static void
offloaded(struct offload_job *job)
{
	struct conn_req *cr = (struct conn_req *)(void *)((char *)job -
	    offsetof(struct conn_req, job));

	dispatch(cr);
	if (!wait_for_change(cr))
		resume_from_afar(cr);
}

/* On the waiting thread: a change came or the time is up. */
static void
woken(struct wait_entry *e)
{
	struct conn_req *cr = (struct conn_req *)(void *)((char *)e -
	    offsetof(struct conn_req, wait));

	resume_from_afar(cr);
}

/*
 * After the handler ran on a suspended connection: when it asked to wait
 * for a change, register it with wait.c, which wakes it (at once when a
 * change came while the handler looked), and say so (1); the handler runs
 * again then. 0 when the answer is ready.
 */
static int
wait_for_change(struct conn_req *cr)
{
	struct req *r = &cr->r;

	if (r->suspend_until == 0 || r->fail.status != 0)
		return 0;
	if (!cr->wait_slot && wait_reserve() == -1) {
		failure_header(&r->fail, "Retry-After", "1");
		req_fail(r, 503, "busy",
		    "too many requests are waiting for changes; retry in a "
		    "second");
		return 0;
	}
	cr->wait_slot = 1;
	cr->waiting = 1;
	cr->wait.until = r->suspend_until;
	cr->wait.wake = woken;
	if (wait_add(&cr->wait, r->wait_gen) == -1)
		resume_from_afar(cr);
	return 1;
}

/*
 * Runs the handler: an inline one here, when its statement is in flight
 * with the connection suspended until the result comes; any other on its
 * pool, the connection suspended meanwhile. 1 when the answer comes later,
 * 0 when it is ready.
 */
static int
run(struct conn_req *cr)
{
	struct req *r = &cr->r;
	struct offload_pool *pool = r->route->flags & ROUTE_OFFLOAD ? &hashing :
								      &blocking;

	if (r->route->flags & ROUTE_INLINE) {
		dispatch(cr);
		if (!r->deferred)
			return 0;
		cr->db_wait = 1;
		MHD_suspend_connection(cr->c);
		return 1;
	}
	if (offload_reserve(pool) == -1) {
		failure_header(&r->fail, "Retry-After", "1");
		req_fail(r, 503, "busy",
		    "too many sign-ins and password changes are waiting; "
		    "retry in a second");
		return 0;
	}
	MHD_suspend_connection(cr->c);
	cr->job.run = offloaded;
	offload_push(pool, &cr->job);
	return 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct conn_req *cr = *con_cls;

	if (cr == NULL) { /* on_target always makes one; be safe anyway */
		cr = xcalloc(1, sizeof(*cr));
		cr->c = c;
		cr->w = cls;
		cr->target_end = version - 1;
		*con_cls = cr;
	}
	if (!cr->begun) {
		cr->begun = 1;
		/*
		 * A body that is announced too big, or that the caller may
		 * not send, is refused now, before it is read: answering on
		 * this first call makes libmicrohttpd close the connection.
		 */
		if (begin(cr, url, method, version) == -1 && cr->early)
			return finish(cr);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (cr->r.body != NULL && !cr->too_big &&
		    cr->r.body_len + *upload_size <= cr->room) {
			memcpy(cr->r.body + cr->r.body_len, upload,
			    *upload_size);
			cr->r.body_len += *upload_size;
		} else if (cr->r.fail.status == 0)
			cr->too_big = 1;
		cr->seen += *upload_size;
		*upload_size = 0;
		/* Past the cap, reading on only wastes bandwidth: hang up. */
		if (cr->seen > (cr->r.route ? limits_body_cap(cr->r.route) :
					      cfg.max_body_bytes) +
			65536)
			return MHD_NO;
		return MHD_YES;
	}
	if (cr->queued)
		return MHD_YES;
	if (cr->db_wait)
		cr->db_wait = 0; /* answered: the answer goes */
	else if (cr->waiting) {
		cr->waiting = 0;
		if (run(cr))
			return MHD_YES;
	} else if (!cr->dispatched && cr->r.fail.status == 0 && !cr->preflight) {
		cr->dispatched = 1;
		__atomic_fetch_add(&handling, 1, __ATOMIC_RELAXED);
		if (run(cr))
			return MHD_YES;
	}
	return finish(cr);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_req *cr = *con_cls;
	struct req *r;
	int64_t us;

	(void)cls;
	(void)c;
	if (cr == NULL)
		return;
	*con_cls = NULL;
	/* libmicrohttpd refused the request itself, before the handler. */
	if (!cr->begun) {
		free(cr);
		return;
	}
	r = &cr->r;
	us = mono_us() - r->started;
	/* A client that hung up before an answer is logged with status 0. */
	if (!cr->queued || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		r->status = cr->queued ? r->status : 0;
	metrics_observe(r->route_index, r->status, us);
	log_access(r->id, method_name(r->method),
	    r->route ? router_template(r->arena, r->route->pattern) :
		       "unmatched",
	    r->status, r->resp_len, us);
	metrics_inflight(-1);
	if (cr->dispatched)
		__atomic_fetch_sub(&handling, 1, __ATOMIC_RELAXED);
	if (cr->wait_slot)
		wait_release();
	arena_free(r->arena);
	free(cr);
}

/*
 * Called with the request target as the client sent it, before
 * libmicrohttpd decodes it in place (the access handler's url is decoded):
 * the request's context starts here, with what the raw form says.
 */
static void *
on_target(void *cls, const char *target, struct MHD_Connection *c)
{
	struct conn_req *cr = xcalloc(1, sizeof(*cr));

	cr->c = c;
	cr->w = cls;
	cr->target_bad = limits_target(target);
	cr->target_end = target ? target + strlen(target) : NULL;
	return cr;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	(void)socket_ctx;
	metrics_connection(toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

/*
 * An event thread's loop: wait for the daemon's sockets, the deferred
 * database socket or a stop; hand the database's results to their requests
 * (which resumes their connections), then let libmicrohttpd read, answer
 * and accept. On a stop, the thread stops accepting at once and runs on
 * until told to quit.
 */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[16];
	MHD_UNSIGNED_LONG_LONG to;
	uint64_t n;
	int ms, i, got;

	db_defer_thread(w->ep);
	while (!__atomic_load_n(&quit, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE) &&
		    !w->quiesced) {
			MHD_quiesce_daemon(w->d);
			w->quiesced = 1;
			__atomic_fetch_add(&nquiesced, 1, __ATOMIC_RELEASE);
		}
		ms = -1;
		if (MHD_get_timeout(w->d, &to) == MHD_YES)
			ms = to > INT_MAX ? INT_MAX : (int)to;
		if ((got = epoll_wait(w->ep, ev, (int)nitems(ev), ms)) == -1 &&
		    errno != EINTR) {
			log_error("epoll_wait: %m");
			abort();
		}
		for (i = 0; i < got; i++)
			if (ev[i].data.u64 == WAKE &&
			    read(w->wake, &n, sizeof(n)) == -1 &&
			    errno != EAGAIN)
				log_warn("event thread wake: %m");
		db_defer_poll();
		MHD_run(w->d);
	}
	return NULL;
}

static void
workers_wake(void)
{
	uint64_t one = 1;
	int i;

	for (i = 0; i < nworkers; i++)
		if (workers[i].started &&
		    write(workers[i].wake, &one, sizeof(one)) == -1)
			log_warn("cannot wake an event thread: %m");
}

/* Joins the threads and stops the daemons (their connections close). */
static void
workers_end(void)
{
	int i;

	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	workers_wake();
	for (i = 0; i < nworkers; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		if (workers[i].d != NULL) {
			if (!workers[i].quiesced)
				MHD_quiesce_daemon(workers[i].d);
			MHD_stop_daemon(workers[i].d);
		}
		if (workers[i].ep >= 0)
			close(workers[i].ep);
		if (workers[i].wake >= 0)
			close(workers[i].wake);
	}
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	listen_fd = MHD_INVALID_SOCKET;
	free(workers);
	workers = NULL;
	nworkers = 0;
}

/* Starts event thread i: its daemon (the first listens, the others share
 * its socket), its epoll set, its thread. 0, or -1. */
static int
worker_start(int i, const struct sockaddr_storage *addr)
{
	struct worker *w = &workers[i];
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	struct epoll_event wake = { .events = EPOLLIN, .data.u64 = WAKE };
	unsigned flags, limit;
	size_t mem;
	struct MHD_OptionItem listen[2] = { { MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL } };

	/* The first daemon listens; the others share its socket. */
	if (i == 0)
		listen[0] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
			(void *)addr };
	else
		listen[0] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET,
			listen_fd, NULL };
	/* No internal thread: libmicrohttpd then has no channel to wake its
	 * loop on a resume from another thread (resume_from_afar does). */
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The limit is the server's: shared out as libmicrohttpd's own
	 * thread pool does. */
	limit = (unsigned)(cfg.connection_limit / cfg.event_threads +
	    (i < cfg.connection_limit % cfg.event_threads));
	/*
	 * Room for the headers we accept, their index and the answer's
	 * headers. Not more: libmicrohttpd zeroes the whole pool after every
	 * request (each spare KiB costs a KiB of memset per request), and
	 * that keeps every page of it resident on an idle connection.
	 */
	mem = cfg.max_header_bytes + POOL_SLACK_BYTES;
	w->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_ARRAY,
	    listen, MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK,
	    on_target, w, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
	if (w->d == NULL)
		return -1;
	if (i == 0) {
		info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_LISTEN_FD);
		listen_fd = info->listen_fd;
	}
	info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) == -1 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &wake) == -1) {
		log_error("cannot set up an event thread: %m");
		return -1;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -1;
	w->started = 1;
	return 0;
}

int
http_start(const struct http_options *o)
{
	struct sockaddr_storage addr;
	int i;

	opts = *o;
	if (router_check(opts.routes, opts.nroutes) == -1 ||
	    query_init(opts.routes, opts.nroutes, asset_openapi_json.data,
		asset_openapi_json.len) == -1 ||
	    wire_listen_addr(cfg.listen, &addr) == -1)
		return -1;
	metrics_init(opts.nroutes);
	nworkers = cfg.event_threads;
	workers = xcalloc((size_t)nworkers, sizeof(*workers));
	for (i = 0; i < nworkers; i++)
		workers[i].ep = workers[i].wake = -1;
	for (i = 0; i < nworkers; i++)
		if (worker_start(i, &addr) == -1) {
			log_error("cannot listen on %s", cfg.listen);
			workers_end();
			return -1;
		}
	offload_start(&blocking, cfg.threads, 0);
	offload_start(&hashing, HASHING_THREADS,
	    HASHING_THREADS + cfg.offload_queue);
	log_access_start();
	wait_start();
	log_info("listening on %s with %d event and %d database threads",
	    cfg.listen, cfg.event_threads, cfg.threads);
	return 0;
}

void
http_stop(void)
{
	int64_t deadline;

	if (workers == NULL)
		return;
	/* Each thread stops accepting (the socket is shared: closed once
	 * all have let go of it). */
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	workers_wake();
	while (__atomic_load_n(&nquiesced, __ATOMIC_ACQUIRE) < nworkers)
		usleep(1000);
	close(listen_fd);
	listen_fd = MHD_INVALID_SOCKET;
	/* Requests waiting for a change answer now, with what there is. */
	wait_stop();
	deadline = mono_us() + (int64_t)cfg.shutdown_grace_s * 1000000;
	while (__atomic_load_n(&handling, __ATOMIC_RELAXED) > 0 &&
	    mono_us() < deadline)
		usleep(10000);
	/* Offloaded requests still queued get answered before the stop. */
	offload_stop(&hashing);
	offload_stop(&blocking);
	workers_end();
	/* Every request has had its access line: write what is batched. */
	log_access_stop();
	log_info("stopped");
}
