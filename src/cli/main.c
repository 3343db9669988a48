/* main.c -- entry point of the multiquote command.
 *
 * Reads the command word and its options, then dispatches. One table of
 * long options serves every command; each command lists the options it
 * takes, and any other, or one given twice, is bad usage (exit 2). Also holds
 * the helpers commands share: loading the plans folder with its diagnostics,
 * reading a request from a file or stdin, and parsing it with its errors.
 */
#include "cli.h"
#include "jsontext.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MQ_DEFAULT_PLANS
#define MQ_DEFAULT_PLANS "plans"
#endif

static const char usage[] =
    "usage: multiquote COMMAND [OPTIONS] [ARG]\n"
    "\n"
    "Compare insurance quotes from many carriers' rate plans.\n"
    "\n"
    "Commands:\n"
    "  quote [--plans DIR] [--carriers FILE] [--json] FILE|-\n"
    "                                           rate a request against every carrier\n"
    "  quote --acord [--format acord] FILE.xml  the same from an ACORD XML request\n"
    "  explain --carrier ID [--plans DIR] [--json] FILE|-\n"
    "                                           show one carrier's rating worksheet\n"
    "  check [--schema] [DIR]                   validate rate plans (default: bundled)\n"
    "  carriers [--plans DIR] [--json]          list carriers, lines, states, versions\n"
    "  serve [--port 8080] [--plans DIR] [--db PATH] [--web DIR] [--bind ADDR]\n"
    "                                           run the quote server and web page\n"
    "  requote [--db PATH] [--plans DIR] [--key-file F] ID\n"
    "                                           re-rate a saved quote with its plan versions\n"
    "  batch [--plans DIR] [--carrier ID] [--format ndjson|csv] [--threads N] BOOK|-\n"
    "                                           rate every policy of a book (NDJSON or CSV)\n"
    "  impact --carrier ID --from VERSION --to VERSION [--out-csv FILE] [--png FILE] BOOK\n"
    "                                           what a new plan version does to a book\n"
    "  gen-book --line auto --n N [--seed S] [--format ndjson|csv] [--state OH,PA,TX]\n"
    "                                           write a synthetic book of policies\n"
    "  rotate-key [--key-file F] [--db PATH]    re-encrypt personal data under a new key\n"
    "  forget --email ADDR [--key-file F] [--db PATH]\n"
    "                                           erase every quote of that person\n"
    "  forget --quote ID [--db PATH]            erase one quote (its id or /q/ link)\n"
    "  purge --older-than DAYS [--db PATH]      erase quotes older than DAYS days\n"
    "  export --email ADDR | --quote ID [--key-file F] [--db PATH]\n"
    "                                           a person's quotes as JSON (personal data)\n"
    "  consent --withdraw --email ADDR | --quote ID [--key-file F] [--db PATH]\n"
    "                                           record that a person withdrew contact consent\n"
    "  leads [--since DATE] [--line L] [--format csv|ndjson] [--key-file F] [--db PATH]\n"
    "                                           who consented to be contacted (personal data)\n"
    "  help [COMMAND]                           this text, or a command's\n"
    "\n"
    "The plans folder defaults to $MULTIQUOTE_PLANS, else ./plans, else the bundled plans.\n"
    "Exit status: 0 done, 1 failure, 2 bad usage or bad request; requote also 3, nothing\n"
    "to check (multiquote help requote).\n";

static const struct {
    const char *name, *help;
} command_help[] = {
    {"quote",
     "usage: multiquote quote [--plans DIR] [--carriers FILE] [--json] FILE|-\n"
     "       multiquote quote --acord [--plans DIR] [--json | --format acord] FILE.xml|-\n\n"
     "Rates the request in FILE (contract JSON; - reads stdin) against every carrier's\n"
     "plan in effect on its effective_date and prints them sorted by total premium:\n"
     "quoted first, then declined and unavailable carriers with their reasons, then\n"
     "(auto) the ways the three cheapest could pay less, each saving in dollars.\n"
     "--json prints the contract's response JSON, with the tips, instead of the table.\n"
     "--acord reads an ACORD PersAutoPolicyQuoteInqRq (XML) instead of JSON, mapped as\n"
     "docs/acord.md says; --format acord answers a PersAutoPolicyQuoteInqRs (XML).\n"
     "VINs, each state's minimum limits and ZIP codes are checked (docs/state-rules.md).\n"
     "--carriers FILE takes the carriers from that registry (docs/carrier-protocol.md):\n"
     "its local plans are rated and its remote carriers asked, all in one comparison.\n"
     "A bundle request (\"line\": \"bundle\", docs/bundles.md) prints each line's\n"
     "comparison and every carrier's bundle.\n"},
    {"explain", "usage: multiquote explain --carrier ID [--plans DIR] [--json] [--acord] FILE|-\n\n"
                "Rates the request against carrier ID only and prints its worksheet: every step\n"
                "for every coverage, with the table and key looked up, the factor and the\n"
                "running premium, then minimum premium, fees and total.\n"
                "--acord reads an ACORD XML request, as quote --acord does. It takes one line's\n"
                "request: to explain a part of a bundle, give the part as a request of its own\n"
                "(docs/bundles.md).\n"},
    {"check", "usage: multiquote check [--schema] [DIR]\n\n"
              "Loads every plan under DIR (default: the bundled plans) and reports each problem\n"
              "as file:line: message. Then it looks for what would go wrong at quote time: a\n"
              "value a shopper can have that a table has no row for (an age band's gap, a ZIP\n"
              "code of the plan's states, a territory, the state's minimum limits), an error\n"
              "when the table has no missing: rule, else a warning; and likely slips (a\n"
              "version named for another date, a factor over 20), warnings. Exit 0 when\n"
              "every plan is valid, warnings or not (docs/plan-format.md §14). The server\n"
              "does not run these checks when it loads or reloads plans: run check first.\n"
              "--schema prints the fields plan expressions may read, line by line.\n"},
    {"carriers", "usage: multiquote carriers [--plans DIR] [--json]\n\n"
                 "Lists every carrier with its lines, states and plan versions.\n"},
    {"serve",
     "usage: multiquote serve [--port 8080] [--plans DIR] [--db PATH] [--web DIR] [--bind ADDR]\n"
     "                        [--key-file F] [--carriers FILE] [LIMITS]\n\n"
     "Serves the JSON API (POST /v1/quotes, GET /v1/quotes/ID, worksheets, carriers,\n"
     "plans, /healthz, /metrics) and the web page on http://ADDR:PORT/ (default\n"
     "127.0.0.1:8080; PORT 0 takes any free port, named in the \"listening\" log line).\n"
     "ADDR is an IPv4 address (0.0.0.0: every IPv4 interface), an IPv6\n"
     "address, bare or in brackets (::1 or [::1]; the URL is then http://[::1]:PORT/), or\n"
     "localhost (127.0.0.1). :: is every interface, IPv4 clients included (dual-stack,\n"
     "whatever the host's net.ipv6.bindv6only); any other IPv6 address takes IPv6 only.\n"
     "Quotes are saved in PATH (default var/multiquote.db, SQLite), or in PostgreSQL\n"
     "when PATH is a postgresql:// URI, which several nodes may share\n"
     "(docs/deploy.md). Personal data is sealed with the key ring: the key file F,\n"
     "created if missing, or MQ_KEY, never both (default var/multiquote.key when MQ_KEY\n"
     "is unset; docs/privacy.md).\n"
     "--carriers FILE serves the carriers of that registry, remote ones included\n"
     "(docs/carrier-protocol.md).\n"
     "SIGHUP reloads the plans and the key ring (what does not load keeps the old;\n"
     "the web folder is read at start only); SIGTERM lets in-flight requests\n"
     "finish, then stops.\n\n"
     "Limits against hostile or broken clients (defaults in brackets):\n"
     "  --max-connections N   open connections in all; more wait to be accepted [1000]\n"
     "  --max-per-ip N        open connections per client address (IPv6: per /64),\n"
     "                        0 no cap [200]\n"
     "  --idle-timeout S      close a connection silent for S seconds [30]\n"
     "  --request-timeout S   cut a request whose headers and body take longer than S\n"
     "                        seconds to arrive (slowloris), 0 never [60]\n"
     "  --drain-timeout S     on SIGTERM, wait S seconds for requests in flight; then\n"
     "                        remote carriers still out are cut off (timeout), and\n"
     "                        their quotes answered, for up to S seconds more [10]\n"
     "  --save-timeout S      answer 503 storage_timeout (the quote may still be saved)\n"
     "                        when the database has not confirmed a quote's commit S\n"
     "                        seconds after it was rated, 0 wait for it however long [10]\n"
     "  --max-body BYTES      request body, else 413 [1048576]\n"
     "  --max-header-size B   request line and headers, else 431 [16384]\n"
     "  --max-headers N       header fields, else 431 [100]\n"
     "  --max-url BYTES       path and query, else 414 [2048]\n"
     "  --rate-limit R        API requests (/v1/...) per second per client address,\n"
     "                        else 429 with Retry-After; 0 off [20]\n"
     "  --rate-burst N        requests a client may make at once [60]\n"
     "  --trust-proxy ADDR    believe X-Forwarded-For (its last address) only from the\n"
     "                        proxy at ADDR (IPv4 or IPv6, that one address), e.g.\n"
     "                        127.0.0.1 behind nginx [none]\n"
     "  --threads N           threads rating quotes, and half as many (at least one)\n"
     "                        reading requests and sending answers [one per core]\n"
     "A POST whose Origin, Sec-Fetch-Site or Referer names another site is refused\n"
     "(403); API clients that send none of them are served.\n"},
    {"rotate-key",
     "usage: multiquote rotate-key [--key-file F] [--db PATH] [--add-only | --reseal-only]\n\n"
     "Adds a new key to the key file (default var/multiquote.key; with MQ_KEY set, add\n"
     "the key to MQ_KEY yourself; a bare key in MQ_KEY cannot be rotated) and\n"
     "re-encrypts the personal data of every saved quote under it. Older keys stay in\n"
     "the file to read backups. With servers running (several nodes), in two steps:\n"
     "  --add-only      add the key and re-encrypt nothing; then SIGHUP every server\n"
     "  --reseal-only   add no key; re-encrypt every quote not under the current key\n"
     "docs/privacy.md.\n"},
    {"forget", "usage: multiquote forget --email ADDR [--key-file F] [--db PATH]\n"
               "       multiquote forget --quote ID [--db PATH]\n\n"
               "Deletes every saved quote whose applicant gave this email address (those saved\n"
               "in clear before sealing too), erases them from a SQLite database's files\n"
               "(PostgreSQL keeps them in its pages until VACUUM), and prints how many. Exit 1\n"
               "when it finds none and the key ring does not open the database's quotes (not\n"
               "their ring).\n"
               "--quote deletes and erases the one quote with this id, for a shopper who gave\n"
               "no email (the web page asks for none): the id, or the quote's link ending in\n"
               "/q/ID. Exit 1 when no quote has it. docs/privacy.md.\n"},
    {"purge", "usage: multiquote purge --older-than DAYS [--db PATH]\n\n"
              "Deletes every saved quote created more than DAYS days ago (retention), erases\n"
              "them from a SQLite database's files (PostgreSQL keeps them in its pages until\n"
              "VACUUM), and prints how many. docs/privacy.md.\n"},
    {"export", "usage: multiquote export --email ADDR [--key-file F] [--db PATH]\n"
               "       multiquote export --quote ID [--key-file F] [--db PATH]\n\n"
               "Writes to stdout, as one JSON document, every saved quote of the person who gave\n"
               "this email address (right of access and portability), or the one quote with this\n"
               "id or /q/ID link: its id, times, line, the request with its personal data opened,\n"
               "the results as answered, and its contact consent (given, when; withdrawn, when).\n"
               "Nothing of anyone else. The output holds the person's personal data in clear:\n"
               "send it to them only, and keep no copy lying about.\n"
               "Exit 1, writing nothing, when no quote is found, when the key ring does not open\n"
               "the database's quotes, or when a quote does not open. docs/privacy.md.\n"},
    {"consent",
     "usage: multiquote consent --withdraw --email ADDR [--key-file F] [--db PATH]\n"
     "       multiquote consent --withdraw --quote ID [--db PATH]\n\n"
     "Records, with the time now, that the person who gave this email address withdrew\n"
     "contact consent, on every saved quote of theirs whose consent stands (or on the\n"
     "one quote with this id or /q/ID link). The quotes and when consent was given are\n"
     "kept; `leads` no longer lists them. A later quote that gives consent again is a\n"
     "new consent, with its own time. Exit 1 when no quote is found. docs/privacy.md.\n"},
    {"leads",
     "usage: multiquote leads [--since DATE] [--line L] [--format csv|ndjson] [--key-file F]\n"
     "                        [--db PATH]\n\n"
     "Lists the saved quotes whose applicant gave contact consent and has not withdrawn\n"
     "it, in id order: quote id, time, line, first and last name, email and phone\n"
     "(opened from the sealed request; empty when not given), and the cheapest quoted\n"
     "carrier with its premium and term in months (a bundle: its cheapest bundle's\n"
     "annual total). CSV with a header (default) or NDJSON. --since DATE (YYYY-MM-DD,\n"
     "from its midnight UTC, or YYYY-MM-DDTHH:MM:SSZ) and --line L keep those only.\n"
     "The output holds personal data in clear: keep it as carefully as the database.\n"
     "Exit 1 when a lead's request does not open (the others are listed).\n"
     "docs/privacy.md.\n"},
    {"requote",
     "usage: multiquote requote [--db PATH] [--plans DIR] [--key-file F] ID\n\n"
     "Rates saved quote ID again with the plan version each carrier used and reports,\n"
     "carrier by carrier, whether the result is reproduced exactly: what the quote\n"
     "promised (carrier, plan id and version, status, every money figure to the cent,\n"
     "the reasons a carrier declined; the first that differs named with its value now\n"
     "and then). Explanatory text (notes, credit_note, a fee's name, verifies) worded\n"
     "otherwise, and members the saved result lacks (new since), do not count: they are\n"
     "listed under the verdict. A member the saved result has and this program no\n"
     "longer writes does (docs/plan-format.md, section 14). A remote carrier's\n"
     "result (rated by its own service, with its own plan) is named, not re-rated. A\n"
     "health quote's tax credit is worked out again from the benchmark plan version it\n"
     "recorded, a plan version it used like the others (a quote saved before benchmarks\n"
     "were recorded: from the plans loaded now).\n"
     "Under a result that differs it says why, from the digests the quote recorded of\n"
     "the files that priced it: its plan version's (and for health its benchmark plan's\n"
     "and its market.yaml's) changed since, digest then and now; or the files are the\n"
     "same and this program rates differently (a quote saved before digests were\n"
     "recorded cannot tell). A bundle quote is re-rated part by part, then bundle by\n"
     "bundle (each with the multi-line fact set) from the plan versions its parts used.\n"
     "The savings tips saved with an auto, home or renters quote are worked out again\n"
     "from the results re-rated here, as the server works them out (a remote carrier's\n"
     "result has none), and compared with the saved ones by carrier, plan and what the\n"
     "tip changes (its kind, and the limits, deductible or vehicle it names), not by\n"
     "its words, which older programs wrote otherwise: a saving or new total not the\n"
     "same to the cent, a tip missing or a new one makes the quote differ (exit 1), each\n"
     "said with its figures then and now and why. Health, term life and bundle quotes\n"
     "have none.\n"
     "Exit 0 when every result re-rated here is the same; 1 when one differs or its plan\n"
     "version is not loaded, or on failure; 3 when nothing could be re-rated here (every\n"
     "result is a remote carrier's or had no plan): nothing to check, not a difference.\n"
     "The saved request's personal data is opened with the key ring: the key file F or\n"
     "MQ_KEY, never both (default var/multiquote.key when MQ_KEY is unset).\n"
     "docs/privacy.md.\n"},
    {"batch",
     "usage: multiquote batch [--plans DIR] [--carrier ID] [--format ndjson|csv] [--threads N] "
     "BOOK|-\n\n"
     "Rates every policy of BOOK (- reads stdin) as `quote` does, on all cores, and writes\n"
     "the results to stdout in the book's order. BOOK is NDJSON (one single-line contract\n"
     "request per line; a bundle row is invalid) or CSV (one flat auto policy per row,\n"
     "columns in docs/batch.md); the format is recognised from the first character.\n"
     "Output: NDJSON, one `quote --json` response per line with its input_line, or CSV,\n"
     "one row per carrier result; by default the book's format, else --format.\n"
     "--carrier rates with that carrier only. A bad row becomes an\n"
     "\"invalid\" row naming its line and field, and the batch goes on. A progress line is\n"
     "shown on stderr when it is a terminal.\n"
     "Exit status: 0 all rows valid, 2 some rows invalid (the output is complete), a\n"
     "bad CSV header or an empty book (no policies), 1 failure, 130 interrupted (Ctrl-C:\n"
     "the rows read by then are written, whole and in order, and stderr says how far).\n"},
    {"impact",
     "usage: multiquote impact --carrier ID --from VERSION --to VERSION [--out-csv FILE]\n"
     "                         [--png FILE] [--plans DIR] [--threads N] BOOK|-\n\n"
     "Rates every policy of BOOK under two versions of one plan of carrier ID (or give the\n"
     "plan id as ID) and prints what changes: policies quoted, declined and unavailable\n"
     "under each, mean and median change, percentiles p1 to p99, how many change by more\n"
     "than 5, 10 and 25%, and the change by territory (garaging ZIP prefix), driver age band\n"
     "and coverage. --out-csv writes one row per policy; --png draws the histogram of\n"
     "changes. Worked example: docs/rate-impact-example.md.\n"
     "Ctrl-C stops the run with exit 130 and no summary (--out-csv keeps the rows rated).\n"
     "A run that fails leaves --out-csv and --png as they were.\n"},
    {"gen-book",
     "usage: multiquote gen-book --line auto --n N [--seed S] [--format ndjson|csv]\n"
     "                           [--state OH,PA,TX]\n\n"
     "Writes N synthetic auto policies to stdout: drivers, vehicles, ZIPs, incidents and\n"
     "coverages drawn from plausible distributions, effective 2026-07-01 to 2026-12-31.\n"
     "The same seed (default 1) gives the same book; policy i is the same whatever N and\n"
     "whichever format. NDJSON (contract requests) by default, or CSV (docs/batch.md).\n"
     "--state restricts the states (default: OH, PA and TX by population).\n"},
};

/* The help of `command` (NULL: the general help) on stdout; CLI_USAGE
 * after saying so when there is no such command. */
static int print_help(const char *command)
{
    if (!command) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(command_help) / sizeof(command_help[0]); i++)
        if (strcmp(command, command_help[i].name) == 0) {
            fputs(command_help[i].help, stdout);
            return CLI_OK;
        }
    fprintf(stderr, "multiquote help: unknown command \"%s\"\n\n%s", command, usage);
    return CLI_USAGE;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *default_plans(void)
{
    const char *env = getenv("MULTIQUOTE_PLANS");
    if (env && *env)
        return env;
    if (is_dir("plans"))
        return "plans";
    return MQ_DEFAULT_PLANS;
}

mq_engine *cli_load_engine(const char *dir)
{
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    for (int i = 0; i < d.count; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    if (!e)
        fprintf(stderr, "multiquote: %d problem%s in the plans under %s\n", d.count,
                d.count == 1 ? "" : "s", dir);
    mq_diags_free(&d);
    return e;
}

char *cli_read_input(const char *file, size_t max, size_t *len)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "multiquote: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || err) {
        fprintf(stderr, "multiquote: %s: cannot read\n", file);
        free(buf);
        return NULL;
    }
    if (n > max) {
        fprintf(stderr, "multiquote: %s: larger than %zu bytes\n", file, max);
        free(buf);
        *len = max + 1; /* tells cli_parse_request it was too large, not unreadable */
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int cli_parse_request(const char *file, mq_arena *a, mq_input *in)
{
    size_t len = 0;
    char *text = cli_read_input(file, MQ_REQ_MAX_BYTES, &len);
    if (!text)
        return len > MQ_REQ_MAX_BYTES ? CLI_USAGE : CLI_FAIL; /* too large: a bad request */
    mq_req_errors errs = {0};
    bool ok = mq_req_parse(text, len, a, in, &errs);
    int checked = ok ? cli_intake_check(file, text, len, a) : CLI_OK; /* VIN, limits, ZIPs */
    free(text);
    if (ok)
        return checked;
    if (errs.count == 0) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    int shown = errs.count < 32 ? errs.count : 32;
    for (int i = 0; i < shown; i++)
        fprintf(stderr, "%s: invalid request: %s\n", file, mq_req_error_text(&errs.items[i], a));
    if (errs.count > shown)
        fprintf(stderr, "%s: ... and %d more problems\n", file, errs.count - shown);
    return CLI_USAGE;
}

void cli_print_money(FILE *f, int64_t cents, int width)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "",
             (cents < 0 ? -cents : cents) / 100, (cents < 0 ? -cents : cents) % 100);
    fprintf(f, "%*s", width, buf);
}

typedef int (*command_fn)(const cli_opts *);

/* serve's limits (cmd_serve.c checks their values) */
#define SERVE_LIMITS                                                                               \
    "max-connections max-per-ip idle-timeout request-timeout drain-timeout save-timeout "          \
    "max-body max-header-size max-headers max-url rate-limit rate-burst trust-proxy"

/* Each command with the options it takes (long names, separated by spaces;
 * --help goes with every command) and whether it takes an argument. An
 * option another command takes is refused, never silently ignored. */
typedef struct command {
    const char *name;
    command_fn fn;
    bool takes_file;
    const char *options;
} command;

static const command commands[] = {
    {"quote", cli_quote, true, "plans carriers json acord format"},
    {"explain", cli_explain, true, "carrier plans json acord"},
    {"check", cli_check, true, "schema"},
    {"carriers", cli_carriers, false, "plans json"},
    {"serve", cli_serve, false, "port plans db web bind key-file threads carriers " SERVE_LIMITS},
    {"requote", cli_requote, true, "db plans key-file"},
    {"batch", cli_batch, true, "plans carrier format threads"},
    {"impact", cli_impact, true, "carrier from to out-csv png plans threads"},
    {"gen-book", cli_gen_book, false, "line n seed format state"},
    {"rotate-key", cli_rotate_key, false, "key-file db add-only reseal-only"},
    {"forget", cli_forget, false, "email quote key-file db"},
    {"purge", cli_purge, false, "older-than db"},
    {"export", cli_export, false, "email quote key-file db"},
    {"consent", cli_consent, false, "withdraw email quote key-file db"},
    {"leads", cli_leads, false, "since line format key-file db"},
};

static const struct option longopts[] = {{"plans", required_argument, NULL, 'p'},
                                         {"carrier", required_argument, NULL, 'c'},
                                         {"carriers", required_argument, NULL, 'R'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"schema", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"port", required_argument, NULL, 'P'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"web", required_argument, NULL, 'w'},
                                         {"bind", required_argument, NULL, 'b'},
                                         {"from", required_argument, NULL, 'F'},
                                         {"to", required_argument, NULL, 'T'},
                                         {"line", required_argument, NULL, 'L'},
                                         {"n", required_argument, NULL, 'N'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"out-csv", required_argument, NULL, 'O'},
                                         {"png", required_argument, NULL, 'G'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"state", required_argument, NULL, 'A'},
                                         {"acord", no_argument, NULL, 'x'},
                                         {"key-file", required_argument, NULL, 'K'},
                                         {"email", required_argument, NULL, 'E'},
                                         {"quote", required_argument, NULL, 'Q'},
                                         {"older-than", required_argument, NULL, 'D'},
                                         {"add-only", no_argument, NULL, 'a'},
                                         {"reseal-only", no_argument, NULL, 'r'},
                                         {"withdraw", no_argument, NULL, 'W'},
                                         {"since", required_argument, NULL, 'I'},
                                         {"max-connections", required_argument, NULL, 'Z'},
                                         {"max-per-ip", required_argument, NULL, 'Z'},
                                         {"idle-timeout", required_argument, NULL, 'Z'},
                                         {"request-timeout", required_argument, NULL, 'Z'},
                                         {"drain-timeout", required_argument, NULL, 'Z'},
                                         {"save-timeout", required_argument, NULL, 'Z'},
                                         {"max-body", required_argument, NULL, 'Z'},
                                         {"max-header-size", required_argument, NULL, 'Z'},
                                         {"max-headers", required_argument, NULL, 'Z'},
                                         {"max-url", required_argument, NULL, 'Z'},
                                         {"rate-limit", required_argument, NULL, 'Z'},
                                         {"rate-burst", required_argument, NULL, 'Z'},
                                         {"trust-proxy", required_argument, NULL, 'Z'},
                                         {NULL, 0, NULL, 0}};

enum { NLONGOPTS = sizeof longopts / sizeof longopts[0] - 1 };

/* Whether `option` is one of the words of c->options. */
static bool takes_option(const command *c, const char *option)
{
    size_t n = strlen(option);
    for (const char *p = c->options; (p = strstr(p, option)) != NULL; p += n)
        if ((p == c->options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* Whether c takes option longopts[li], not already given (seen); false
 * after saying why not. */
static bool option_allowed(const command *c, int li, bool *seen)
{
    const char *opt = longopts[li].name;
    if (!takes_option(c, opt)) {
        fprintf(stderr, "multiquote %s: --%s is not an option of %s (see multiquote help %s)\n",
                c->name, opt, c->name, c->name);
        return false;
    }
    if (longopts[li].has_arg && seen[li]) {
        fprintf(stderr, "multiquote %s: --%s is given more than once\n", c->name, opt);
        return false;
    }
    seen[li] = true;
    return true;
}

/* --n, --seed and --threads: whole numbers; CLI_USAGE after saying why. */
static int set_number(const char *cmd, int ch, const char *arg, cli_opts *o)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    bool ok = *arg >= '0' && *arg <= '9' && !*end && errno == 0;
    if (ch == 'S' && ok) {
        o->seed = v;
    } else if (ch == 'N') {
        o->n = ok && v >= 1 && v <= 1000000000ull ? (long)v : -1;
    } else if (ch == 't') {
        o->threads = ok && v >= 1 && v <= 256 ? (int)v : -1;
    }
    if (ok && !(ch == 'N' && o->n < 0) && !(ch == 't' && o->threads < 0))
        return CLI_OK;
    fprintf(stderr, "multiquote %s: --%s takes a whole number%s, not \"%s\"\n", cmd,
            ch == 'N'   ? "n"
            : ch == 'S' ? "seed"
                        : "threads",
            ch == 'N'   ? " from 1"
            : ch == 't' ? " from 1 to 256"
                        : "",
            arg);
    return CLI_USAGE;
}

/* Stores option `ch` (longopts[li]) with its argument; CLI_OK or CLI_USAGE. */
static int set_option(const char *cmd, int ch, int li, const char *arg, cli_opts *o)
{
    switch (ch) {
    case 'Z':
        if (o->nlimits < (int)(sizeof o->limits / sizeof o->limits[0]))
            o->limits[o->nlimits++] = (struct cli_limit_opt){longopts[li].name, arg};
        break;
    case 'K':
        o->key_file = arg;
        break;
    case 'E':
        o->email = arg;
        break;
    case 'Q':
        o->quote = arg;
        break;
    case 'D':
        o->older_than = arg;
        break;
    case 'a':
        o->add_only = true;
        break;
    case 'r':
        o->reseal_only = true;
        break;
    case 'W':
        o->withdraw = true;
        break;
    case 'I':
        o->since = arg;
        break;
    case 'p':
        o->plans = arg;
        break;
    case 'c':
        o->carrier = arg;
        break;
    case 'R':
        o->carriers_file = arg;
        break;
    case 'j':
        o->json = true;
        break;
    case 's':
        o->schema = true;
        break;
    case 'h':
        o->help = true;
        break;
    case 'd':
        o->db = arg;
        break;
    case 'w':
        o->web = arg;
        break;
    case 'b':
        o->bind = arg;
        break;
    case 'P': {
        char *end;
        long port = strtol(arg, &end, 10);
        o->port = (*end || end == arg || port < 0 || port > 65535) ? -1 : (int)port;
        break;
    }
    case 'F':
        o->from = arg;
        break;
    case 'T':
        o->to = arg;
        break;
    case 'L':
        o->line = arg;
        break;
    case 'O':
        o->out_csv = arg;
        break;
    case 'G':
        o->png = arg;
        break;
    case 'f':
        o->format = arg;
        break;
    case 'A':
        o->state = arg;
        break;
    case 'x':
        o->acord = true;
        break;
    default:
        return set_number(cmd, ch, arg, o); /* 'N', 'S', 't' */
    }
    return CLI_OK;
}

/* Reads the options of command c into *o: CLI_OK, or CLI_USAGE after
 * saying what is wrong (unknown, another command's, given twice). */
static int parse_options(const command *c, int argc, char **argv, cli_opts *o)
{
    bool seen[NLONGOPTS] = {false};
    optind = 2;
    opterr = 0;
    int ch, li = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        if (ch == '?' || ch == ':') {
            fprintf(stderr, "multiquote %s: unknown or incomplete option \"%s\"\n", c->name,
                    argv[optind - 1]);
            return CLI_USAGE;
        }
        if (ch != 'h' && !option_allowed(c, li, seen))
            return CLI_USAGE;
        if (set_option(c->name, ch, li, optarg, o) != CLI_OK)
            return CLI_USAGE;
    }
    return CLI_OK;
}

/* An explicit --key-file with MQ_KEY set: which ring was meant is not
 * known, and using MQ_KEY silently (forget finding nothing, rotate-key
 * re-sealing under another ring) is worse than asking. False after saying so. */
static bool keys_from_one_place(const char *cmd, const cli_opts *o)
{
    const char *env = getenv("MQ_KEY");
    if (!o->key_file || !env || !*env)
        return true;
    fprintf(stderr, "multiquote %s: --key-file and MQ_KEY both give a key ring; use one\n", cmd);
    return false;
}

/* A --db in libpq's keyword form ("host=db password=... dbname=quotes")
 * would otherwise be taken for a SQLite file of that name, password and
 * all: refused, without echoing it, with the URL form to use instead. */
static bool db_not_keywords(const char *cmd, const char *db)
{
    if (!db || strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
        return true;
    bool keywords = (strchr(db, '=') && strchr(db, ' ')) || strncmp(db, "host=", 5) == 0 ||
                    strncmp(db, "dbname=", 7) == 0;
    if (!keywords)
        return true;
    fprintf(stderr,
            "multiquote %s: --db looks like libpq keywords (host=... dbname=...); give a "
            "postgresql://USER@HOST:PORT/DBNAME URL instead, the password in a pgpass file "
            "(docs/deploy.md)\n",
            cmd);
    return false;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        return print_help(argc > 2 ? argv[2] : NULL);
    }
    const command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(name, commands[i].name) == 0)
            c = &commands[i];
    if (!c) {
        fprintf(stderr, "multiquote: unknown command \"%s\"\n\n%s", name, usage);
        return CLI_USAGE;
    }
    cli_opts o = {.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), .seed = 1, .port = 8080};
    if (parse_options(c, argc, argv, &o) != CLI_OK)
        return CLI_USAGE;
    if (o.help)
        return print_help(name);
    if (optind < argc)
        o.file = argv[optind++];
    const char *extra = optind < argc ? argv[optind] : o.file && !c->takes_file ? o.file : NULL;
    if (extra) {
        fprintf(stderr, "multiquote %s: unexpected argument \"%s\"\n", name, extra);
        return CLI_USAGE;
    }
    if (!keys_from_one_place(name, &o) || !db_not_keywords(name, o.db))
        return CLI_USAGE;
    if (!o.plans)
        o.plans = default_plans();
    return c->fn(&o);
}

/* Whatever a command printed must have reached stdout: a full disk or a
 * closed pipe is a failure (exit 1), checked here once for every command.
 * A command that failed has said why already. */
static int finish_output(int rc)
{
    int earlier = errno; /* a failed write's reason, when it was the last call to set errno */
    bool flushed = fflush(stdout) == 0;
    int err = flushed ? earlier : errno;
    if (flushed && !ferror(stdout)) {
        if (fclose(stdout) == 0)
            return rc;
        err = errno;
    }
    if (rc != CLI_FAIL)
        fprintf(stderr, "multiquote: writing the output: %s\n",
                err ? strerror(err) : "a write failed");
    return CLI_FAIL;
}

int main(int argc, char **argv)
{
    mq_ja_install(); /* before any JSON is made; false (no recycling) under ASan */
    return finish_output(run(argc, argv));
}
