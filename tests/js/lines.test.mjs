// lines.test.mjs -- home, renters and term life as an agent quotes them with
// the real `multiquote quote --json` command (no server: the command line is
// one of the contract's front doors), at the edges of the carriers' manuals:
//   - a wood shake roof in Texas: Lone Star's manual declines it, and the
//     shopper sees that reason with status "declined" (not an "error" about a
//     missing table row), while Keystone prices wood shake at 1.30, to the cent;
//   - term life at 17 years and 6 months: 18 at the nearest birthday, the
//     issue age of Heartland, Laurel and Meridian, who quote (to the cent);
//     the last-birthday carriers are unavailable with their reasons. One day
//     younger (17 at the nearest birthday too) the request is refused, exit
//     2, naming applicant.date_of_birth.
//
// Run: MQ_BIN=$PWD/build/multiquote node --test --test-reporter=tap tests/js/lines.test.mjs
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTemp, removeTemp, runCli } from './lib/server.mjs';

const dir = makeTemp('mq-js-lines-');
after(() => removeTemp(dir));

let n = 0;
/** Writes `request` to a file and runs `multiquote quote --json` on it. */
async function quote(request) {
  const file = path.join(dir, `request-${n++}.json`);
  writeFileSync(file, JSON.stringify(request));
  return runCli(['quote', '--json', file]);
}

const byCarrier = (out) => Object.fromEntries(JSON.parse(out.stdout).results.map((r) => [r.carrier.id, r]));

describe('home: a wood shake roof in Texas', () => {
  // tests/data/shoppers/home-tx-houston-hail.json with a wood shake roof
  const request = {
    line: 'home',
    effective_date: '2026-05-01',
    applicant: { date_of_birth: '1985-08-30', address: { state: 'TX', zip: '77096' }, paperless: true },
    dwelling: {
      year_built: 2006, construction: 'frame', roof_year: 2013, roof_type: 'wood_shake',
      protection_class: 2, replacement_cost: 310000, smoke_detectors: true, burglar_alarm: true,
    },
    claims: [{ type: 'hail', date: '2022-04-20', amount: 14800 }],
    coverages: { dwelling: 300000, liability: 300000, med_pay: 1000, deductible: 2500 },
  };

  it('Lone Star declines it with its manual reason; Keystone prices it', async () => {
    const out = await quote(request);
    assert.equal(out.code, 0, out.stderr);
    const r = byCarrier(out);
    assert.equal(r.lonestar.status, 'declined');
    assert.deepEqual(r.lonestar.reasons, ['Lone Star County Mutual does not write homes with a wood shake roof.']);
    assert.equal(r.lonestar.premium, undefined);
    // Keystone Texas: 3150 x 1.000 x 0.95 x 1.00 x 1.06 x 1.30 (wood shake) x 0.88
    // x 1.08 (hail 3-4 years) x 0.87 = 3409.644157 -> 3410; + 40 + 6 + 25 fee = 3481.00
    assert.equal(r.keystone.status, 'quoted');
    assert.equal(r.keystone.premium.total, 3481);
    assert.deepEqual(
      r.keystone.coverages.map((c) => [c.code, c.premium]),
      [['property', 3410], ['liability', 40], ['med_pay', 6]],
    );
  });
});

describe('term life: the issue age at the nearest birthday', () => {
  const life = (dateOfBirth) => ({
    line: 'term_life',
    effective_date: '2026-04-01',
    applicant: { date_of_birth: dateOfBirth, gender: 'female', address: { state: 'OH', zip: '43215' } },
    face_amount: 500000,
    term_years: 20,
    payment_mode: 'monthly',
    tobacco: false,
    build: { height_in: 66, weight_lb: 140 },
    health: { blood_pressure_treated: false, cholesterol_treated: false, diabetes: false,
      family_heart_disease_before_60: false },
  });

  it('17 years and 6 months is 18 to the nearest-birthday carriers, who quote', async () => {
    const out = await quote(life('2008-10-01'));
    assert.equal(out.code, 0, out.stderr);
    const results = JSON.parse(out.stdout).results;
    const r = byCarrier(out);
    // one monthly payment: (rate x 500 + policy fee) x modal factor, to the cent
    // Heartland: 0.159 x 0.85 = 0.13515 -> 0.14; (70 + 55) x 0.085 = 10.625 -> 10.63
    // Meridian: 0.17; (85 + 60) x 0.0875 = 12.6875 -> 12.69
    // Laurel: 500 x 0.202 x 1.00 x 0.83 = 83.83; (83.83 + 65) x 0.0865 = 12.873795 -> 12.87
    assert.deepEqual(
      results.filter((x) => x.status === 'quoted').map((x) => [x.carrier.id, x.premium.total, x.health_class]),
      [['heartland', 10.63, 'preferred_plus'], ['meridian', 12.69, 'preferred_plus'], ['laurel', 12.87, 'preferred_plus']],
    );
    for (const c of ['beacon', 'bluebonnet', 'northstar']) {
      assert.equal(r[c].status, 'unavailable', c);
      assert.match(r[c].reasons[0], /age last birthday/);
    }
  });

  it('a day younger, 17 at the nearest birthday too, is refused naming the field', async () => {
    const out = await quote(life('2008-10-02'));
    assert.equal(out.code, 2);
    assert.equal(out.stdout, '');
    assert.match(
      out.stderr,
      /applicant\.date_of_birth: the applicant is 17 on the effective date, 17 at the nearest birthday; term life is issued from age 18 at the nearest birthday/,
    );
  });
});
