/*
 * alembicini.h: what mig reads from an Alembic project's alembic.ini
 * (alembicini.c), so that a folder of Alembic scripts is judged by the
 * project's own settings: today the [alembic] file_template, which decides
 * the names Alembic gives new revision files.
 */
#ifndef MIG_ALEMBICINI_H
#define MIG_ALEMBICINI_H

#include <stdbool.h>

/*
 * The file_template of the alembic.ini that sits beside the migrations
 * folder DIR (DIR/../alembic.ini, else DIR/alembic.ini), with configparser's
 * "%%" read as "%", as Alembic reads it.  Returns a new string, or NULL
 * when there is no such file or it sets no file_template (Alembic's
 * default, "%(rev)s_%(slug)s", then applies).  An unreadable or malformed
 * ini is treated as absent: it only silences a warning.
 */
char *mig_alembic_file_template(const char *dir);

/*
 * Whether the file name NAME (without a folder) is one that TEMPLATE
 * (NULL: Alembic's default) produces for revision REV: each %(rev)s is
 * REV, %(slug)s a slug of word characters, the date fields digits, and
 * the name ends in ".py".
 */
bool mig_file_template_matches(const char *template, const char *name,
			       const char *rev);

#endif
