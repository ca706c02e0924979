/*
 * danvan: the commune mass-mobilisation plan API. One binary with
 * subcommands: serve, migrate, seed, purge, routes, codes, enums and more.
 * Configuration comes from the environment (see core/config.c); the process
 * stops cleanly on SIGTERM.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resources/resources.h"

static int
usage(void)
{
	fputs(
	    "usage: danvan serve | migrate | seed [--synthetic N] [FILE] | purge | routes | "
	    "codes | enums | permissions | sql NAME | version\n"
	    "       danvan user add UNIT_PATH USERNAME FULL_NAME ROLE\n"
	    "  serve    serve the API (DANVAN_LISTEN, DANVAN_DATABASE_URL)\n"
	    "  migrate  apply the database migrations "
	    "(DANVAN_OWNER_DATABASE_URL)\n"
	    "  seed     load the demo data (DANVAN_OWNER_DATABASE_URL); with\n"
	    "           --synthetic N, also N sample communes of 30 units\n"
	    "  purge    delete expired idempotency records, refresh tokens\n"
	    "           and login failures (DANVAN_DATABASE_URL)\n"
	    "  routes   print the route table: method, path, handler,\n"
	    "           permission, body cap in bytes (tab-separated)\n"
	    "  codes    print the problem codes: code, status, title\n"
	    "  codes vi the same with the Vietnamese titles\n"
	    "  codes fields\n"
	    "           print the codes of errors[] entries: code, meaning\n"
	    "  enums    print each list of accepted values: name, values\n"
	    "  permissions\n"
	    "           print each permission and the roles that have it\n"
	    "  sql NAME print the SQL of a named statement\n"
	    "  user add create a user (the first admin); UNIT_PATH is unit\n"
	    "           codes from the root joined by '/', the password is\n"
	    "           read from standard input\n",
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
	struct http_options o = { routes, nroutes };
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

	/* Found now, not by the first spreadsheet someone asks for. */
	if (access(cfg.export_dir, W_OK | X_OK) == -1) {
		log_error("DANVAN_EXPORT_DIR %s: %s", cfg.export_dir,
		    strerror(errno));
		return 1;
	}
	meta_init();
	if (auth_init() == -1 || db_init(cfg.database_url, statements) == -1 ||
	    http_start(&o) == -1)
		return 1;
	/* What start-up parsed and freed (the contract's JSON tree, above
	 * all) leaves free pages between live blocks: about 3 MiB that no
	 * request would reuse. They go back to the system. */
	malloc_trim(0);
	if (sandbox_enter() == -1) {
		http_stop();
		return 1;
	}
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

/* Prints the SQL of one named statement (for EXPLAIN and the benchmark). */
static int
cmd_sql(const char *name)
{
	const struct db_stmt *s;
	size_t g;

	for (g = 0; statements[g] != NULL; g++)
		for (s = statements[g]; s->name != NULL; s++)
			if (strcmp(s->name, name) == 0) {
				puts(s->sql);
				return 0;
			}
	fprintf(stderr, "danvan: no statement named %s\n", name);
	return 1;
}

/* The route table, for the contract test and for people. */
static int
cmd_routes(void)
{
	struct arena *a = arena_new();
	const struct route *rt;
	size_t i;

	for (i = 0; i < nroutes; i++) {
		rt = &routes[i];
		printf("%s\t%s\t%s\t%s\t%zu\n", method_name(rt->method),
		    router_template(a, rt->pattern), rt->name,
		    perm_name((enum perm)rt->perm), rt->body_max);
	}
	arena_free(a);
	return 0;
}

/*
 * One line per problem code the API answers: code, status, title; with
 * "fields", one per code of an errors[] entry: code, meaning.
 */
static int
cmd_codes(int argc, char **argv)
{
	size_t i;

	if (argc == 3 && strcmp(argv[2], "fields") == 0) {
		for (i = 0; i < field_codes_count; i++)
			printf("%s %s\n", field_codes_list[i].code,
			    field_codes_list[i].meaning);
		return 0;
	}
	if (argc == 3 && strcmp(argv[2], "vi") != 0)
		return usage();
	if (argc > 3)
		return usage();
	for (i = 0; i < codes_count; i++)
		printf("%s %d %s\n", codes_list[i].code, codes_list[i].status,
		    argc == 3 ? codes_list[i].title_vi : codes_list[i].title);
	return 0;
}

/* Every list of accepted values: "name<TAB>value,value,...". */
static int
cmd_enums(void)
{
	const struct vocabulary *v;
	size_t i;

	for (v = vocabularies; v->name != NULL; v++) {
		printf("%s\t", v->name);
		for (i = 0; v->values[i] != NULL; i++)
			printf("%s%s", i ? "," : "", v->values[i]);
		putchar('\n');
	}
	return 0;
}

/* Every permission and the roles that have it: "name<TAB>role,role,...". */
static int
cmd_permissions(void)
{
	int p, role, n;

	for (p = 0; p < PERM_COUNT; p++) {
		printf("%s\t", perm_name((enum perm)p));
		for (n = 0, role = ROLE_NONE + 1; role < ROLE_COUNT; role++)
			if (perm_allows((enum role)role, (enum perm)p))
				printf("%s%s", n++ ? "," : "",
				    role_name((enum role)role));
		putchar('\n');
	}
	return 0;
}

/* Connects as the owner, for the commands that write outside a request. */
static int
connect_owner(void)
{
	if (owner_url() == NULL) {
		log_error("DANVAN_OWNER_DATABASE_URL is not set");
		return -1;
	}
	return db_init(owner_url(), statements);
}

/* seed [--synthetic COMMUNES] [FILE]: the demo data, then the synthetic
 * province when asked. */
static int
cmd_seed(int argc, char **argv)
{
	const char *file = "var/demo-credentials.json";
	long communes = 0;
	char *end;
	int i = 2;

	if (argc > 3 && strcmp(argv[2], "--synthetic") == 0) {
		communes = strtol(argv[3], &end, 10);
		if (*argv[3] == '\0' || *end != '\0' || communes < 1 ||
		    communes > 20000) {
			log_error(
			    "--synthetic takes a number of communes from "
			    "1 to 20000");
			return 2;
		}
		i = 4;
	}
	if (argc > i + 1)
		return usage();
	if (argc > i)
		file = argv[i];
	if (password_init() == -1 || connect_owner() == -1 ||
	    seed_run(file) == -1 ||
	    (communes > 0 && seed_synthetic((int)communes) == -1))
		return 1;
	return 0;
}

static int
cmd_user_add(int argc, char **argv)
{
	char password[PASSWORD_MAX_BYTES + 2];
	size_t n;

	if (argc != 7)
		return usage();
	if (fgets(password, sizeof(password), stdin) == NULL) {
		log_error("user add: give the password on standard input");
		return 1;
	}
	n = strcspn(password, "\r\n");
	password[n] = '\0';
	if (password_init() == -1 || connect_owner() == -1)
		return 1;
	return users_add_cli(argv[3], argv[4], argv[5], argv[6], password) ==
		0 ?
	    0 :
	    1;
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
	if (strcmp(argv[1], "codes") == 0)
		return cmd_codes(argc, argv);
	if (strcmp(argv[1], "enums") == 0)
		return cmd_enums();
	if (strcmp(argv[1], "permissions") == 0)
		return cmd_permissions();
	if (strcmp(argv[1], "sql") == 0 && argc == 3)
		return cmd_sql(argv[2]);
	if (config_load() == -1)
		return 1;
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve();
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate();
	if (strcmp(argv[1], "purge") == 0) {
		long n;

		if (cfg.database_url == NULL) {
			log_error("DANVAN_DATABASE_URL is not set");
			return 1;
		}
		if (db_init(cfg.database_url, statements) == -1 ||
		    (n = purge_run()) == -1)
			return 1;
		log_info("purge: %ld expired row(s) deleted", n);
		return 0;
	}
	if (strcmp(argv[1], "user") == 0 && argc > 2 &&
	    strcmp(argv[2], "add") == 0)
		return cmd_user_add(argc, argv);
	if (strcmp(argv[1], "seed") == 0)
		return cmd_seed(argc, argv);
	return usage();
}
