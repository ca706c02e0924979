/*
 * danvan: the commune mass-mobilisation plan API. One binary with
 * subcommands: serve, migrate, seed, routes. Configuration comes from the
 * environment (see core/config.c); the process stops cleanly on SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "resources/resources.h"

static int
usage(void)
{
	fputs("usage: danvan serve | migrate | seed | routes | version\n"
	      "  serve    serve the API (DANVAN_LISTEN, DANVAN_DATABASE_URL)\n"
	      "  migrate  apply the database migrations "
	      "(DANVAN_OWNER_DATABASE_URL)\n"
	      "  seed     load the demo data (DANVAN_OWNER_DATABASE_URL)\n"
	      "  routes   print the route table\n",
	    stderr);
	return 2;
}

static const char *
owner_url(void)
{
	if (cfg.owner_database_url != NULL)
		return cfg.owner_database_url;
	return cfg.database_url;
}

static int
cmd_serve(void)
{
	struct http_options o = { routes, nroutes, NULL };
	sigset_t set;
	int sig;

	if (cfg.database_url == NULL) {
		log_error("DANVAN_DATABASE_URL is not set");
		return 1;
	}
	/* Block the stop signals in every thread; main waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	meta_init();
	if (db_init(cfg.database_url, statements) == -1 || http_start(&o) == -1)
		return 1;
	sigwait(&set, &sig);
	log_info("%s received: finishing requests in flight",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_stop();
	return 0;
}

static int
cmd_migrate(void)
{
	int n;

	if (owner_url() == NULL) {
		log_error("DANVAN_OWNER_DATABASE_URL is not set");
		return 1;
	}
	if ((n = db_migrate(owner_url())) == -1)
		return 1;
	log_info("migrate: %d applied, schema at version %zu", n,
	    migrations_count);
	return 0;
}

static int
cmd_routes(void)
{
	struct arena *a = arena_new();
	size_t i;

	for (i = 0; i < nroutes; i++)
		printf("%s %s\n", method_name(routes[i].method),
		    router_template(a, routes[i].pattern));
	arena_free(a);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "version") == 0) {
		puts("danvan " DANVAN_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "routes") == 0)
		return cmd_routes();
	if (config_load() == -1)
		return 1;
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve();
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate();
	if (strcmp(argv[1], "seed") == 0) {
		log_info("seed: no demo data in this version");
		return 0;
	}
	return usage();
}
