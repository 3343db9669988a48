// lines.js -- the lines of insurance the page offers.
//
// Adding a line is adding one module (e.g. line-home.js) and pointing its
// entry here at it with `load`. A line module's default export is:
//
//   {
//     id: 'auto', title: 'Auto',
//     coverageNames: {bi: 'Bodily injury liability', ...},  // for the results
//     coverageOrder: ['bi', 'pd', ...],                      // row order in the comparison
//     unitWord: 'Vehicle',                                   // what coverages[].vehicle (or .member) names
//     example: {...},                                        // a full contract request ("Fill example")
//     exampleText: 'Dana Reyes, Columbus OH, ...',           // said when the example is filled in
//     applicant: {dob: 'required', gender: 'required', ...}, // optional: which applicant fields the
//                                                            // line asks (common.js, APPLICANT_DEFAULTS)
//     unitLabels(request) -> {v1: '2022 Honda Civic'},       // optional, labels result rows
//     results: {...},                                        // optional: how results show (results.js, VIEW)
//     render(root, response, ctx) -> {focusTitle()},         // optional: shows the answer itself
//                                                            // instead of results.js (a bundle)
//     planLines: ['auto', 'home'],                           // optional: the lines whose carriers the
//                                                            // carrier list offers (default [id])
//     mount(container, common) -> {
//       build(),        // the line's own fields of the request (drivers, vehicles, coverages...)
//       fill(request),  // sets the form from a request
//       reset(),        // back to the defaults
//       applicant(),    // optional: the applicant fields asked now, over the module's `applicant`
//     }
//   }
//
// `common` is the envelope part of the form from common.js (effective date,
// applicant, carriers): {state(), onStateChange(fn)}. Every control carries
// the JSON path it fills in data-path, so the server's field errors land next
// to it (errors.js). Each line's form is mounted once, the first time it is
// picked, and kept (out of the page) while another line is shown, so
// switching back keeps the answers.

export const LINES = [
  { id: 'auto', title: 'Auto', hint: 'Cars, trucks and SUVs', load: () => import('./line-auto.js') },
  { id: 'home', title: 'Home', hint: 'Homeowners (HO-3)', load: () => import('./line-home.js') },
  { id: 'renters', title: 'Renters', hint: 'Renters (HO-4)', load: () => import('./line-renters.js') },
  { id: 'term_life', title: 'Term life', hint: '10 to 30 year terms', load: () => import('./line-term_life.js') },
  { id: 'health', title: 'Health', hint: 'ACA individual market', load: () => import('./line-health.js') },
  { id: 'bundle', title: 'Auto + home', hint: 'Car with home or renters: the multi-line discount', load: () => import('./line-bundle.js') },
];

const loaded = new Map();

/**
 * The line module for `id`, or null when the page has no form for it yet.
 * Rejects when the module cannot be fetched (the server unreachable); that
 * failure is not remembered, so the next call tries again.
 */
export async function loadLine(id) {
  const entry = LINES.find((l) => l.id === id);
  if (!entry || !entry.load) return null;
  if (!loaded.has(id)) {
    const p = entry.load().then((m) => m.default);
    loaded.set(id, p);
    p.catch(() => {
      if (loaded.get(id) === p) loaded.delete(id);
    });
  }
  return loaded.get(id);
}

export function lineTitle(id) {
  const entry = LINES.find((l) => l.id === id);
  return entry ? entry.title : String(id || '');
}
