/* date.c -- calendar arithmetic on day numbers (days since 1970-01-01).
 *
 * Rating needs ages on a date, whole months between dates and windows such
 * as "effective date minus 36 months". Dates are plain int32 day numbers so
 * comparisons are integer compares; conversions use the civil-from-days
 * algorithm (proleptic Gregorian, no time zones, no libc time functions).
 * The mq_ymd_* forms take a day already split into year, month and day, so
 * rating splits the effective date once and not at every age it computes.
 * Splitting a day is Neri and Schneider's form of the algorithm, with
 * multiplications by constants in place of divisions (days_ymd).
 */
#include "internal.h"

#include <string.h>

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

int32_t mq_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Days from 0000-03-01 to the day whose parts days_ymd works out without
 * division instructions; outside it (years past 548,000) the general form. */
enum { FAST_SPAN = 200719468 };

/* The civil-from-days algorithm of Neri and Schneider ("Euclidean affine
 * functions and their application to calendar algorithms", 2022): for
 * n = days since 0000-03-01 the century, the year of the century and the
 * day of the year come from multiplications and shifts by constants, and
 * the month and day from one more. It gives the general form's answers on
 * the whole of its range (tests/unit/test_date.c compares them), at about
 * a third of its instructions; rating splits a birth date per age. */
static inline bool days_ymd(int32_t days, int *y, int *m, int *d)
{
    uint32_t n = (uint32_t)days + 719468u;
    if (n >= FAST_SPAN)
        return false;
    uint32_t n1 = 4 * n + 3;
    uint32_t century = n1 / 146097, of_century = n1 % 146097 / 4;
    uint64_t p2 = (uint64_t)2939745 * (4 * of_century + 3);
    uint32_t year_of_century = (uint32_t)(p2 >> 32), day_of_year = (uint32_t)p2 / 2939745 / 4;
    uint32_t n3 = 2141 * day_of_year + 197913;
    uint32_t january_on = day_of_year >= 306; /* the computational year starts in March */
    *y = (int)(100 * century + year_of_century + january_on);
    *m = (int)((n3 >> 16) - 12 * january_on);
    *d = (int)((n3 & 0xffff) / 2141 + 1);
    return true;
}

void mq_date_to_ymd(int32_t days, int *y, int *m, int *d)
{
    if (days_ymd(days, y, m, d))
        return;
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static bool parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Reads s as YYYY-MM-DD into y, m, d: "" when it is a date mq_date_parse
 * takes, else why not (mq_date_problem). */
static const char *read_date(const char *s, int *y, int *m, int *d)
{
    if (!parse_digits(s, 4, y) || s[4] != '-' || !parse_digits(s + 5, 2, m) || s[7] != '-' ||
        !parse_digits(s + 8, 2, d) || s[10] != '\0')
        return "write it as YYYY-MM-DD";
    if (*m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return "no such day";
    if (*y < 1800 || *y > 2200)
        return "the year must be from 1800 to 2200";
    return "";
}

const char *mq_date_problem(const char *s)
{
    int y, m, d;
    return read_date(s, &y, &m, &d);
}

bool mq_date_parse(const char *s, int32_t *days)
{
    int y, m, d;
    if (*read_date(s, &y, &m, &d))
        return false;
    *days = mq_date_from_ymd(y, m, d);
    return true;
}

/* Written digit by digit: every quote formats its dates, and snprintf
 * cost more than the rest of the response's numbers together. A year
 * outside 0..9999 (only from a day number no date parsed to) keeps its
 * last four digits, as the 10 bytes always did. */
void mq_date_format(int32_t days, char out[11])
{
    int y, m, d;
    mq_date_to_ymd(days, &y, &m, &d);
    unsigned year = (unsigned)(y < 0 ? -y : y);
    out[0] = (char)('0' + year / 1000 % 10);
    out[1] = (char)('0' + year / 100 % 10);
    out[2] = (char)('0' + year / 10 % 10);
    out[3] = (char)('0' + year % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* Whole years from birth to on. Comparing (month, day) pairs gives the
 * 29 February rule for free: in a common year (2,28) < (2,29), so the
 * birthday is only reached on 1 March. */
int mq_date_age(int32_t birth, int32_t on)
{
    int by, bm, bd, oy, om, od;
    mq_date_to_ymd(birth, &by, &bm, &bd);
    mq_date_to_ymd(on, &oy, &om, &od);
    int age = oy - by;
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}

/* The age at the nearest birthday, as the term-life manuals put it: the age
 * at the last birthday, plus one from six whole months after that birthday
 * (plans/meridian/us-term-life-2026-01-01/README.md). Someone born on
 * 29 February has the birthday on 1 March in common years, as mq_date_age
 * counts it, so the half-year point is 1 September in a year whose birthday
 * fell on 1 March and 29 August in a leap year; never 28 August from a
 * 28 February birthday that mq_date_age does not count. */
int mq_date_age_nearest(int32_t birth, int32_t on)
{
    int age = mq_date_age(birth, on);
    int by, bm, bd;
    mq_date_to_ymd(birth, &by, &bm, &bd);
    int32_t last = mq_date_add_months(birth, 12 * age);
    if (bm == 2 && bd == 29 && !is_leap(by + age))
        last++; /* add_months clamped it to 28 February */
    return age + (mq_date_months_between(last, on) >= 6);
}

int mq_date_months_between(int32_t from, int32_t to)
{
    if (to < from)
        return -mq_date_months_between(to, from);
    int fy, fm, fd, ty, tm, td;
    mq_date_to_ymd(from, &fy, &fm, &fd);
    mq_date_to_ymd(to, &ty, &tm, &td);
    int months = (ty - fy) * 12 + (tm - fm);
    if (td < fd)
        months--;
    return months;
}

int32_t mq_date_add_months(int32_t day, int months)
{
    int y, m, d;
    mq_date_to_ymd(day, &y, &m, &d);
    int total = y * 12 + (m - 1) + months;
    int ny = total >= 0 ? total / 12 : (total - 11) / 12;
    int nm = total - ny * 12 + 1;
    int dim = days_in_month(ny, nm);
    return mq_date_from_ymd(ny, nm, d < dim ? d : dim);
}

/* The same three on days already split (rating splits the effective date
 * once): the same arithmetic as above. */
mq_ymd mq_date_ymd(int32_t days)
{
    mq_ymd r;
    mq_date_to_ymd(days, &r.y, &r.m, &r.d);
    return r;
}

int mq_ymd_age(mq_ymd birth, mq_ymd on)
{
    int age = on.y - birth.y;
    if (on.m < birth.m || (on.m == birth.m && on.d < birth.d))
        age--;
    return age;
}

int mq_ymd_months_between(mq_ymd from, mq_ymd to)
{
    int months = (to.y - from.y) * 12 + (to.m - from.m);
    if (to.d < from.d)
        months--;
    return months;
}

int32_t mq_ymd_add_months(mq_ymd day, int months)
{
    int total = day.y * 12 + (day.m - 1) + months;
    int ny = total >= 0 ? total / 12 : (total - 11) / 12;
    int nm = total - ny * 12 + 1;
    int dim = days_in_month(ny, nm);
    return mq_date_from_ymd(ny, nm, day.d < dim ? day.d : dim);
}
