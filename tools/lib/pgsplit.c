/*
 * pgsplit.c: statement boundaries of a PostgreSQL script, from libpg_query
 * loaded with dlopen() on first use (pgsplit.h).  The split gives where each
 * statement's text begins (after the previous ';', comments included); the
 * scanner's tokens give its first token, so that nested comments, $$
 * bodies and E'' strings are read by PostgreSQL's own lexer, not by us.
 */
#define _POSIX_C_SOURCE 200809L
#include "pgsplit.h"
#include "db.h"
#include "dl.h"
#include "mig.h"
#include "schema.h"

#include <ctype.h>
#include <limits.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mig_pg_query {
	PgQuerySplitResult (*pg_query_split_with_parser)(const char *input);
	PgQuerySplitResult (*pg_query_split_with_scanner)(const char *input);
	void (*pg_query_free_split_result)(PgQuerySplitResult result);
	PgQueryScanResult (*pg_query_scan)(const char *input);
	void (*pg_query_free_scan_result)(PgQueryScanResult result);
	PgQuery__ScanResult *(*pg_query__scan_result__unpack)(ProtobufCAllocator *allocator,
							      size_t len,
							      const uint8_t *data);
	void (*pg_query__scan_result__free_unpacked)(PgQuery__ScanResult *message,
						     ProtobufCAllocator *allocator);
};

#define PGQ_FUNCTIONS(X) \
	X(pg_query_split_with_parser) X(pg_query_split_with_scanner) \
	X(pg_query_free_split_result) X(pg_query_scan) \
	X(pg_query_free_scan_result) X(pg_query__scan_result__unpack) \
	X(pg_query__scan_result__free_unpacked)

/* Each member checked against pg_query.h's prototype, as pq.c does. */
#define PGQ_INIT(f) .f = (f),
_Static_assert(sizeof((struct mig_pg_query){ PGQ_FUNCTIONS(PGQ_INIT) }) ==
	       sizeof(struct mig_pg_query), "struct mig_pg_query matches pg_query.h");

#define PGQ_SYMBOL(f) { #f, offsetof(struct mig_pg_query, f) },
static const struct mig_dl_symbol symbols[] = { PGQ_FUNCTIONS(PGQ_SYMBOL) };

_Static_assert(sizeof(symbols) / sizeof(symbols[0]) * sizeof(void *) ==
	       sizeof(struct mig_pg_query), "PGQ_FUNCTIONS names every member");

static struct mig_pg_query table;
static void *handle;	/* never closed, as libpq's */

static const struct mig_pg_query *fail(struct mig_err *err, const char *why)
{
	mig_err_set(err, MIG_EDB, "cannot load " MIG_LIBPG_QUERY ", PostgreSQL's "
		    "parser, which mig needs to split a PostgreSQL section into "
		    "statements: %s", why ? why : "unknown reason");
	mig_err_hint(err, "install libpg-query1504.0 (Debian, Ubuntu: apt-get "
		     "install libpg-query1504.0); SQLite URLs do not need it");
	return NULL;
}

static const struct mig_pg_query *load(struct mig_err *err)
{
	if (handle)
		return &table;
	char *why = NULL;
	handle = mig_dl_bind(MIG_LIBPG_QUERY, symbols, sizeof(symbols) / sizeof(symbols[0]),
			     &table, sizeof(table), &why);
	if (!handle) {
		fail(err, why);
		free(why);
		return NULL;
	}
	return &table;
}

static bool is_comment(const PgQuery__ScanToken *t)
{
	return t->token == PG_QUERY__TOKEN__SQL_COMMENT ||
	       t->token == PG_QUERY__TOKEN__C_COMMENT;
}

/* Moves each statement's first byte to its first token that is not a
 * comment.  Without tokens (the scanner failed) it stays where it was. */
static void find_first_tokens(const struct mig_pg_query *q, const char *sql,
			      struct mig_stmt *s, size_t n)
{
	PgQueryScanResult scan = q->pg_query_scan(sql);
	PgQuery__ScanResult *tokens = scan.error ? NULL
		: q->pg_query__scan_result__unpack(NULL, scan.pbuf.len,
						   (const uint8_t *)scan.pbuf.data);
	size_t k = 0;
	for (size_t i = 0; tokens && i < n; i++) {
		while (k < tokens->n_tokens && ((size_t)tokens->tokens[k]->start < s[i].from ||
						is_comment(tokens->tokens[k])))
			k++;
		if (k < tokens->n_tokens && (size_t)tokens->tokens[k]->start < s[i].end)
			s[i].first = (size_t)tokens->tokens[k]->start;
	}
	if (tokens)
		q->pg_query__scan_result__free_unpacked(tokens, NULL);
	q->pg_query_free_scan_result(scan);
}

int mig_pg_split(const char *sql, struct mig_stmt **out, size_t *n,
		 struct mig_err *err)
{
	*out = NULL;
	*n = 0;
	const struct mig_pg_query *q = load(err);
	if (!q)
		return err->code;
	PgQuerySplitResult r = q->pg_query_split_with_parser(sql);
	if (r.error) {
		q->pg_query_free_split_result(r);
		r = q->pg_query_split_with_scanner(sql);
	}
	if (r.error) {
		mig_err_set(err, MIG_EDB, "PostgreSQL's parser cannot read this "
			    "section: %s", r.error->message);
		q->pg_query_free_split_result(r);
		return MIG_EDB;
	}
	struct mig_stmt *s = xcalloc((size_t)r.n_stmts + 1, sizeof(*s));
	for (int i = 0; i < r.n_stmts; i++) {
		s[i].from = (size_t)r.stmts[i]->stmt_location;
		s[i].first = s[i].from;
		/* a length of 0 means "to the end", as in PostgreSQL's RawStmt */
		s[i].end = r.stmts[i]->stmt_len ? s[i].from + (size_t)r.stmts[i]->stmt_len
						: strlen(sql);
	}
	find_first_tokens(q, sql, s, (size_t)r.n_stmts);
	*n = (size_t)r.n_stmts;
	*out = s;
	q->pg_query_free_split_result(r);
	return MIG_OK;
}

/* ---- the pieces of a big section --------------------------------------------- */

/* The byte offset of 1-based character pos in the UTF-8 text s of n bytes,
 * as PostgreSQL counts an error's cursor position; n when past the end. */
static size_t byte_of_char(const char *s, size_t n, int pos)
{
	int chars = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars == pos)
			return i;
	return n;
}

/* Whether text holds the word ATOMIC anywhere, in any case: a byte search
 * that only decides whether the parser must confirm a cut. */
static bool mentions_atomic(const char *text)
{
	for (const char *p = text; *p; p++)
		if ((*p == 'a' || *p == 'A') && !strncasecmp(p, "atomic", 6))
			return true;
	return false;
}

/*
 * The end of the last statement that lies whole in window (n bytes of a
 * longer script), where the next piece can begin; 0 when the window holds
 * less than two statements.  The scanner splits at each ';' token; the
 * window's last statement may be cut, so it is left to the next window.  A
 * cut inside a quote, a comment or a $$ body is a scanner error at the
 * place the cut token begins: the window is shortened to just before it,
 * where everything before still scans as in the whole script.  The scanner
 * also splits inside a BEGIN ATOMIC body, so a piece that mentions ATOMIC
 * is confirmed by the parser: when it finds the piece incomplete (its error
 * is at the piece's end), the cut moves back a statement.
 */
static size_t last_whole_end(const struct mig_pg_query *q, char *window, size_t n)
{
	for (;;) {
		PgQuerySplitResult r = q->pg_query_split_with_scanner(window);
		size_t cut = 0, error_at = n;
		if (r.error)
			error_at = byte_of_char(window, n, r.error->cursorpos);
		else if (r.n_stmts >= 2)
			cut = (size_t)r.stmts[r.n_stmts - 1]->stmt_location;
		q->pg_query_free_split_result(r);
		if (error_at > 0 && error_at < n) {
			window[n = error_at] = '\0';
			continue;
		}
		if (!cut)
			return 0;
		window[cut] = '\0';
		if (!mentions_atomic(window))
			return cut;
		PgQuerySplitResult p = q->pg_query_split_with_parser(window);
		bool incomplete = p.error && byte_of_char(window, cut, p.error->cursorpos) >= cut;
		q->pg_query_free_split_result(p);
		if (!incomplete)
			return cut;
		n = cut;
	}
}

int mig_pg_next_piece(const char *sql, size_t len, size_t from, size_t size,
		      size_t *end, struct mig_err *err)
{
	*end = len;
	const struct mig_pg_query *q = load(err);
	if (!q)
		return err->code;
	for (size_t w = size ? size : 1; w < len - from; w *= 2) {
		char *window = xstrndup(sql + from, w);
		size_t cut = last_whole_end(q, window, w);
		free(window);
		if (cut) {
			*end = from + cut;
			break;
		}
	}
	return MIG_OK;
}

/* Where the piece that begins at from ends; the whole rest without libpg_query. */
static size_t piece_end(const char *sql, size_t len, size_t from)
{
	struct mig_err ignored = MIG_ERR_INIT;
	size_t end;
	mig_pg_next_piece(sql, len, from, MIG_PG_PIECE, &end, &ignored);
	mig_err_release(&ignored);
	return end;
}

int mig_pg_for_each_piece(const char *sql, int first_line,
			  const struct mig_pg_piece_sender *s, struct mig_err *err)
{
	size_t len = strlen(sql), from = 0, end = piece_end(sql, len, 0);
	int rc = MIG_OK, line = first_line;
	bool more = true;
	while (!rc && more && from < len) {
		char *piece = xstrndup(sql + from, end - from);
		size_t next = len;
		rc = s->send(s->ctx, piece, err);
		if (!rc) {
			if (end < len)	/* the next cut, while the server runs this piece */
				next = piece_end(sql, len, end);
			rc = s->wait(s->ctx, piece, line, &more, err);
		}
		line = mig_sql_line(piece, end - from, line);
		free(piece);
		from = end;
		end = next;
	}
	return rc;
}

size_t mig_pg_char_offset(const char *s, long pos)
{
	return byte_of_char(s, strlen(s), pos > INT_MAX ? INT_MAX : (int)pos);
}

void mig_pg_say_what_ran(const char *sql, const struct mig_stmt *stmts, size_t ran,
			 int first_line, struct mig_err *err)
{
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, err->msg);
	if (!ran)
		buf_puts(&b, " (the section's first statement: nothing of it ran)");
	else
		buf_printf(&b, " (the section had run %zu statement%s before it, "
			   "each committed on its own, which stay: line%s", ran,
			   ran == 1 ? "" : "s", ran == 1 ? "" : "s");
	int line = first_line;
	for (size_t i = 0; i < ran; i++) {	/* each line counted on from the last */
		line = mig_sql_line(sql + (i ? stmts[i - 1].first : 0),
				    stmts[i].first - (i ? stmts[i - 1].first : 0), line);
		buf_printf(&b, "%s%d", i ? ", " : " ", line);
	}
	if (ran)
		buf_putc(&b, ')');
	free(err->msg);
	err->msg = buf_detach(&b);
}

/* ---- index keys, the same text on both dialects ------------------------------ */

static bool wordy(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '"' || c == '$' || c == '\'' || (unsigned char)c >= 0x80;
}

static bool token_is(const char *sql, const PgQuery__ScanToken *t, const char *word)
{
	size_t n = (size_t)(t->end - t->start);
	return strlen(word) == n && !strncasecmp(sql + t->start, word, n);
}

/* Tokens [a, b) of sql in canonical form (pgsplit.h). */
static void canonical(struct mig_buf *b, const char *sql, PgQuery__ScanToken **t,
		      size_t a, size_t e)
{
	size_t start = b->len;
	for (size_t i = a; i < e; i++) {
		if (is_comment(t[i]))
			continue;
		/* the cast PostgreSQL shows where a varchar meets a text function */
		if (t[i]->token == PG_QUERY__TOKEN__TYPECAST && i + 1 < e) {
			if (token_is(sql, t[i + 1], "text") || token_is(sql, t[i + 1], "varchar")) {
				i++;
				continue;
			}
			if (i + 2 < e && token_is(sql, t[i + 1], "character") &&
			    token_is(sql, t[i + 2], "varying")) {
				i += 2;
				continue;
			}
		}
		const char *p = sql + t[i]->start;
		size_t n = (size_t)(t[i]->end - t[i]->start);
		if (b->len > start && wordy(b->s[b->len - 1]) && n && wordy(p[0]))
			buf_putc(b, ' ');
		bool word = t[i]->keyword_kind != PG_QUERY__KEYWORD_KIND__NO_KEYWORD ||
			    (t[i]->token == PG_QUERY__TOKEN__IDENT && p[0] != '"');
		size_t at = b->len;
		buf_add(b, p, n);
		for (size_t k = at; word && k < b->len; k++)	/* ASCII only, as PostgreSQL folds */
			b->s[k] = (char)tolower((unsigned char)b->s[k]);
	}
}

static PgQuery__ScanResult *scan_tokens(const struct mig_pg_query *q, const char *sql,
					PgQueryScanResult *scan, struct mig_err *err)
{
	*scan = q->pg_query_scan(sql);
	PgQuery__ScanResult *tokens = scan->error ? NULL
		: q->pg_query__scan_result__unpack(NULL, scan->pbuf.len,
						   (const uint8_t *)scan->pbuf.data);
	if (!tokens) {
		mig_err_set(err, MIG_EDB, "PostgreSQL's lexer cannot read '%s': %s", sql,
			    scan->error ? scan->error->message : "no tokens");
		q->pg_query_free_scan_result(*scan);
	}
	return tokens;
}

int mig_pg_expr_canonical(const char *expr, char **out, struct mig_err *err)
{
	*out = NULL;
	const struct mig_pg_query *q = load(err);
	if (!q)
		return err->code;
	PgQueryScanResult scan;
	PgQuery__ScanResult *tokens = scan_tokens(q, expr, &scan, err);
	if (!tokens)
		return err->code;
	struct mig_buf b = MIG_BUF_INIT;
	buf_puts(&b, "");
	canonical(&b, expr, tokens->tokens, 0, tokens->n_tokens);
	q->pg_query__scan_result__free_unpacked(tokens, NULL);
	q->pg_query_free_scan_result(scan);
	*out = buf_detach(&b);
	return MIG_OK;
}

int mig_pg_index_keys(const char *create_index, struct mig_strv *out, struct mig_err *err)
{
	const struct mig_pg_query *q = load(err);
	if (!q)
		return err->code;
	PgQueryScanResult scan;
	PgQuery__ScanResult *tokens = scan_tokens(q, create_index, &scan, err);
	if (!tokens)
		return err->code;
	PgQuery__ScanToken **t = tokens->tokens;
	size_t n = tokens->n_tokens, i = 0;
	while (i < n && !token_is(create_index, t[i], "on"))
		i++;
	while (i < n && t[i]->token != PG_QUERY__TOKEN__ASCII_40)	/* "(" */
		i++;
	int depth = 0;
	size_t from = ++i;
	for (; i < n; i++) {
		bool open = t[i]->token == PG_QUERY__TOKEN__ASCII_40;
		bool close = t[i]->token == PG_QUERY__TOKEN__ASCII_41;
		if (open)
			depth++;
		if (close && depth) {
			depth--;
			continue;
		}
		if (!(close || (depth == 0 && t[i]->token == PG_QUERY__TOKEN__ASCII_44)))
			continue;
		size_t end = i;	/* the key's tokens; its order is not the key */
		while (end > from && (token_is(create_index, t[end - 1], "asc") ||
				      token_is(create_index, t[end - 1], "desc")))
			end--;
		struct mig_buf b = MIG_BUF_INIT;
		buf_puts(&b, "");
		canonical(&b, create_index, t, from, end);
		strv_push(out, buf_str(&b));
		buf_release(&b);
		from = i + 1;
		if (close)
			break;
	}
	q->pg_query__scan_result__free_unpacked(tokens, NULL);
	q->pg_query_free_scan_result(scan);
	return MIG_OK;
}

/* Index keys that are expressions in the canonical form the SQLite driver
 * gives them too (pgsplit.h): "lower(name::text)" reads "lower(name)".
 * A plain column name is left as it is; without libpg_query, everything. */
void mig_pg_canonical_keys(struct mig_schema *out)
{
	for (size_t i = 0; i < out->ntables; i++) {
		struct mig_table *t = &out->tables[i];
		for (size_t x = 0; x < t->nindexes; x++) {
			struct mig_strv *keys = &t->indexes[x].columns;
			for (size_t k = 0; k < keys->n; k++) {
				const char *key = keys->v[k];
				if (!key[strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_$")])
					continue;
				char *c = NULL;
				struct mig_err ignored = MIG_ERR_INIT;
				if (mig_pg_expr_canonical(key, &c, &ignored) == MIG_OK) {
					free(keys->v[k]);
					keys->v[k] = c;
				}
				mig_err_release(&ignored);
			}
		}
	}
}
