/* codegen_main.c -- mqcodegen: the bundled plans compiled into C, at build time.
 *
 *   mqcodegen PLANS_DIR DEPFILE OUT.c [MORE.c...]
 *
 * Loads PLANS_DIR as the server would and writes one C function per plan
 * (src/engine/codegen.c), spread over OUT.c and each MORE.c so that the
 * build compiles them in parallel into the engine; OUT.c also holds the
 * list of them. DEPFILE, for ninja, names OUT.c and lists every file and
 * folder under PLANS_DIR, so editing, adding or removing a plan file
 * writes the files again. Plans that do not load are not an error here:
 * OUT.c then holds an empty list and the others no plans (every plan is
 * interpreted) and `multiquote check` reports what is wrong.
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
    if (argc < 4) {
        fprintf(stderr, "usage: mqcodegen PLANS_DIR DEPFILE OUT.c [MORE.c...]\n");
        return 2;
    }
    const char *plans_dir = argv[1], *dep = argv[2];
    char **names = argv + 3;
    int nout = argc - 3;
    FILE **out = calloc((size_t)nout, sizeof(FILE *));
    if (!out) {
        perror("mqcodegen");
        return 1;
    }
    for (int s = 0; s < nout; s++)
        if (!(out[s] = fopen(names[s], "w"))) {
            perror(names[s]);
            while (s--)
                fclose(out[s]);
            free(out);
            return 1;
        }
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load(plans_dir, &diags);
    if (!e)
        fprintf(stderr, "mqcodegen: %s does not load (%s); every plan will be interpreted\n",
                plans_dir, diags.count ? diags.items[0].text : "?");
    mq_diags_free(&diags);
    int n = 0;
    if (e) {
        n = mq_codegen_write(e, out, nout, stderr);
    } else {
        fprintf(out[0], "/* native_plans.c: the plans did not load; none compiled. */\n"
                        "#include \"internal.h\"\n"
                        "const mq_native mq_native_plans[] = {{\"\", NULL, 0, 0, 0, 0, 0, 0}};\n"
                        "const int mq_native_nplans = 0;\n");
        /* a translation unit must declare something (ISO C) */
        for (int s = 1; s < nout; s++)
            fprintf(out[s],
                    "/* The plans did not load; none compiled (the list is in %s). */\n"
                    "#include \"internal.h\"\n",
                    names[0]);
    }
    int plans = e ? mq_engine_plan_count(e) : 0;
    mq_engine_free(e);
    bool ok = n >= 0;
    if (!ok)
        fprintf(stderr, "mqcodegen: cannot write %s%s\n", names[0],
                nout > 1 ? " and the other files" : "");
    for (int s = 0; s < nout; s++)
        if (fclose(out[s]) != 0 && ok) {
            fprintf(stderr, "mqcodegen: cannot write %s\n", names[s]);
            ok = false;
        }
    free(out);
    if (!ok)
        return 1;
    if (!write_depfile(dep, names[0], plans_dir)) {
        fprintf(stderr, "mqcodegen: cannot write %s\n", dep);
        return 1;
    }
    fprintf(stderr, "mqcodegen: %d of %d plans compiled into C, in %d file%s\n", n, plans, nout,
            nout == 1 ? "" : "s");
    return 0;
}
