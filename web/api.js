// api.js -- the multiquote HTTP API, same origin.
//
// Each call resolves to {ok, status, data}; data is the parsed JSON body (or
// null). A network failure resolves to status 0 with an error object shaped
// like the server's, so callers have one path for every failure.

async function call(method, url, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    return {
      ok: false,
      status: 0,
      data: { error: { code: 'network', message: 'The quote service could not be reached. Check your connection and try again.' } },
    };
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  return { ok: res.ok, status: res.status, data };
}

export function createQuote(request) {
  return call('POST', '/v1/quotes', request);
}

export function getQuote(id) {
  return call('GET', `/v1/quotes/${encodeURIComponent(id)}`);
}

export function getWorksheet(id, carrier) {
  return call('GET', `/v1/quotes/${encodeURIComponent(id)}/worksheet/${encodeURIComponent(carrier)}`);
}

export function getCarriers() {
  return call('GET', '/v1/carriers');
}

/** A human sentence for a failed call. */
export function failureText(res, what) {
  const err = res.data && res.data.error;
  if (err && err.message) return String(err.message);
  if (res.status === 0) return 'The quote service could not be reached.';
  return `${what} failed (HTTP ${res.status}).`;
}
