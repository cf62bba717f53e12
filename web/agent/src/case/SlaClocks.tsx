import type { Case, Schemas } from '../api/client';
import { useFormatDateTime, useT } from '../i18n/locale';

export type SlaClock = Schemas['SlaClockSummary'];

/** Which time to show next to a clock: when it is due while it runs, when it stopped once it has. */
export function clockTime(clock: SlaClock): string | null {
  if (clock.state === 'met') return clock.stopped_at ?? null;
  if (clock.state === 'breached') return clock.breached_at ?? clock.due_at ?? null;
  return clock.due_at ?? null;
}

/** The case's SLA clocks as the server last computed them: per target a state chip and a time in the agent's zone. */
export function SlaClocks({ item }: { item: Case }) {
  const t = useT();
  const format = useFormatDateTime();
  const clocks = item.sla?.clocks ?? [];
  if (clocks.length === 0) return null;
  return (
    <section className="sla-clocks panel" aria-labelledby="sla-clocks-title">
      <h2 id="sla-clocks-title" className="panel-title">
        {t('slaClock.title')}
      </h2>
      <ul>
        {clocks.map((clock) => {
          const when = clockTime(clock);
          return (
            <li key={`${clock.target}-${clock.cycle}`} className="sla-clock">
              <span className="sla-clock-target">{t(`slaClock.target.${clock.target}` as const)}</span>
              <span className={`pill sla-chip sla-chip-${clock.state}`}>{t(`slaClock.state.${clock.state}` as const)}</span>
              {when ? (
                <span className="sla-clock-time">
                  {t(clock.state === 'met' ? 'slaClock.metAt' : clock.state === 'breached' ? 'slaClock.breachedAt' : 'slaClock.dueAt')}{' '}
                  <time dateTime={when}>{format(when)}</time>
                </span>
              ) : (
                <span className="sla-clock-time">{t('slaClock.noDue')}</span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
