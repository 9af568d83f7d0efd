import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AnalyzeOptions } from './analyze-command.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';

export interface BatchOptions extends AnalyzeOptions {
  jobs?: number;
  /** Draw a progress bar on stderr (interactive runs). */
  progress?: boolean;
}

interface Done {
  index: number;
  code: number;
  out: string[];
  err: string[];
}

const WORKER = new URL('./analysis-worker.js', import.meta.url);

/**
 * Analyses many files on worker threads (one per core by default). Reports are printed in
 * the order of the files; a file that cannot be analysed is reported and skipped. The exit
 * code is 0 when every file was analysed, else the worst failure (corrupt over unsupported).
 */
export async function runBatch(
  files: string[],
  options: BatchOptions,
  argv: string[],
  io: Output,
): Promise<number> {
  const jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), files.length));
  const results: (Done | undefined)[] = new Array(files.length);
  let nextToPrint = 0;
  let nextToSend = 0;
  let finished = 0;
  const counts = new Map<number, number>();
  const started = performance.now();

  const progress = (final = false) => {
    if (!options.progress) return;
    const width = 30;
    const filled = Math.round((finished / files.length) * width);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${finished}/${files.length} files`,
    );
    if (final) process.stderr.write('\r\x1b[K');
  };

  const print = () => {
    while (nextToPrint < files.length && results[nextToPrint]) {
      const done = results[nextToPrint]!;
      if (options.progress) process.stderr.write('\r\x1b[K');
      for (const line of done.err) io.err(line);
      if (done.out.length > 0) {
        io.out(done.out.join('\n'));
        if (!options.json) io.out('');
      }
      results[nextToPrint] = undefined;
      nextToPrint++;
    }
    progress();
  };

  const workers: Worker[] = [];
  await new Promise<void>((resolve, reject) => {
    const send = (w: Worker) => {
      if (nextToSend < files.length) {
        const index = nextToSend++;
        w.postMessage({ index, path: files[index] });
      } else {
        void w.terminate();
      }
    };
    for (let i = 0; i < jobs; i++) {
      const w = new Worker(WORKER, {
        workerData: { options: { ...options, progress: undefined }, argv },
      });
      workers.push(w);
      w.on('message', (done: Done) => {
        results[done.index] = done;
        counts.set(done.code, (counts.get(done.code) ?? 0) + 1);
        finished++;
        print();
        if (finished === files.length) resolve();
        else send(w);
      });
      w.on('error', reject);
      send(w);
    }
  });
  await Promise.all(workers.map((w) => w.terminate()));
  progress(true);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const analysed = (counts.get(EXIT.ok) ?? 0) + (counts.get(EXIT.invalidRules) ?? 0);
  const unsupported = counts.get(EXIT.unsupportedFile) ?? 0;
  const corrupt = counts.get(EXIT.corruptFile) ?? 0;
  const failed = files.length - analysed - unsupported - corrupt;
  const parts = [`${analysed} analysed`];
  if (unsupported) parts.push(`${unsupported} unsupported`);
  if (corrupt) parts.push(`${corrupt} corrupt`);
  if (failed) parts.push(`${failed} failed`);
  io.err(`capa-ts: ${files.length} files in ${seconds} s, ${jobs} workers: ${parts.join(', ')}`);
  if (failed) return EXIT.internalError;
  if (corrupt) return EXIT.corruptFile;
  if (unsupported) return EXIT.unsupportedFile;
  return counts.get(EXIT.invalidRules) ? EXIT.invalidRules : EXIT.ok;
}
