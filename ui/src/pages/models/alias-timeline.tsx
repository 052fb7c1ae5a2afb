/**
 * The alias history as a timeline: one lane per alias, a segment for each
 * version that held it, from the move that pointed it there until the next
 * move (or now); a deleted alias leaves a gap. Below, the moves themselves,
 * newest first, with who moved them and why.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { AliasMove } from "@gen/traintrack/v1/model_pb.js";
import { formatTime } from "../../components/format.js";
import { Link, path } from "../../router.js";
import { UserLabel } from "../admin/grants-page.js";

export interface Segment {
  alias: string;
  version: bigint;
  from: number;
  until: number;
  /** True while the alias still points there. */
  current: boolean;
}

/** Each alias's segments, oldest first, from moves in any order (pure: exported for tests). */
export function segmentsOf(moves: AliasMove[], now: number): Map<string, Segment[]> {
  const byAlias = new Map<string, AliasMove[]>();
  for (const m of moves) byAlias.set(m.alias, [...(byAlias.get(m.alias) ?? []), m]);
  const lanes = new Map<string, Segment[]>();
  for (const [alias, list] of [...byAlias].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = list.sort((a, b) => ms(a) - ms(b));
    const segments: Segment[] = [];
    sorted.forEach((m, i) => {
      if (m.toVersion === 0n) return;
      const next = sorted[i + 1];
      segments.push({ alias, version: m.toVersion, from: ms(m), until: next ? ms(next) : now, current: !next });
    });
    lanes.set(alias, segments);
  }
  return lanes;
}

const ms = (m: AliasMove) => (m.time ? timestampMs(m.time) : 0);
const hue = (v: bigint) => Number((v * 67n) % 360n);

export function AliasTimeline({ model, moves }: { model: string; moves: AliasMove[] }) {
  const now = Date.now();
  const lanes = segmentsOf(moves, now);
  const start = Math.min(...moves.map(ms));
  const span = Math.max(now - start, 1);
  const pct = (t: number) => `${(((t - start) / span) * 100).toFixed(3)}%`;
  return (
    <div className="alias-timeline">
      <div className="lanes">
        {[...lanes].map(([alias, segments]) => (
          <div key={alias} className="lane" data-alias={alias}>
            <div className="lane-name">{alias}</div>
            <div className="lane-bar">
              {segments.map((s) => (
                <Link
                  key={`${s.version}-${s.from}`}
                  to={path`/models/${model}/versions/${String(s.version)}`}
                  className={`segment${s.current ? " current" : ""}`}
                  style={{ left: pct(s.from), width: `max(calc(${pct(s.until)} - ${pct(s.from)}), 3px)`, background: `hsl(${hue(s.version)} 55% 52%)` }}
                  title={`${alias} → v${s.version} from ${new Date(s.from).toLocaleString()}${s.current ? " until now" : ` until ${new Date(s.until).toLocaleString()}`}`}
                  data-version={String(s.version)}
                  data-from={s.from}
                  data-until={s.current ? "now" : s.until}
                >
                  v{String(s.version)}
                </Link>
              ))}
            </div>
          </div>
        ))}
        <div className="lane axis">
          <div className="lane-name" />
          <div className="lane-bar axis-labels">
            <span>{new Date(start).toLocaleString()}</span>
            <span>now</span>
          </div>
        </div>
      </div>
      <table className="grid moves">
        <thead>
          <tr>
            <th>When</th>
            <th>Alias</th>
            <th>Move</th>
            <th>By</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {moves.map((m, i) => (
            <tr key={i} data-move={`${m.alias}:${m.fromVersion}->${m.toVersion}`}>
              <td>{formatTime(m.time)}</td>
              <td>
                <code>{m.alias}</code>
              </td>
              <td>
                {m.fromVersion === 0n ? "created" : `v${m.fromVersion}`} → {m.toVersion === 0n ? "deleted" : `v${m.toVersion}`}
              </td>
              <td>{m.userId ? <UserLabel id={m.userId} /> : null}</td>
              <td className="muted">{m.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
