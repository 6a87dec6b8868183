/**
 * Writes an analysis's files (outputs.ts) into a folder. The only module of the analysis that touches the
 * file system, so the rest also runs in the renderer. Each file goes to a temporary name and is renamed into
 * place, so a viewer that reloads report.html or a CSV while the analysis streams never reads half a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, isAbsolute } from 'node:path';

/** Returns the paths written. Names are relative ("plots/sigma.svg"); one that leaves `folder` is refused. */
export async function writeAnalysisOutputs(folder: string, files: Readonly<Record<string, string>>): Promise<string[]> {
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const relative = normalize(name);
    if (isAbsolute(relative) || relative.startsWith('..')) throw new RangeError(`output name ${name} leaves the output folder`);
    const path = join(folder, relative);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, text, 'utf8');
    await rename(temp, path);
    written.push(path);
  }
  return written;
}
