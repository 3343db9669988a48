/* fuzz_answer.c -- libFuzzer target: a remote carrier's answer.
 *
 * What a carrier sends back comes from the network: it is checked against
 * the carrier protocol for the shopper's request (src/remote/answer.c). The
 * request is the two-car family shopper (parsed once); the input is the
 * answer's body. An accepted answer is also written out as the API would.
 */
#include "model.h"
#include "remote.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mq_arena request_arena;
static mq_input request;
static bool have_request;

static void load_request(void)
{
    static const char text[] =
        "{\"line\":\"auto\",\"effective_date\":\"2026-03-01\","
        "\"applicant\":{\"first_name\":\"A\",\"last_name\":\"B\",\"date_of_birth\":\"1980-01-01\","
        "\"address\":{\"street\":\"1 Main "
        "St\",\"city\":\"Columbus\",\"state\":\"OH\",\"zip\":\"43215\"},"
        "\"homeowner\":true,\"paperless\":false,\"consent\":{\"contact\":false}},"
        "\"drivers\":[{\"id\":\"d1\",\"first_name\":\"A\",\"last_name\":\"B\",\"date_of_birth\":"
        "\"1980-01-01\",\"gender\":\"female\",\"marital_status\":\"married\",\"license\":{"
        "\"state\":"
        "\"OH\",\"number\":\"X1\",\"first_licensed\":\"1998-01-01\"},\"incidents\":[]}],"
        "\"vehicles\":[{\"id\":\"v1\",\"year\":2020,\"make\":\"Honda\",\"model\":\"Civic\","
        "\"symbol\":5,"
        "\"principal_driver\":\"d1\",\"anti_theft\":false,\"coverages\":{\"comp\":{\"deductible\":"
        "500},"
        "\"coll\":{\"deductible\":500}}},{\"id\":\"v2\",\"year\":2012,\"make\":\"Ford\",\"model\":"
        "\"Focus\",\"symbol\":4,\"principal_driver\":\"d1\",\"anti_theft\":false,\"coverages\":{}}]"
        ","
        "\"coverages\":{\"bi\":{\"per_person\":100000,\"per_accident\":300000},\"pd\":{\"limit\":"
        "100000},"
        "\"med\":{\"limit\":5000},\"um\":{\"per_person\":100000,\"per_accident\":300000}}}";
    mq_arena_init(&request_arena, 0);
    mq_req_errors errs = {0};
    if (!mq_req_parse(text, sizeof text - 1, &request_arena, &request, &errs)) {
        fprintf(stderr, "fuzz_answer: the built-in request does not parse: %s: %s\n",
                errs.count ? errs.items[0].path : "", errs.count ? errs.items[0].message : "");
        abort();
    }
    have_request = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!have_request)
        load_request();
    mq_remote_carrier c = {.id = "acme", .name = "Acme", .rating = "A", .remote = true};
    mq_arena a;
    mq_arena_init(&a, 1 << 20);
    mq_result r;
    char why[300];
    if (mq_remote_result_parse((const char *)data, size, &request, &c, &a, &r, why, sizeof why)) {
        char *text = mq_resp_result_text(&request, &r);
        free(text);
    }
    mq_arena_free(&a);
    return 0;
}
