/** Project files: versioned manifest + content-addressed blobs in a zip, migrations, atomic save. */
export * from './errors';
export * from './schema';
export { MIGRATIONS, migrateManifest, type MigrationResult } from './migrate';
export { decodeProject, decodeProjectAsync, encodeProject, encodeProjectAsync, referencedBlobs, sha256Hex, MANIFEST_NAME, type LoadedProject, type ProjectContent } from './format';
export { loadProjectFile, loadProjectFileAsync, saveProjectFile, saveProjectFileAsync, writeFileAtomic, writeFileAtomicAsync, MAX_PROJECT_FILE_BYTES, type ProjectFileOptions } from './save';
