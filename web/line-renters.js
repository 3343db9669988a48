// line-renters.js -- the renters (HO-4) form: the unit, prior claims and the
// coverages. Builds the "renters" part of the contract request (unit,
// claims, coverages).
//
// A renter insures belongings, not the building: there is no dwelling and no
// coverage A or B. Personal property (C) is required; loss of use (D) left
// empty defaults to 20% of C on the server. The unit's protective devices are
// sent only when present (the parser reads absent as none).

import { h, field, input, select, chooseOption, putText, putNumber, numText, usd } from './dom.js';
import {
  CONSTRUCTION, CONSTRUCTION_HINT, PROTECTION_CLASSES, PROTECTION_HINT, PROPERTY_COVERAGE_ORDER,
  amountInput, devices, claimsSection, policySelects, setAmountSelect,
} from './property.js';

const coverageNames = {
  property: 'Personal property and loss of use',
  liability: 'Personal liability',
  med_pay: 'Medical payments to others',
};

const example = {
  line: 'renters',
  effective_date: '2026-05-01',
  applicant: {
    first_name: 'Jordan',
    last_name: 'Patel',
    address: { street: '250 E Town St', city: 'Columbus', state: 'OH', zip: '43215' },
    paperless: true,
  },
  unit: { construction: 'masonry', protection_class: 3, floor: 3 },
  coverages: { personal_property: 30000, liability: 100000, med_pay: 1000, deductible: 500 },
};

function mount(container) {
  const u = {
    construction: select('unit-construction', 'unit.construction', CONSTRUCTION, ''),
    protection: select('unit-pc', 'unit.protection_class', PROTECTION_CLASSES, ''),
    floor: input('unit-floor', 'unit.floor', { type: 'number', min: '1', max: '200', step: '1', inputmode: 'numeric' }),
  };
  const dev = devices('unit');
  const unitBox = h('fieldset', { class: 'section', 'data-path': 'unit' });
  unitBox.append(h('legend', null, 'Your rented home'),
    h('div', { class: 'grid' },
      field('Building construction', u.construction, { required: true, hint: CONSTRUCTION_HINT }),
      field('Protection class', u.protection, { required: true, hint: PROTECTION_HINT }),
      field('Floor', u.floor, { hint: 'Optional, the floor your unit is on (1 = ground floor)' })),
    dev.el);

  const claims = claimsSection('any home you rented or owned');

  const cov = {
    personal: amountInput('cov-pp', 'coverages.personal_property'),
    lossOfUse: amountInput('cov-lou', 'coverages.loss_of_use'),
    ...policySelects('renters'),
  };
  const louWrap = field('Loss of use (D, USD)', cov.lossOfUse, { hint: 'Optional; default 20% of personal property' });
  const louHint = louWrap.querySelector('.hint');
  const updateHint = () => {
    const c = Number(cov.personal.value);
    const known = cov.personal.value.trim() !== '' && Number.isFinite(c) && c > 0;
    louHint.textContent = `Living elsewhere after a covered loss. Optional; default 20% of personal property${known ? ` (${usd(Math.floor((c * 20 + 50) / 100))})` : ''}.`;
  };
  cov.personal.addEventListener('input', updateHint);
  const covBox = h('fieldset', { class: 'section', 'data-path': 'coverages' });
  covBox.append(h('legend', null, 'Coverages'),
    h('div', { class: 'grid' },
      field('Personal property (C, USD)', cov.personal, { required: true, hint: 'What replacing your belongings would cost' }),
      louWrap,
      field('Personal liability (E)', cov.liability, { required: true }),
      field('Medical payments to others (F)', cov.medPay),
      field('Deductible (all perils)', cov.deductible, { required: true })));

  container.replaceChildren(unitBox, claims.el, covBox);

  const ctl = {
    build() {
      const unit = {};
      putText(unit, 'construction', u.construction);
      putNumber(unit, 'protection_class', u.protection);
      putNumber(unit, 'floor', u.floor);
      dev.build(unit, true);
      const out = { unit };
      const list = claims.build();
      if (list.length) out.claims = list;
      const c = {};
      putNumber(c, 'personal_property', cov.personal);
      putNumber(c, 'loss_of_use', cov.lossOfUse);
      putNumber(c, 'liability', cov.liability);
      putNumber(c, 'med_pay', cov.medPay);
      putNumber(c, 'deductible', cov.deductible);
      out.coverages = c;
      return out;
    },

    fill(req) {
      const unit = req.unit || {};
      chooseOption(u.construction, unit.construction || '');
      chooseOption(u.protection, numText(unit.protection_class));
      u.floor.value = numText(unit.floor);
      dev.fill(unit);
      claims.fill(req.claims);
      const c = req.coverages || {};
      cov.personal.value = numText(c.personal_property);
      cov.lossOfUse.value = numText(c.loss_of_use);
      setAmountSelect(cov.liability, c.liability === undefined ? 100000 : c.liability);
      setAmountSelect(cov.medPay, c.med_pay);
      setAmountSelect(cov.deductible, c.deductible === undefined ? 500 : c.deductible);
      updateHint();
    },

    reset() {
      ctl.fill({ coverages: { med_pay: 1000 } });
    },
  };
  ctl.reset();
  return ctl;
}

export default {
  id: 'renters',
  title: 'Renters',
  coverageNames,
  coverageOrder: PROPERTY_COVERAGE_ORDER,
  unitWord: 'Unit',
  example,
  exampleText: 'a third-floor masonry apartment in Columbus OH 43215, $30,000 of belongings.',
  applicant: { homeowner: false, paperless: true },
  mount,
};
