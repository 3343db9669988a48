// chart.js -- a horizontal bar chart of the quoted totals, in inline SVG.
//
// Drawn to the width of its container (and drawn again when that changes),
// so text keeps its size on a phone. Each row is the carrier's name on one
// line and its bar below, with the amount just after the bar.

import { s, uid, money } from './dom.js';

const ROW = 48;
const PAD = 8;
const AMOUNT_ROOM = 120; // "1866.00 · 12 mo" after the longest bar

/**
 * An <svg> for items [{id, name, total, term, suffix}] at `width` CSS pixels;
 * `suffix` (e.g. "per month") replaces the term after the amount.
 * `title` and `desc` name the chart for assistive technology.
 */
export function barChart(items, width, title) {
  const w = Math.max(240, Math.round(width));
  const height = PAD * 2 + ROW * items.length;
  const max = Math.max(...items.map((i) => Number(i.total) || 0), 1);
  const barMax = w - PAD * 2 - AMOUNT_ROOM;
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const desc = items
    .map((i) => `${i.name}: ${money(i.total)}${i.suffix ? ` ${i.suffix}` : i.term ? ` for ${i.term} months` : ''}`)
    .join('; ');

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
    const top = PAD + i * ROW;
    const total = Number(item.total) || 0;
    const len = Math.max(2, (total / max) * barMax);
    const amount = `${money(total)}${item.suffix ? ` · ${item.suffix}` : item.term ? ` · ${item.term} mo` : ''}`;
    svg.append(s('g', { class: 'bar', 'data-testid': `bar-${item.id}` },
      s('title', null, `${item.name}: ${amount}`),
      s('text', { x: PAD, y: top + 14, class: 'bar-name' }, item.name),
      s('rect', { x: PAD, y: top + 20, width: len.toFixed(1), height: 18, rx: 3, class: i === 0 ? 'bar-rect first' : 'bar-rect' }),
      s('text', { x: (PAD + len + 6).toFixed(1), y: top + 34, class: 'bar-amount' }, amount)));
  });
  return svg;
}
