/** Project files: versioned manifest + content-addressed blobs in a zip, migrations, atomic save. */
export * from './errors';
export * from './schema';
export { MIGRATIONS, migrateManifest, type MigrationResult } from './migrate';
export { decodeProject, encodeProject, referencedBlobs, sha256Hex, MANIFEST_NAME, type LoadedProject, type ProjectContent } from './format';
export { loadProjectFile, saveProjectFile, writeFileAtomic } from './save';
