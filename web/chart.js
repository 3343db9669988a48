// chart.js -- a horizontal bar chart of the quoted prices, in inline SVG.
//
// Drawn to the width of its container (and drawn again when that changes),
// so text keeps its size on a phone. Each row is the carrier's name on one
// line, its bar below with the amount charted just after it, and a note (such
// as the policy's total and term) under the bar. The lowest amount's bar is
// highlighted, whatever the order of the rows, and not by its colour alone:
// the word "Lowest" follows its name, and its words (the bar's title, the
// chart's description) say it is the lowest. A name too long for the width
// is shortened with an ellipsis once the chart is in the page (fitNames),
// which also puts the word just after the name.

import { s, uid, money } from './dom.js';

const ROW = 48;
const NOTE_ROW = 16; // a row with a note is this much taller
const PAD = 8;
const AMOUNT_ROOM = 128; // "$1866.00 a month" after the longest bar
const MARK_GAP = 8; // between a name and the "Lowest" after it

/** "$119.00 a month": the amount charted, in dollars as everywhere on the page, and its suffix. */
const amountOf = (i) => `$${money(i.total)}${i.suffix ? ` ${i.suffix}` : ''}`;

/**
 * An <svg> for items [{id, name, total, suffix, note}] at `width` CSS pixels:
 * `total` is the amount charted, `suffix` (e.g. "a month") follows it, and
 * `note` (e.g. "$714.00 for 6 months") goes under the bar.
 * `title` and `desc` name the chart for assistive technology.
 */
export function barChart(items, width, title) {
  const w = Math.max(240, Math.round(width));
  const row = ROW + (items.some((i) => i.note) ? NOTE_ROW : 0);
  const height = PAD * 2 + row * items.length;
  const max = Math.max(...items.map((i) => Number(i.total) || 0), 1);
  const lowest = Math.min(...items.map((i) => Number(i.total) || 0));
  const barMax = w - PAD * 2 - AMOUNT_ROOM;
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  // The highlight, in words: "the lowest" (unless every amount is the same).
  const isLowest = (i) => (Number(i.total) || 0) === lowest && lowest < max;
  const words = (i) => `${i.name}: ${amountOf(i)}${i.note ? ` (${i.note})` : ''}${isLowest(i) ? ', the lowest' : ''}`;
  const desc = items.map(words).join('; ');

  const svg = s('svg', {
    'data-testid': 'chart',
    class: 'chart',
    role: 'img',
    'aria-labelledby': titleId,
    'aria-describedby': descId,
    width: w,
    height,
    viewBox: `0 0 ${w} ${height}`,
    preserveAspectRatio: 'xMinYMin meet',
  },
  s('title', { id: titleId }, title),
  s('desc', { id: descId }, desc || 'No quotes.'));

  items.forEach((item, i) => {
    const top = PAD + i * row;
    const total = Number(item.total) || 0;
    const len = Math.max(2, (total / max) * barMax);
    const amount = amountOf(item);
    svg.append(s('g', { class: 'bar', 'data-testid': `bar-${item.id}` },
      s('title', null, words(item)),
      s('text', { x: PAD, y: top + 14, class: 'bar-name' }, item.name),
      isLowest(item) ? s('text', { x: PAD, y: top + 14, class: 'bar-lowest' }, 'Lowest') : null,
      s('rect', { x: PAD, y: top + 20, width: len.toFixed(1), height: 18, rx: 3, class: total === lowest ? 'bar-rect lowest' : 'bar-rect' }),
      s('text', { x: (PAD + len + 6).toFixed(1), y: top + 34, class: 'bar-amount' }, amount),
      item.note ? s('text', { x: PAD, y: top + 52, class: 'bar-note' }, item.note) : null));
  });
  return svg;
}

/**
 * Shortens with an ellipsis each carrier name of chart `svg` wider than the
 * chart (on a phone, "Hearthstone Mutual Fire Insurance Company" would be cut
 * off mid-word), leaving room for the "Lowest" after the lowest bar's name,
 * which is then put just after it. Text is measured, so `svg` must be in the
 * page and shown. The full name stays in the bar's <title> and the chart's
 * <desc>.
 */
export function fitNames(svg) {
  const width = Number(svg.getAttribute('width')) - PAD * 2;
  for (const g of svg.querySelectorAll('g.bar')) {
    const t = g.querySelector('text.bar-name');
    const mark = g.querySelector('text.bar-lowest');
    const room = width - (mark ? mark.getComputedTextLength() + MARK_GAP : 0);
    const full = t.textContent;
    if (t.getComputedTextLength() > room) {
      let n = full.length - 1;
      t.textContent = `${full.slice(0, n).trimEnd()}…`;
      while (n > 1 && t.getComputedTextLength() > room) {
        n -= 1;
        t.textContent = `${full.slice(0, n).trimEnd()}…`;
      }
    }
    if (mark) mark.setAttribute('x', (PAD + t.getComputedTextLength() + MARK_GAP).toFixed(1));
  }
}
