// SPDX-License-Identifier: GPL-2.0
/*
 * optifiber-sim: the user-space host of the OptiFiber simulation core.
 *
 *   optifiber-sim run [options]    publish DIR/myinfo, serve DIR/cmd_control
 *   optifiber-sim ctl [--dir DIR] LINE
 *   optifiber-sim hash FILE        parity hash of a pages file
 *
 * The page file is the same layout as /proc/optifiber/myinfo, written
 * through a MAP_SHARED mapping; readers mmap it read-only.  One thread:
 * a ppoll() loop ticks at absolute CLOCK_MONOTONIC deadlines and applies
 * cmd_control lines between ticks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../sim/ofsim.h"
#include "ofreplay.h"

#define DEFAULT_DIR	"/dev/shm/optifiber"
#define DEFAULT_SITES	"MicrosoftDC,Dallas,Dobbins,Stone"
#define MAX_CLIENTS	64
#define EXIT_USAGE	2

static const char *prog = "optifiber-sim";

/* ------------------------------------------------------------ logging */

/* Minimal JSON string escaping for log lines. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void log_err(const char *event, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("{\"level\":\"error\",\"event\":", stderr);
	json_str(stderr, event);
	fputs(",\"msg\":", stderr);
	json_str(stderr, msg);
	fputs("}\n", stderr);
	fflush(stderr);
}

static void usage(void)
{
	fprintf(stderr,
"usage: %s run [--sites A,B,..|--nsites N] [--seed S] [--tick-ms MS]\n"
"                     [--time-scale K] [--fault-rate R] [--sim-start S]\n"
"                     [--dir DIR] [--max-ticks N] [--fast] [--parent-pid PID]\n"
"                     [--replay FILE [--speed X] [--loop] [--replay-site NAME]\n"
"                      [--replay-delay-ms MS] [--replay-value-scale K]]\n"
"       %s ctl [--dir DIR] 'site=NAME cmd_add=N'\n"
"       %s hash FILE\n", prog, prog, prog);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
	return EXIT_USAGE;
}

/* Strict unsigned decimal: digits only, no leading zero, <= max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --------------------------------------------------------------- hash */

/*
 * The parity hash: 64-bit FNV-1a over the page bytes with the wall-clock
 * and per-load fields zeroed: every update_time_ns (the recent ring's
 * copies too), the directory's generation and its host string ("kernel" /
 * "userspace").
 */
static uint64_t page_hash(unsigned char *buf, size_t len)
{
	const size_t ut = offsetof(struct optifiber_site, update_time_ns) -
			  OPTIFIBER_SAMPLE_OFFSET;
	struct optifiber_dir *dir = (struct optifiber_dir *)buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i, k, npages = len / OPTIFIBER_PAGE_SIZE;

	dir->update_time_ns = 0;
	dir->generation = 0;
	memset(dir->host, 0, sizeof(dir->host));
	for (i = 1; i < npages; i++) {
		struct optifiber_site *s = (struct optifiber_site *)
			(buf + i * OPTIFIBER_PAGE_SIZE);

		s->update_time_ns = 0;
		for (k = 0; k < OPTIFIBER_RECENT; k++)
			memset(s->recent[k] + ut, 0, sizeof(s->update_time_ns));
	}
	for (i = 0; i < len; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int cmd_hash(int argc, char **argv)
{
	size_t cap = (size_t)(1 + OPTIFIBER_MAX_SITES) * OPTIFIBER_PAGE_SIZE;
	size_t len = 0;
	unsigned char *buf;
	int fd;

	if (argc != 3)
		return usage_error("hash takes exactly one FILE");
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[2], strerror(errno));
		return 1;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	/* read(), not stat(): a /proc file reports size 0 */
	for (;;) {
		ssize_t r = pread(fd, buf + len, cap + 1 - len, (off_t)len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[2],
				strerror(errno));
			return 1;
		}
		if (r == 0 || len + (size_t)r > cap) {
			len += (size_t)r;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (len < OPTIFIBER_PAGE_SIZE || len % OPTIFIBER_PAGE_SIZE ||
	    len > cap ||
	    ((struct optifiber_dir *)buf)->magic != OPTIFIBER_MAGIC ||
	    len != (1 + (size_t)((struct optifiber_dir *)buf)->site_count) *
		   OPTIFIBER_PAGE_SIZE) {
		fprintf(stderr, "%s: %s: not an OptiFiber pages file\n", prog,
			argv[2]);
		return 1;
	}
	printf("%016" PRIx64 "\n", page_hash(buf, len));
	free(buf);
	return 0;
}

/* ---------------------------------------------------------------- ctl */

static int control_path(const char *dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path),
			     "%s/cmd_control", dir) >= sizeof(sa->sun_path))
		return -1;
	return 0;
}

static int cmd_ctl(int argc, char **argv)
{
	const char *dir = DEFAULT_DIR, *line = NULL;
	char out[OFSIM_CMD_MAX_LINE + 1], reply[512];
	struct sockaddr_un sa;
	size_t n, got = 0;
	int i, fd;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--dir")) {
			if (++i >= argc)
				return usage_error("--dir needs a value");
			dir = argv[i];
		} else if (!line && argv[i][0] != '-') {
			line = argv[i];
		} else {
			return usage_error("unexpected argument '%s'", argv[i]);
		}
	}
	if (!line)
		return usage_error("ctl needs a command line");
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		n--;
	if (memchr(line, '\n', n))
		return usage_error("ctl sends exactly one line");
	if (n + 1 > OFSIM_CMD_MAX_LINE)
		return usage_error("command longer than %d bytes",
				   OFSIM_CMD_MAX_LINE - 1);
	memcpy(out, line, n);
	out[n++] = '\n';
	if (control_path(dir, &sa))
		return usage_error("--dir too long");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "%s: %s: %s\n", prog, sa.sun_path,
			strerror(errno));
		return 1;
	}
	if (write(fd, out, n) != (ssize_t)n) {
		fprintf(stderr, "%s: write: %s\n", prog, strerror(errno));
		return 1;
	}
	while (got < sizeof(reply) - 1) {
		ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(reply, '\n', got))
			break;
	}
	close(fd);
	reply[got] = '\0';
	if (!got) {
		fprintf(stderr, "%s: no reply from %s\n", prog, sa.sun_path);
		return 1;
	}
	fputs(reply, stdout);
	if (reply[got - 1] != '\n')
		fputc('\n', stdout);
	return strncmp(reply, "ok\n", 3) ? 1 : 0;
}

/* ---------------------------------------------------------------- run */

struct client {
	int	fd;
	size_t	len;
	char	buf[OFSIM_CMD_MAX_LINE];
};

struct server {
	struct ofsim	sim;
	struct client	cl[MAX_CLIENTS];
	int		ncl;
	int		lfd;
	int		sfd;
	unsigned char	*map;
	size_t		map_len;
	char		pages_path[4096];
	char		ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		replay_done;	/* end of the recording, no --loop */
	/* replay of a recording instead of the simulation (ofreplay.c) */
	struct ofreplay	rp;
	int		replay;
	int		loop;
	double		speed;		/* recorded seconds per wall second */
	uint64_t	replay_t0;	/* CLOCK_MONOTONIC at recorded first_ms */
	uint64_t	replay_delay_ns; /* hold the first sample this long */
};

static void client_close(struct server *sv, int i)
{
	close(sv->cl[i].fd);
	sv->cl[i] = sv->cl[--sv->ncl];
}

static int client_reply(struct client *c, const char *s)
{
	size_t n = strlen(s);

	return send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ?
	       0 : -1;
}

/* One complete line (with its newline): parse, apply, answer. */
static int client_line(struct server *sv, struct client *c, const char *line,
		       size_t len)
{
	struct ofsim_cmd cmd;
	const char *err = NULL;
	char reply[OFSIM_CMD_MAX_LINE + 64];
	int n, eline = 0;

	n = ofsim_cmd_parse(&sv->sim, line, len, &cmd, 1, &err, &eline);
	if (n < 0) {
		snprintf(reply, sizeof(reply), "error EINVAL: %s\n", err);
		return client_reply(c, reply);
	}
	/* a recording cannot grow a module or take a fault */
	if (sv->replay)
		return client_reply(c,
		    "error EOPNOTSUPP: the pages replay a recording; cmd_add, cmd_remove and fault cannot apply to it\n");
	n = ofsim_cmd_apply(&sv->sim, &cmd, n, &err);
	if (n) {
		snprintf(reply, sizeof(reply), "error %s: %s\n",
			 n == -ERANGE ? "ERANGE" : "EINVAL", err);
		return client_reply(c, reply);
	}
	return client_reply(c, "ok\n");
}

/* Returns -1 when the client is to be closed. */
static int client_read(struct server *sv, struct client *c)
{
	ssize_t r;
	char *nl;

	r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r <= 0) {
		if (c->len)
			client_reply(c,
			     "error EINVAL: missing newline at end of line\n");
		return -1;
	}
	c->len += (size_t)r;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t n = (size_t)(nl - c->buf) + 1;

		if (client_line(sv, c, c->buf, n))
			return -1;
		memmove(c->buf, c->buf + n, c->len - n);
		c->len -= n;
	}
	if (c->len == sizeof(c->buf)) {
		client_reply(c,
		    "error EINVAL: line too long (max 256 bytes with newline)\n");
		return -1;
	}
	return 0;
}

static void server_cleanup(struct server *sv)
{
	struct optifiber_dir *dir = sv->sim.dir;

	if (dir) {
		ofsim_seq_write_begin(&dir->seq);
		dir->flags &= ~OPTIFIBER_DIR_F_LIVE;
		ofsim_seq_write_end(&dir->seq);
		msync(sv->map, OPTIFIBER_PAGE_SIZE, MS_ASYNC);
	}
	if (sv->ctl_path[0])
		unlink(sv->ctl_path);
	if (sv->pages_path[0])
		unlink(sv->pages_path);
}

/*
 * One tick of whichever source feeds the pages.  Replay: the recorded time
 * runs at --speed from the first tick; rows up to it are applied (each a
 * sample of its own), then every site is published.  At the end of the
 * recording the pages keep the last sample (they go stale, honestly) unless
 * --loop starts it again.
 * Returns -1 on a recording error.
 */
static int server_tick(struct server *sv)
{
	uint64_t mono = clock_ns(CLOCK_MONOTONIC), rec;
	int r;

	if (!sv->replay) {
		ofsim_tick(&sv->sim, clock_ns(CLOCK_REALTIME));
		return 0;
	}
	/* --replay-delay-ms: readers (a Prometheus just started) attach first */
	if (!sv->replay_t0)
		sv->replay_t0 = mono + sv->replay_delay_ns;
	rec = sv->rp.first_ms + (mono <= sv->replay_t0 ? 0 :
	      (uint64_t)((double)(mono - sv->replay_t0) / 1e6 * sv->speed));
	r = ofreplay_tick(&sv->rp, &sv->sim, rec, clock_ns(CLOCK_REALTIME));
	if (r < 0) {
		log_err("replay", "%s", sv->rp.err);
		return -1;
	}
	if (rec > sv->rp.last_ms)
		rec = sv->rp.last_ms;
	if (r == 1) {
		printf("{\"event\":\"replay_end\",\"loop\":%s,\"sim_time_s\":%llu}\n",
		       sv->loop ? "true" : "false",
		       (unsigned long long)(rec / 1000));
		fflush(stdout);
		if (!sv->loop) {
			sv->replay_done = 1;
			return 0;
		}
		if (ofreplay_rewind(&sv->rp)) {
			log_err("replay", "%s", sv->rp.err);
			return -1;
		}
		sv->replay_t0 = 0;
		sv->replay_delay_ns = 0;
	}
	return 0;
}

static int build_names(const char *sites, uint64_t nsites, char ***out,
		       u32 *count)
{
	char **names;
	u32 n = 0, i;

	if (sites) {
		const char *p = sites;

		for (n = 1; *p; p++)
			n += *p == ',';
		if (n > OPTIFIBER_MAX_SITES)
			return -1;
		names = calloc(n, sizeof(*names));
		if (!names)
			return -1;
		p = sites;
		for (i = 0; i < n; i++) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);

			names[i] = strndup(p, l);
			if (!names[i])
				return -1;
			p += l + 1;
		}
	} else {
		n = (u32)nsites;
		names = calloc(n, sizeof(*names));
		if (!names)
			return -1;
		for (i = 0; i < n; i++) {
			names[i] = malloc(16);
			if (!names[i])
				return -1;
			snprintf(names[i], 16, "site-%05u", i + 1);
		}
	}
	*out = names;
	*count = n;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static struct server sv;
	const char *sites = NULL, *dirpath = DEFAULT_DIR, *err;
	uint64_t nsites = 0, seed = 1, tick_ms = 1000, time_scale = 1;
	uint64_t fault_rate = 0, max_ticks = 0, parent_pid = 0, v;
	uint64_t sim_start = (uint64_t)time(NULL);
	int fast = 0, have_max = 0, i;
	const char *replay = NULL, *replay_site = NULL;
	double speed = 1, value_scale = 1;
	int explicit_sim = 0;
	struct ofsim_params p;
	struct sockaddr_un sa;
	char tmp[4096];
	char **names;
	void *sitemem;
	sigset_t mask;
	uint64_t deadline;
	u32 count;
	int fd, rc;
	mode_t um;

	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--fast")) {
			fast = 1;
			continue;
		}
		if (!strcmp(o, "--loop")) {
			sv.loop = 1;
			continue;
		}
		if (a && !strcmp(o, "--replay")) {
			replay = a;
			i++;
			continue;
		}
		if (a && !strcmp(o, "--replay-delay-ms")) {
			if (parse_u64(a, 3600000, &v))
				return usage_error("--replay-delay-ms: 0..3600000");
			sv.replay_delay_ns = v * 1000000ULL;
			i++;
			continue;
		}
		if (a && !strcmp(o, "--replay-site")) {
			replay_site = a;
			i++;
			continue;
		}
		if (a && (!strcmp(o, "--speed") ||
			  !strcmp(o, "--replay-value-scale"))) {
			char *end;
			double d = strtod(a, &end);

			if (*end || end == a || !(d >= 0.001 && d <= 1e12) ||
			    (!strcmp(o, "--speed") && d > 100000))
				return usage_error("%s: a number, 0.001..%s", o,
						   strcmp(o, "--speed") ?
						   "1e12" : "100000");
			if (!strcmp(o, "--speed"))
				speed = d;
			else
				value_scale = d;
			i++;
			continue;
		}
		if (strncmp(o, "--", 2))
			return usage_error("unexpected argument '%s'", o);
		if (strcmp(o, "--sites") && strcmp(o, "--dir") &&
		    strcmp(o, "--nsites") && strcmp(o, "--seed") &&
		    strcmp(o, "--tick-ms") && strcmp(o, "--time-scale") &&
		    strcmp(o, "--fault-rate") && strcmp(o, "--sim-start") &&
		    strcmp(o, "--max-ticks") && strcmp(o, "--parent-pid"))
			return usage_error("unknown option '%s'", o);
		if (!a)
			return usage_error("%s needs a value", o);
		i++;
		if (strcmp(o, "--dir") && strcmp(o, "--tick-ms") &&
		    strcmp(o, "--max-ticks") && strcmp(o, "--parent-pid"))
			explicit_sim = 1;
		if (!strcmp(o, "--sites")) {
			sites = a;
		} else if (!strcmp(o, "--dir")) {
			dirpath = a;
		} else if (!strcmp(o, "--nsites")) {
			if (parse_u64(a, OPTIFIBER_MAX_SITES, &nsites) ||
			    !nsites)
				return usage_error("--nsites: 1..%d",
						   OPTIFIBER_MAX_SITES);
		} else if (!strcmp(o, "--seed")) {
			if (parse_u64(a, UINT64_MAX, &seed))
				return usage_error("--seed: unsigned 64-bit integer");
		} else if (!strcmp(o, "--tick-ms")) {
			if (parse_u64(a, 60000, &tick_ms) || tick_ms < 10)
				return usage_error("--tick-ms: 10..60000");
		} else if (!strcmp(o, "--time-scale")) {
			if (parse_u64(a, 3600, &time_scale) || !time_scale)
				return usage_error("--time-scale: 1..3600");
		} else if (!strcmp(o, "--fault-rate")) {
			if (parse_u64(a, 1000000, &fault_rate))
				return usage_error("--fault-rate: 0..1000000 (faults per site per day x1000)");
		} else if (!strcmp(o, "--sim-start")) {
			if (parse_u64(a, 1ULL << 40, &v))
				return usage_error("--sim-start: seconds since the epoch");
			sim_start = v;
		} else if (!strcmp(o, "--parent-pid")) {
			if (parse_u64(a, INT32_MAX, &parent_pid) || !parent_pid)
				return usage_error("--parent-pid: a process id");
		} else if (!strcmp(o, "--max-ticks")) {
			if (parse_u64(a, UINT64_MAX, &max_ticks))
				return usage_error("--max-ticks: unsigned integer");
			have_max = 1;
		} else {
			return usage_error("unknown option '%s'", o);
		}
	}
	/*
	 * A supervisor killed with SIGKILL cannot stop us: ask the kernel to
	 * send the SIGTERM it would have sent (handled like any other, so the
	 * pages and socket are removed), and leave if it is already gone.
	 */
	if (parent_pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM)) {
			log_err("startup", "prctl(PR_SET_PDEATHSIG): %s",
				strerror(errno));
			return 1;
		}
		if ((uint64_t)getppid() != parent_pid)
			return 0;
	}
	if (replay && explicit_sim)
		return usage_error("--replay takes the sites and times from the recording: no --sites, --nsites, --seed, --time-scale, --fault-rate or --sim-start");
	if (!replay && (sv.loop || speed != 1 || replay_site || value_scale != 1 ||
			sv.replay_delay_ns))
		return usage_error("--speed, --loop, --replay-site, --replay-delay-ms and --replay-value-scale need --replay");
	if (sites && nsites)
		return usage_error("--sites and --nsites are exclusive");
	if (replay) {
		if (ofreplay_open(&sv.rp, replay, replay_site, value_scale)) {
			log_err("replay", "%s: %s", replay, sv.rp.err);
			return 1;
		}
		sv.replay = 1;
		sv.speed = speed;
		names = sv.rp.names;
		count = sv.rp.nsites;
		sim_start = sv.rp.first_ms / 1000;
		/* time_scale: recorded seconds per tick, as the ABI counts it */
		v = (uint64_t)(speed * (double)tick_ms / 1000 + 0.5);
		time_scale = v < 1 ? 1 : v > 3600 ? 3600 : v;
	} else {
		if (!sites && !nsites)
			sites = DEFAULT_SITES;
		if (build_names(sites, nsites, &names, &count))
			return usage_error("bad --sites list");
	}

	p = (struct ofsim_params){
		.seed = seed, .sim_start_s = sim_start, .tick_ms = (u32)tick_ms,
		.time_scale = (u32)time_scale, .fault_rate = (u32)fault_rate,
		.nsites = count,
	};
	sitemem = calloc(1, ofsim_sites_size(count));
	if (!sitemem) {
		log_err("startup", "out of memory");
		return 1;
	}

	/* signals through a signalfd so the poll loop sees them */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sv.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sv.sfd < 0) {
		log_err("startup", "signalfd: %s", strerror(errno));
		return 1;
	}

	if (mkdir(dirpath, 0755) && errno != EEXIST) {
		log_err("startup", "mkdir %s: %s", dirpath, strerror(errno));
		return 1;
	}
	if (control_path(dirpath, &sa) ||
	    (size_t)snprintf(sv.pages_path, sizeof(sv.pages_path), "%s/myinfo",
			     dirpath) >= sizeof(sv.pages_path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.myinfo.XXXXXX", dirpath) >=
	    sizeof(tmp))
		return usage_error("--dir too long");

	/*
	 * Build the pages in a temporary file and rename() it into place:
	 * a reader never sees a half-initialised file, and a restarted
	 * simulator is a new inode that readers can tell apart.
	 */
	sv.map_len = (size_t)(1 + count) * OPTIFIBER_PAGE_SIZE;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)sv.map_len)) {
		log_err("startup", "%s: %s", tmp, strerror(errno));
		return 1;
	}
	sv.map = mmap(NULL, sv.map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (sv.map == MAP_FAILED) {
		log_err("startup", "mmap %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return 1;
	}
	close(fd);
	rc = ofsim_init(&sv.sim, &p, (const char *const *)names, sitemem,
			sv.map, "userspace",
			clock_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 48),
			&err);
	if (rc) {
		unlink(tmp);
		return usage_error("%s", err);
	}
	/* first sample before publishing: readers never see an empty file */
	if (!have_max || max_ticks > 0)
		server_tick(&sv);
	if (chmod(tmp, 0444) || rename(tmp, sv.pages_path)) {
		log_err("startup", "publish %s: %s", sv.pages_path,
			strerror(errno));
		unlink(tmp);
		return 1;
	}

	/* the control socket: replace a stale one, mode 0600 */
	sv.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	unlink(sa.sun_path);
	um = umask(0177);
	rc = sv.lfd < 0 || bind(sv.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	     listen(sv.lfd, 16);
	umask(um);
	if (rc) {
		log_err("startup", "%s: %s", sa.sun_path, strerror(errno));
		unlink(sv.pages_path);
		return 1;
	}
	snprintf(sv.ctl_path, sizeof(sv.ctl_path), "%s", sa.sun_path);

	printf("{\"event\":\"ready\",\"pages\":");
	json_str(stdout, sv.pages_path);
	printf(",\"control\":");
	json_str(stdout, sv.ctl_path);
	printf(",\"sites\":%u,\"tick_ms\":%u,\"pid\":%d", count,
	       (u32)tick_ms, (int)getpid());
	if (sv.replay)
		printf(",\"replay\":\"%s\",\"speed\":%g,\"rows\":%llu,\"first_s\":%llu,\"last_s\":%llu",
		       ofreplay_format_name(sv.rp.format), sv.speed,
		       (unsigned long long)sv.rp.rows,
		       (unsigned long long)(sv.rp.first_ms / 1000),
		       (unsigned long long)(sv.rp.last_ms / 1000));
	printf("}\n");
	fflush(stdout);

	deadline = clock_ns(CLOCK_MONOTONIC) + tick_ms * 1000000ULL;
	for (;;) {
		struct pollfd pfd[2 + MAX_CLIENTS];
		struct timespec ts, *tsp = NULL;
		int ticking = !have_max || sv.sim.tick < max_ticks;
		uint64_t now;
		int n;

		if (ticking) {
			now = clock_ns(CLOCK_MONOTONIC);
			if (fast || now >= deadline) {
				if (server_tick(&sv))
					break;
				/* no drift; but do not burst after a stall */
				deadline += tick_ms * 1000000ULL;
				if (deadline < now)
					deadline = now + tick_ms * 1000000ULL;
				ticking = !have_max || sv.sim.tick < max_ticks;
			}
			ticking = ticking && !sv.replay_done;
		}
		if (ticking) {
			now = clock_ns(CLOCK_MONOTONIC);
			v = fast || deadline <= now ? 0 : deadline - now;
			ts.tv_sec = (time_t)(v / 1000000000ULL);
			ts.tv_nsec = (long)(v % 1000000000ULL);
			tsp = &ts;
		}
		pfd[0] = (struct pollfd){ .fd = sv.sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sv.lfd, .events = POLLIN };
		for (i = 0; i < sv.ncl; i++)
			pfd[2 + i] = (struct pollfd){ .fd = sv.cl[i].fd,
						      .events = POLLIN };
		n = ppoll(pfd, (nfds_t)(2 + sv.ncl), tsp, NULL);
		if (n < 0 && errno != EINTR) {
			log_err("poll", "%s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (pfd[0].revents)
			break;
		for (i = sv.ncl - 1; i >= 0; i--) {
			if (!pfd[2 + i].revents)
				continue;
			if (client_read(&sv, &sv.cl[i]))
				client_close(&sv, i);
		}
		if (pfd[1].revents & POLLIN) {
			int cfd = accept4(sv.lfd, NULL, NULL,
					  SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (cfd >= 0 && sv.ncl == MAX_CLIENTS) {
				log_err("accept", "too many clients");
				close(cfd);
			} else if (cfd >= 0) {
				sv.cl[sv.ncl].fd = cfd;
				sv.cl[sv.ncl].len = 0;
				sv.ncl++;
			}
		}
	}
	server_cleanup(&sv);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[1], "ctl"))
		return cmd_ctl(argc, argv);
	if (!strcmp(argv[1], "hash"))
		return cmd_hash(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage();
		return 0;
	}
	return usage_error("unknown command '%s'", argv[1]);
}
