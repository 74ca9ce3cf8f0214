// The state diagram of a state field, drawn from its definition: the states
// in their declared order, each transition an arc (forward above, backward
// below), the current state filled. A list of the transitions follows for
// screen readers and for reading the guards and roles.
import { fromList, type StateField } from './workflow';

const W = 104;
const H = 30;
const GAP = 30;

export function StateDiagram({ field, current }: { field: StateField; current?: string }) {
  const x = (s: string) => field.states.indexOf(s) * (W + GAP) + W / 2;
  const width = field.states.length * (W + GAP) - GAP + 20;
  const edges = (field.transitions ?? []).flatMap((t) => fromList(t).map((from) => ({ t, from })));
  const bendOf = (x1: number, x2: number, i: number) => 18 + Math.abs(x2 - x1) / 8 + (i % 3) * 6;
  // A cubic arc peaks at 3/4 of its control points' offset; room for it and its label.
  const room = Math.max(30, ...edges.map(({ t, from }, i) => bendOf(x(from), x(t.to), i) * 0.75 + 16));
  const mid = room + H / 2;
  return (
    <figure className="state-diagram">
      <svg
        width="100%"
        style={{ maxWidth: width }}
        viewBox={`-10 0 ${width} ${mid * 2}`}
        role="img"
        aria-label={`States of ${field.name}: ${field.states.join(', ')}`}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#4d5566" />
          </marker>
        </defs>
        {edges.map(({ t, from }, i) => {
          const x1 = x(from);
          const x2 = x(t.to);
          const forward = x2 > x1;
          const y = forward ? mid - H / 2 : mid + H / 2;
          const bend = (forward ? -1 : 1) * bendOf(x1, x2, i);
          const path = `M ${x1} ${y} C ${x1} ${y + bend}, ${x2} ${y + bend}, ${x2} ${y}`;
          return (
            <g key={`${t.name}-${from}`}>
              <path d={path} fill="none" stroke="#4d5566" strokeWidth="1.5" markerEnd="url(#arrow)" />
              <text x={(x1 + x2) / 2} y={y + bend * 0.75 + (forward ? -3 : 11)} textAnchor="middle" fontSize="11" fill="#1d2330">
                {t.name}
              </text>
            </g>
          );
        })}
        {field.states.map((s) => (
          <g key={s}>
            <rect
              x={x(s) - W / 2}
              y={mid - H / 2}
              width={W}
              height={H}
              rx={H / 2}
              fill={s === current ? '#1f5fbf' : '#fff'}
              stroke={s === field.initial ? '#1d2330' : '#6b7587'}
              strokeWidth={s === field.initial ? 2.5 : 1.2}
            />
            <text x={x(s)} y={mid + 4} textAnchor="middle" fontSize="12" fill={s === current ? '#fff' : '#1d2330'}>
              {s}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="transition-list">
          {(field.transitions ?? []).map((t) => (
            <li key={t.name}>
              <code>{t.name}</code>: {fromList(t).join(' or ')} → {t.to}
              {t.who ? `, by ${[t.who].flat().join(' or ')}` : ''}
              {t.guard ? `, when ${JSON.stringify(t.guard)}` : ''}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
