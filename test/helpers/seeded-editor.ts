/**
 * The editor's state classes on the engine in this process (inProcessApi), with a document made from a seed as
 * "New from seed" makes it: what the integration tests that drive EditorState against the real engine start from.
 */
import { EditorState } from '../../src-renderer/src/lib/state/editor.svelte';
import { inProcessApi } from './in-process-api';

export async function seededInProcessEditor(modelDir: string, o: { seed: number; steps: number }): Promise<EditorState> {
  const ed = new EditorState(inProcessApi(modelDir));
  await ed.load();
  ed.model.provider = 'cpu';
  ed.source.seed = o.seed;
  ed.source.steps = o.steps;
  await ed.newFromSeed();
  return ed;
}
