/* native_none.c -- no plans compiled into C: the list mqcodegen links.
 *
 * mqcodegen writes the list for the rest of the build (in the first of the
 * files it writes, native_plans.c) and so cannot itself contain one; with
 * this empty list every plan it loads is interpreted, which is all it
 * needs.
 */
#include "internal.h"

const mq_native mq_native_plans[] = {{"", NULL, 0, 0, 0, 0, 0, 0}};
const int mq_native_nplans = 0;
