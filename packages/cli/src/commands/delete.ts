/**
 * `porpoise delete --event name | --segment name | --counter key | --all [--yes]`: every key of
 * those names (all resolutions and buckets, as the catalogue lists them), in bounded batches.
 * Without --yes nothing is deleted: the command says what would be, and exits 2.
 */
import type { DeleteResult } from '@porpoise/analytics';
import { UsageError } from '../errors.js';
import { toJson } from '../format/json.js';
import { fmt } from '../format/text.js';
import type { Io } from '../io.js';
import { progressBar } from '../progress.js';
import { type CommonFlags, openSession, settingsOf } from '../session.js';

export interface DeleteFlags extends CommonFlags {
  event?: string[];
  segment?: string[];
  counter?: string[];
  all?: boolean;
  yes?: boolean;
}

interface Target {
  kind: 'event' | 'segment' | 'counter';
  name: string;
}

export async function deleteCommand(flags: DeleteFlags, io: Io): Promise<void> {
  const settings = settingsOf(flags);
  const named: Target[] = [
    ...(flags.event ?? []).map((name) => ({ kind: 'event' as const, name })),
    ...(flags.segment ?? []).map((name) => ({ kind: 'segment' as const, name })),
    ...(flags.counter ?? []).map((name) => ({ kind: 'counter' as const, name })),
  ];
  if (flags.all && named.length > 0) {
    throw new UsageError('--all deletes everything under the prefix: give it alone, or name what to delete');
  }
  if (!flags.all && named.length === 0) {
    throw new UsageError('delete needs --event <name>, --segment <name>, --counter <key> or --all');
  }
  const session = await openSession(settings, io);
  try {
    const { analytics } = session;
    const [events, segments, counters] = await Promise.all([
      analytics.names(),
      analytics.segments(),
      analytics.counterKeys(),
    ]);
    const known = { event: events, segment: segments, counter: counters };
    const targets: Target[] = flags.all
      ? [
          ...events.map((name) => ({ kind: 'event' as const, name })),
          ...segments.map((name) => ({ kind: 'segment' as const, name })),
          ...counters.map((name) => ({ kind: 'counter' as const, name })),
        ]
      : named;
    const unknown = targets.filter((t) => !known[t.kind].includes(t.name));
    const describe = (t: Target) => `${t.kind} ${JSON.stringify(t.name)}`;
    if (!flags.yes) {
      const what = flags.all ? `everything under ${session.describe()}` : targets.map(describe).join(', ');
      throw new UsageError(
        `delete removes ${what} (${fmt(targets.length - unknown.length)} recorded name${
          targets.length - unknown.length === 1 ? '' : 's'
        }${unknown.length > 0 ? `; not recorded: ${unknown.map(describe).join(', ')}` : ''}): pass --yes to delete`,
      );
    }
    const done: Array<Target & DeleteResult> = [];
    for (const target of targets) {
      const progress = progressBar(io.stderr, `deleting ${describe(target)}`, !settings.json);
      const onProgress = (d: number, t: number) => progress.update(d, t);
      try {
        const result =
          target.kind === 'event'
            ? await analytics.deleteEvent(target.name, { onProgress })
            : target.kind === 'counter'
              ? await analytics.deleteCounter(target.name, { onProgress })
              : await analytics.eventStore.deleteSegment(target.name);
        done.push({ ...target, ...result });
      } finally {
        progress.finish();
      }
    }
    if (flags.all) {
      // The catalogues and the largest id go too; anything recorded meanwhile is caught here.
      await analytics.deleteAll();
    }
    const keys = done.reduce((sum, d) => sum + d.keys, 0);
    if (settings.json) {
      io.stdout.write(
        toJson({
          command: 'delete',
          source: session.source,
          all: flags.all === true,
          deleted: done.map(({ kind, name, keys }) => ({ kind, name, keys })),
          keys,
        }),
      );
      return;
    }
    const lines = [`Deleted · ${session.describe()}`, ''];
    if (done.length === 0) lines.push('(nothing was recorded)');
    for (const d of done) {
      lines.push(
        `${describe(d)}: ${fmt(d.keys)} key${d.keys === 1 ? '' : 's'}${known[d.kind].includes(d.name) ? '' : ' (not recorded)'}`,
      );
    }
    lines.push('', `${fmt(keys)} keys deleted`);
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
