/**
 * A worker thread of a batch run: loads the rules once (through the cache), then analyses the
 * files it is sent, answering each with the report text and the file's exit code.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeLoadedFile, loadAnalysisRules, type AnalyzeOptions } from './analyze-command.js';

interface Setup {
  options: AnalyzeOptions;
  argv: string[];
}

const { options, argv } = workerData as Setup;
const loaded = loadAnalysisRules(options);

parentPort!.on('message', (job: { index: number; path: string }) => {
  const out: string[] = [];
  const err: string[] = [];
  let code: number;
  try {
    code = analyzeLoadedFile(job.path, loaded, options, argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
  } catch (e) {
    err.push(`capa-ts: ${job.path}: internal error: ${(e as Error).message}`);
    code = -1;
  }
  parentPort!.postMessage({ index: job.index, code, out, err });
});
