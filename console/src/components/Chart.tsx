/**
 * Hand-made SVG charts. Each svg has role="img" and an aria-label saying what it shows, and a
 * <table> with the same numbers (in a <details>, closed by default) as its text alternative.
 * Colours are CSS classes (the CSP forbids style attributes); geometry is attributes.
 */
import type { ComponentChildren } from 'preact';
import { useI18n } from '../i18n';

export interface Series {
  key: string;
  label: string;
  /** A CSS class giving the fill/stroke colour. */
  cls: string;
}

export interface Slot {
  start: string;
  values: Record<string, number | null>;
}

const W = 800;
const H = 220;
const M = { top: 10, right: 12, bottom: 28, left: 52 };
const IW = W - M.left - M.right;
const IH = H - M.top - M.bottom;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function Legend(props: { series: Series[] }) {
  return (
    <ul class="legend" aria-hidden="true">
      {props.series.map((s) => (
        <li key={s.key}>
          <svg width="12" height="12" class="swatch" focusable="false">
            <rect width="12" height="12" class={s.cls} />
          </svg>
          {s.label}
        </li>
      ))}
    </ul>
  );
}

function XLabels(props: { slots: Slot[]; interval: string; step: number }) {
  const i18n = useI18n();
  const n = props.slots.length;
  const every = Math.max(1, Math.ceil(n / 6));
  return (
    <g class="axis">
      {props.slots.map((s, i) =>
        i % every === 0 ? (
          <text key={s.start} x={M.left + i * props.step + props.step / 2} y={H - 8} text-anchor="middle">
            {i18n.shortTime(s.start, props.interval)}
          </text>
        ) : null,
      )}
    </g>
  );
}

function YAxis(props: { max: number; fmt: (v: number) => string }) {
  const ticks = [0, 0.5, 1];
  return (
    <g class="axis">
      {ticks.map((f) => {
        const y = M.top + IH - f * IH;
        return (
          <g key={f}>
            <line x1={M.left} x2={W - M.right} y1={y} y2={y} class="grid" />
            <text x={M.left - 6} y={y + 4} text-anchor="end">
              {props.fmt(props.max * f)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

/** The same numbers as a table: one row per time slot that has any, one column per series. */
function DataTable(props: { caption: string; series: Series[]; slots: Slot[]; interval: string; fmt: (v: number | null) => string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const rows = props.slots.filter((s) => props.series.some((x) => (s.values[x.key] ?? 0) !== 0));
  return (
    <details class="chart-data">
      <summary>{t('chart.showData')}</summary>
      {rows.length === 0 ? (
        <p class="muted">{t('chart.empty')}</p>
      ) : (
        <div class="scroll">
          <table>
            <caption>{props.caption}</caption>
            <thead>
              <tr>
                <th scope="col">{t('chart.time')}</th>
                {props.series.map((s) => (
                  <th scope="col" key={s.key}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.start}>
                  <th scope="row">
                    <time dateTime={s.start} title={s.start}>
                      {i18n.time(s.start)}
                    </time>
                  </th>
                  {props.series.map((x) => (
                    <td key={x.key}>{props.fmt(s.values[x.key] ?? null)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}

function Figure(props: { title: string; id: string; children: ComponentChildren }) {
  return (
    <figure class="chart" aria-labelledby={`${props.id}-t`}>
      <figcaption id={`${props.id}-t`}>{props.title}</figcaption>
      {props.children}
    </figure>
  );
}

/** Stacked bars, one per time slot. */
export function StackedBars(props: { id: string; title: string; summary: string; series: Series[]; slots: Slot[]; interval: string }) {
  const i18n = useI18n();
  const { slots, series } = props;
  const totals = slots.map((s) => series.reduce((a, x) => a + (s.values[x.key] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const step = slots.length ? IW / slots.length : IW;
  const bw = Math.max(1, step * 0.8);
  return (
    <Figure title={props.title} id={props.id}>
      <Legend series={series} />
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title}. ${props.summary}`} class="chart-svg" focusable="false">
        <YAxis max={max} fmt={(v) => i18n.num(Math.round(v))} />
        {slots.map((s, i) => {
          let y = M.top + IH;
          const x = M.left + i * step + (step - bw) / 2;
          return (
            <g key={s.start}>
              {series.map((x2) => {
                const v = s.values[x2.key] ?? 0;
                if (!v) return null;
                const h = (v / max) * IH;
                y -= h;
                return (
                  <rect key={x2.key} x={x} y={y} width={bw} height={Math.max(h, 0.5)} class={x2.cls}>
                    <title>{`${i18n.time(s.start)} · ${x2.label}: ${i18n.num(v)}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
        <XLabels slots={slots} interval={props.interval} step={step} />
      </svg>
      <DataTable caption={props.title} series={series} slots={slots} interval={props.interval} fmt={(v) => (v === null ? '0' : i18n.num(v))} />
    </Figure>
  );
}

/** Lines (one per series) of a rate between 0 and 1; a slot without a value breaks the line. */
export function RateLines(props: { id: string; title: string; summary: string; series: Series[]; slots: Slot[]; interval: string }) {
  const i18n = useI18n();
  const { slots, series } = props;
  const step = slots.length ? IW / slots.length : IW;
  const pointsOf = (key: string) => {
    const segs: string[][] = [];
    let cur: string[] = [];
    slots.forEach((s, i) => {
      const v = s.values[key];
      if (v === null || v === undefined) {
        if (cur.length) segs.push(cur);
        cur = [];
        return;
      }
      cur.push(`${(M.left + i * step + step / 2).toFixed(1)},${(M.top + IH - v * IH).toFixed(1)}`);
    });
    if (cur.length) segs.push(cur);
    return segs;
  };
  return (
    <Figure title={props.title} id={props.id}>
      <Legend series={series} />
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.title}. ${props.summary}`} class="chart-svg" focusable="false">
        <YAxis max={1} fmt={(v) => i18n.percent(v)} />
        {series.map((x) => (
          <g key={x.key} class={x.cls}>
            {pointsOf(x.key).map((seg, j) =>
              seg.length === 1 ? (
                <circle key={j} cx={seg[0]!.split(',')[0]} cy={seg[0]!.split(',')[1]} r="3" class="dot" />
              ) : (
                <polyline key={j} points={seg.join(' ')} class="line" />
              ),
            )}
          </g>
        ))}
        <XLabels slots={slots} interval={props.interval} step={step} />
      </svg>
      <DataTable caption={props.title} series={series} slots={slots} interval={props.interval} fmt={(v) => i18n.percent(v)} />
    </Figure>
  );
}

/** Horizontal bars: label → count. */
export function HBars(props: { id: string; title: string; rows: { label: string; value: number }[]; labelHeader: string; valueHeader: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const max = Math.max(1, ...props.rows.map((r) => r.value));
  const rowH = 22;
  const h = Math.max(rowH, props.rows.length * rowH) + 4;
  const labelW = 240;
  const summary = props.rows.map((r) => `${r.label}: ${i18n.num(r.value)}`).join(', ') || t('chart.empty');
  return (
    <Figure title={props.title} id={props.id}>
      {props.rows.length === 0 ? (
        <p class="muted">{t('chart.empty')}</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${h}`} role="img" aria-label={`${props.title}. ${summary}`} class="chart-svg" focusable="false">
          {props.rows.map((r, i) => {
            const w = ((W - labelW - 60) * r.value) / max;
            return (
              <g key={i}>
                <text x={labelW - 8} y={i * rowH + 15} text-anchor="end" class="axis-label">
                  {r.label.length > 36 ? `${r.label.slice(0, 35)}…` : r.label}
                </text>
                <rect x={labelW} y={i * rowH + 3} width={Math.max(w, 1)} height={rowH - 6} class="c-err" />
                <text x={labelW + w + 6} y={i * rowH + 15} class="axis-label">
                  {i18n.num(r.value)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <details class="chart-data">
        <summary>{t('chart.showData')}</summary>
        <table>
          <caption>{props.title}</caption>
          <thead>
            <tr>
              <th scope="col">{props.labelHeader}</th>
              <th scope="col">{props.valueHeader}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r, i) => (
              <tr key={i}>
                <td class="wrap">{r.label}</td>
                <td>{i18n.num(r.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </Figure>
  );
}
