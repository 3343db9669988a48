/* codegen_main.c -- mqcodegen: the bundled plans compiled into C, at build time.
 *
 *   mqcodegen PLANS_DIR OUT.c [DEPFILE]
 *
 * Loads PLANS_DIR as the server would and writes OUT.c with one C function
 * per plan (src/engine/codegen.c), which the build compiles into the
 * engine. DEPFILE, for ninja, lists every file and folder under PLANS_DIR,
 * so editing, adding or removing a plan file writes OUT.c again. Plans that
 * do not load are not an error here: OUT.c then holds no plans (every plan
 * is interpreted) and `multiquote check` reports what is wrong.
 */
#include "engine.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *depfile;

/* One path of the tree, spaces escaped as make reads them. */
static int list_path(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    fputs(" \\\n  ", depfile);
    for (const char *c = path; *c; c++) {
        if (*c == ' ' || *c == '#' || *c == '$')
            fputc(*c == '$' ? '$' : '\\', depfile);
        fputc(*c, depfile);
    }
    return 0;
}

static bool write_depfile(const char *path, const char *out, const char *plans)
{
    depfile = fopen(path, "w");
    if (!depfile)
        return false;
    fprintf(depfile, "%s:", out);
    bool ok = nftw(plans, list_path, 16, FTW_PHYS) == 0;
    fputc('\n', depfile);
    return fclose(depfile) == 0 && ok;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: mqcodegen PLANS_DIR OUT.c [DEPFILE]\n");
        return 2;
    }
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load(argv[1], &diags);
    if (!e)
        fprintf(stderr, "mqcodegen: %s does not load (%s); every plan will be interpreted\n",
                argv[1], diags.count ? diags.items[0].text : "?");
    mq_diags_free(&diags);
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        mq_engine_free(e);
        return 1;
    }
    int n = 0;
    if (e) {
        n = mq_codegen_write(e, out, stderr);
    } else {
        fprintf(out, "/* native_plans.c: the plans did not load; none compiled. */\n"
                     "#include \"internal.h\"\n"
                     "const mq_native mq_native_plans[] = {{\"\", NULL, 0, 0, 0, 0, 0, 0}};\n"
                     "const int mq_native_nplans = 0;\n");
    }
    int plans = e ? mq_engine_plan_count(e) : 0;
    mq_engine_free(e);
    if (fclose(out) != 0 || n < 0) {
        fprintf(stderr, "mqcodegen: cannot write %s\n", argv[2]);
        return 1;
    }
    if (argc == 4 && !write_depfile(argv[3], argv[2], argv[1])) {
        fprintf(stderr, "mqcodegen: cannot write %s\n", argv[3]);
        return 1;
    }
    fprintf(stderr, "mqcodegen: %d of %d plans compiled into C\n", n, plans);
    return 0;
}
