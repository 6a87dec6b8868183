/** A document's edit as Transfer edit… takes it (transfer-plan.ts TransferSource): two directions of seed 1's basis. */
import type { TransferSource } from '../../src-renderer/src/lib/state/transfer-plan';
import { EDIT_PARAMS_DEFAULT } from '../../src-main/shared/edit-defaults';

export const TRANSFER_SOURCE: TransferSource = {
  modelDir: '/m',
  modelName: 'avatars64',
  xt: { seed: 1 },
  steps: 10,
  timestep: 500,
  basis: { k: 2, method: 'krylov' },
  edits: [
    { index: 0, strength: 1.5 },
    { index: 1, strength: -2 },
  ],
  skipped: 0,
  params: { ...EDIT_PARAMS_DEFAULT, guidanceSteps: 12, renderSteps: 40 },
  textConditioned: false,
  provider: 'cpu',
  recipe: null,
  projectName: 'doc',
};
