/**
 * The one registry of engine jobs. The mapped type makes a JobName without a job (or the reverse) a compile error:
 * add the schemas to shared/api.ts JOBS, the job file here, and one line below.
 */
import type { JobName } from '../../shared/api';
import type { EngineJob } from './types';
import { modelInfoJob } from './model-info';
import { generateJob } from './generate';
import { sampleJob } from './sample';
import { invertJob } from './invert';
import { basisJob } from './basis';
import { galleryJob } from './gallery';
import { editJob } from './edit';
import { transportJob } from './transport';
import { globalBasisJob } from './global-basis';
import { analyzeJob } from './analyze';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry keeps its own result type
export const ENGINE_JOBS: { readonly [N in JobName]: EngineJob<N, any> } = {
  'model.info': modelInfoJob,
  generate: generateJob,
  sample: sampleJob,
  invert: invertJob,
  basis: basisJob,
  gallery: galleryJob,
  edit: editJob,
  transport: transportJob,
  'global-basis': globalBasisJob,
  analyze: analyzeJob,
};

export type { EngineJob, JobContext, LoadedModel } from './types';
