// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_control: a strict parser and an all-or-nothing apply.
 *
 * The parser accepts exactly the grammar documented in ofsim.h and rejects
 * everything else with a static message and the 1-based line number.  It
 * never changes the simulation: a write is parsed completely before any
 * command in it is applied, so a bad line anywhere leaves the state (and
 * the pages) untouched.
 */
#include "ofsim_priv.h"

#define OFSIM_CMD_DEFAULT_DURATION	300	/* simulated seconds */

enum {
	KEY_SITE,
	KEY_CMD_ADD,
	KEY_CMD_REMOVE,
	KEY_FAULT,
	KEY_DURATION,
	KEY_COUNT,
};

static const char *const ofsim_cmd_keys[KEY_COUNT] = {
	"site", "cmd_add", "cmd_remove", "fault", "duration",
};

static int ofsim_tok_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/*
 * A decimal number in [1, max]: digits only (no sign, no spaces, no
 * leading zero), at most 10 digits so the value cannot overflow.
 */
static int ofsim_parse_num(const char *s, size_t n, u32 max, u32 *out,
			   const char **err)
{
	u64 v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*err = "malformed number: decimal digits only";
			return -EINVAL;
		}
	}
	if (n > 1 && s[0] == '0') {
		*err = "malformed number: leading zero";
		return -EINVAL;
	}
	if (n > 10) {
		*err = "number out of range";
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		v = v * 10 + (u64)(s[i] - '0');
	if (v < 1 || v > max) {
		*err = "number out of range";
		return -EINVAL;
	}
	*out = (u32)v;
	return 0;
}

static int ofsim_find_site(const struct ofsim *sim, const char *s, size_t n,
			   u32 *out)
{
	u32 i;

	if (n >= OPTIFIBER_SITE_NAME_LEN)
		return -EINVAL;
	for (i = 0; i < sim->p.nsites; i++) {
		const struct optifiber_site *pg = (const void *)
			(sim->pages + (size_t)(1 + i) * OPTIFIBER_PAGE_SIZE);

		if (!memcmp(pg->name, s, n) && pg->name[n] == '\0') {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One line without its newline: printable ASCII only, checked already. */
static int ofsim_parse_line(const struct ofsim *sim, const char *s, size_t n,
			    struct ofsim_cmd *cmd, const char **err)
{
	u32 seen = 0, actions = 0, fault = 0, clear = 0;
	size_t pos = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (s[0] == ' ') {
		*err = "leading space";
		return -EINVAL;
	}
	if (s[n - 1] == ' ') {
		*err = "trailing space";
		return -EINVAL;
	}
	while (pos < n) {
		const char *tok = s + pos, *eq, *val;
		size_t tlen = 0, klen, vlen;
		int key;

		while (pos + tlen < n && tok[tlen] != ' ')
			tlen++;
		if (!tlen) {
			*err = "more than one space between pairs";
			return -EINVAL;
		}
		pos += tlen + 1;	/* past the single separating space */
		eq = memchr(tok, '=', tlen);
		if (!eq) {
			*err = "expected key=value";
			return -EINVAL;
		}
		klen = (size_t)(eq - tok);
		val = eq + 1;
		vlen = tlen - klen - 1;
		if (!klen) {
			*err = "empty key";
			return -EINVAL;
		}
		for (key = 0; key < KEY_COUNT; key++)
			if (ofsim_tok_eq(tok, klen, ofsim_cmd_keys[key]))
				break;
		if (key == KEY_COUNT) {
			*err = "unknown key";
			return -EINVAL;
		}
		if (seen & (1U << key)) {
			*err = "repeated key";
			return -EINVAL;
		}
		seen |= 1U << key;
		if (!vlen) {
			*err = "empty value";
			return -EINVAL;
		}
		switch (key) {
		case KEY_SITE:
			if (ofsim_find_site(sim, val, vlen, &cmd->site)) {
				*err = "unknown site";
				return -EINVAL;
			}
			break;
		case KEY_CMD_ADD:
		case KEY_CMD_REMOVE:
			if (ofsim_parse_num(val, vlen, OFSIM_CMD_MAX_MODULES,
					    &cmd->count, err))
				return -EINVAL;
			cmd->op = key == KEY_CMD_ADD ? OFSIM_CMD_ADD_MODULES :
						       OFSIM_CMD_REMOVE_MODULES;
			actions++;
			break;
		case KEY_FAULT:
			if (ofsim_tok_eq(val, vlen, "clear")) {
				clear = 1;
				cmd->op = OFSIM_CMD_FAULT_CLEAR;
			} else {
				for (fault = 1; fault < OPTIFIBER_FAULT_COUNT;
				     fault++)
					if (ofsim_tok_eq(val, vlen,
						ofsim_fault_name(fault)))
						break;
				if (fault == OPTIFIBER_FAULT_COUNT) {
					*err = "unknown fault kind";
					return -EINVAL;
				}
				cmd->op = OFSIM_CMD_FAULT;
				cmd->fault = fault;
			}
			actions++;
			break;
		case KEY_DURATION:
			if (ofsim_parse_num(val, vlen, OFSIM_CMD_MAX_DURATION,
					    &cmd->duration_s, err))
				return -EINVAL;
			break;
		}
	}
	if (!(seen & (1U << KEY_SITE))) {
		*err = "missing site=";
		return -EINVAL;
	}
	if (!actions) {
		*err = "no action: need cmd_add=, cmd_remove= or fault=";
		return -EINVAL;
	}
	if (actions > 1) {
		*err = "more than one action";
		return -EINVAL;
	}
	if (seen & (1U << KEY_DURATION)) {
		if (!(seen & (1U << KEY_FAULT))) {
			*err = "duration= without fault=";
			return -EINVAL;
		}
		if (clear) {
			*err = "duration= with fault=clear";
			return -EINVAL;
		}
	} else if (cmd->op == OFSIM_CMD_FAULT) {
		cmd->duration_s = OFSIM_CMD_DEFAULT_DURATION;
	}
	return 0;
}

int ofsim_cmd_parse(const struct ofsim *sim, const char *buf, size_t len,
		    struct ofsim_cmd *cmds, int max, const char **err,
		    int *err_line)
{
	const char *msg = NULL;
	size_t pos = 0;
	int line = 1, n = 0;

	if (!len) {
		msg = "empty write";
		goto fail;
	}
	while (pos < len) {
		size_t i, end = 0;
		int found = 0;

		for (i = pos; i < len && i - pos < OFSIM_CMD_MAX_LINE; i++) {
			unsigned char ch = (unsigned char)buf[i];

			if (ch == '\n') {
				found = 1;
				end = i;
				break;
			}
			if (!ch) {
				msg = "NUL byte";
				goto fail;
			}
			if (ch < 0x20 || ch > 0x7e) {
				msg = "non-printable byte";
				goto fail;
			}
		}
		if (!found) {
			msg = i - pos >= OFSIM_CMD_MAX_LINE ?
			      "line too long (max 256 bytes with newline)" :
			      "missing newline at end of line";
			goto fail;
		}
		if (end == pos) {
			msg = "empty line";
			goto fail;
		}
		if (n >= max) {
			msg = "too many commands in one write";
			goto fail;
		}
		if (ofsim_parse_line(sim, buf + pos, end - pos, &cmds[n],
				     &msg))
			goto fail;
		n++;
		pos = end + 1;
		line++;
	}
	return n;
fail:
	if (err)
		*err = msg;
	if (err_line)
		*err_line = line;
	return -EINVAL;
}

int ofsim_cmd_apply(struct ofsim *sim, const struct ofsim_cmd *cmds, int n,
		    const char **err)
{
	const char *msg;
	int i, j;

	/* check everything first: all or nothing */
	for (i = 0; i < n; i++) {
		const struct ofsim_cmd *c = &cmds[i];
		s64 m;

		if (c->site >= sim->p.nsites)
			goto inval;
		if (sim->external && sim->external[c->site]) {
			if (err)
				*err = "the site is a network interface: cmd_add, cmd_remove and fault cannot apply to it";
			return -EOPNOTSUPP;
		}
		switch (c->op) {
		case OFSIM_CMD_ADD_MODULES:
		case OFSIM_CMD_REMOVE_MODULES:
			if (c->count < 1 || c->count > OFSIM_CMD_MAX_MODULES)
				goto inval;
			m = sim->sites[c->site].modules;
			for (j = 0; j <= i; j++) {
				const struct ofsim_cmd *d = &cmds[j];

				if (d->site != c->site)
					continue;
				if (d->op == OFSIM_CMD_ADD_MODULES)
					m += d->count;
				else if (d->op == OFSIM_CMD_REMOVE_MODULES)
					m -= d->count;
			}
			if (m < 1 || m > OFSIM_CMD_MODULES_MAX) {
				if (err)
					*err = "cmd_modules would leave 1..cmd_modules_max";
				return -ERANGE;
			}
			break;
		case OFSIM_CMD_FAULT:
			if (c->fault < 1 || c->fault >= OPTIFIBER_FAULT_COUNT ||
			    c->duration_s < 1 ||
			    c->duration_s > OFSIM_CMD_MAX_DURATION)
				goto inval;
			break;
		case OFSIM_CMD_FAULT_CLEAR:
			break;
		default:
			goto inval;
		}
	}

	for (i = 0; i < n; i++) {
		const struct ofsim_cmd *c = &cmds[i];
		struct ofsim_site *s = &sim->sites[c->site];

		switch (c->op) {
		case OFSIM_CMD_ADD_MODULES:
			s->modules += c->count;
			break;
		case OFSIM_CMD_REMOVE_MODULES:
			s->modules -= c->count;
			break;
		case OFSIM_CMD_FAULT:
			/* starts at the next tick, replacing any fault */
			s->pend_op = OFSIM_PEND_START;
			s->pend_fault = c->fault;
			s->pend_duration_s = c->duration_s;
			break;
		case OFSIM_CMD_FAULT_CLEAR:
			s->pend_op = OFSIM_PEND_CLEAR;
			break;
		}
	}
	if (err)
		*err = NULL;
	return 0;
inval:
	msg = "invalid command";
	if (err)
		*err = msg;
	return -EINVAL;
}
