/*
 * import_render.h: the text of a mig migration file made from one revision
 * that mig-import recorded (header, review lines, a section per direction
 * and dialect).
 */
#ifndef MIG_IMPORT_RENDER_H
#define MIG_IMPORT_RENDER_H

#include "import.h"

/* The file's whole text, for the dialects in the bit set `dialects`
 * (MIG_IMPORT_* bits, as mig_import_opts.dialects); never
 * NULL; the caller frees it. */
char *mig_import_render(const struct mig_import_rev *r, unsigned dialects);

#endif
