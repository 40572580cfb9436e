import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { request, toApiError, type ApiError } from '../api';
import { parseMetrics, total, type Sample } from '../metrics';
import { ErrorBox, Section } from '../widgets';

const EVERY_MS = 2000;
const KEEP = 150; // five minutes of points

interface Point {
  t: number;
  jobsPerS: number;
  callsPerS: number;
  live: number;
  errorsPerS: number;
}

interface Totals {
  t: number;
  jobs: number;
  calls: number;
  errors: number;
  live: number;
}

function totalsOf(samples: Sample[], t: number): Totals {
  return {
    t,
    jobs: total(samples, 'warren_jobs_total'),
    calls: total(samples, 'warren_worker_invocations_total'),
    errors: total(samples, 'warren_job_failures_total') + total(samples, 'warren_worker_invocations_total', { outcome: 'error' }),
    live: total(samples, 'warren_live_workers'),
  };
}

/** Charts of this node's /metrics, read every 2 s with the session (rates from counter deltas). */
export function ChartsPage() {
  const [points, setPoints] = useState<Point[]>([]);
  const [error, setError] = useState<ApiError>();
  const [last, setLast] = useState<Totals>();

  useEffect(() => {
    let prev: Totals | undefined;
    let live = true;
    const tick = async () => {
      try {
        const text = await (await request('GET', '/metrics')).text();
        const now = totalsOf(parseMetrics(text), Date.now() / 1000);
        if (!live) return;
        setError(undefined);
        setLast(now);
        if (prev) {
          const dt = Math.max(now.t - prev.t, 0.001);
          const rate = (a: number, b: number) => Math.max(0, (a - b) / dt);
          const p: Point = { t: now.t, jobsPerS: rate(now.jobs, prev.jobs), callsPerS: rate(now.calls, prev.calls), live: now.live, errorsPerS: rate(now.errors, prev.errors) };
          setPoints((ps) => [...ps.slice(-(KEEP - 1)), p]);
        }
        prev = now;
      } catch (err) {
        if (live) setError(toApiError(err));
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <>
      <h1>Metrics</h1>
      <ErrorBox error={error} />
      <Section title="Totals on this node">
        <dl class="facts" data-testid="metric-totals">
          <dt>Jobs run</dt>
          <dd>{last?.jobs ?? '…'}</dd>
          <dt>Worker calls</dt>
          <dd data-testid="metric-calls">{last?.calls ?? '…'}</dd>
          <dt>Errors</dt>
          <dd>{last?.errors ?? '…'}</dd>
          <dt>Live workers</dt>
          <dd>{last?.live ?? '…'}</dd>
        </dl>
      </Section>
      <div class="charts">
        <Chart title="Jobs per second" points={points} pick={(p) => p.jobsPerS} />
        <Chart title="Calls per second" points={points} pick={(p) => p.callsPerS} />
        <Chart title="Live workers" points={points} pick={(p) => p.live} />
        <Chart title="Errors per second" points={points} pick={(p) => p.errorsPerS} />
      </div>
    </>
  );
}

function Chart({ title, points, pick }: { title: string; points: Point[]; pick: (p: Point) => number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height: 180,
        legend: { show: false },
        series: [{}, { label: title, stroke: '#1f5fbf', width: 2, fill: 'rgba(31,95,191,0.08)' }],
        axes: [{}, { size: 50 }],
        // The last five minutes, whatever the number of points so far.
        scales: { x: { time: true, range: (_u, _min, max) => [max - (KEEP * EVERY_MS) / 1000, max] }, y: { range: (_u, min, max) => [0, Math.max(max, min + 1)] } },
      },
      [[], []],
      el,
    );
    plot.current = u;
    const resized = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height: 180 }));
    resized.observe(el);
    return () => {
      resized.disconnect();
      u.destroy();
    };
  }, [title]);
  useEffect(() => {
    plot.current?.setData([points.map((p) => p.t), points.map(pick)]);
  }, [points]);
  const latest = points.length ? pick(points[points.length - 1]!) : undefined;
  return (
    <Section title={title}>
      <div ref={box} role="img" aria-label={`${title}: ${latest === undefined ? 'waiting for data' : `now ${latest.toFixed(2)}`}`} />
    </Section>
  );
}
