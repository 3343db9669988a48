// api.js -- the multiquote HTTP API, same origin.
//
// Each call resolves to {ok, status, data}; data is the parsed JSON body (or
// null). A network failure resolves to status 0 with an error object shaped
// like the server's, so callers have one path for every failure.
// createQuote reads the answer as Server-Sent Events, so results show as
// each carrier answers; the page may abort it (the shopper went back to the
// form), and it then resolves with `aborted: true`.

const networkFailure = () => ({
  ok: false,
  status: 0,
  data: { error: { code: 'network', message: 'The quote service could not be reached. Check your connection and try again.' } },
});

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
    return networkFailure();
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  return { ok: res.ok, status: res.status, data };
}

/** The events of a Server-Sent Events text so far: [{name, data}] and the rest. */
function splitEvents(buf) {
  const events = [];
  let end;
  while ((end = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, end);
    buf = buf.slice(end + 2);
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    try {
      events.push({ name, data: JSON.parse(data.join('\n')) });
    } catch (e) {
      /* not JSON: not ours */
    }
  }
  return { events, rest: buf };
}

const aborted = () => ({ ok: false, status: 0, aborted: true, data: null });

/** Seconds from a Retry-After header (a number of seconds), or null. */
function retryAfterOf(res) {
  const n = Number(res.headers.get('Retry-After'));
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * POST /v1/quotes as an event stream: onResult(result) runs for each
 * carrier's result the moment the server has it; resolves like call() with
 * the saved quote (201) or the error. A server answering plain JSON (a 4xx
 * for a bad request) is read as such, with its Retry-After (a 429) as
 * `retryAfter`. `signal` (an AbortSignal) stops it: no more onResult, and
 * the answer is {aborted: true}.
 */
export async function createQuote(request, onResult = () => {}, signal = undefined) {
  let res;
  try {
    res = await fetch('/v1/quotes', {
      method: 'POST',
      headers: { Accept: 'text/event-stream, application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
      signal,
    });
  } catch (e) {
    return signal && signal.aborted ? aborted() : networkFailure();
  }
  if (!(res.headers.get('Content-Type') || '').startsWith('text/event-stream') || !res.body) {
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (signal && signal.aborted) return aborted();
    return { ok: res.ok, status: res.status, data, retryAfter: retryAfterOf(res) };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (signal && signal.aborted) return aborted();
      if (done) break;
      const { events, rest } = splitEvents(buf + decoder.decode(value, { stream: true }));
      buf = rest;
      for (const ev of events) {
        if (ev.name === 'result') onResult(ev.data);
        else if (ev.name === 'quote') return { ok: true, status: 201, data: ev.data };
        else if (ev.name === 'error') return { ok: false, status: 500, data: ev.data };
      }
    }
  } catch (e) {
    return signal && signal.aborted ? aborted() : networkFailure();
  }
  return { ok: false, status: 0, data: { error: { code: 'network', message: 'The quote stream ended before the quote was saved. Try again.' } } };
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
