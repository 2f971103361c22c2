/**
 * Where `{% include %}`, `{% import %}` and `{% extends %}` find templates: the main template's directory
 * and below, as with nunjucks' FileSystemLoader, but each file read through lib/read-regular-file.ts.
 * nunjucks reads them synchronously while rendering, so a FIFO there would stop the whole process, not
 * one pass; refused, the render fails with the file's name and the running configuration stays.
 */
import path from 'node:path';
import type nunjucks from 'nunjucks';
import { readRegularFileSync, UnreadableFileError } from '../lib/read-regular-file.js';

/** The built-in template is 20 kB. */
export const MAX_TEMPLATE_BYTES = 1 << 20;

export function templateDirLoader(dir: string): nunjucks.ILoader {
  return {
    getSource(name) {
      const file = path.resolve(dir, name);
      const relative = path.relative(dir, file);
      // null: nunjucks says "template not found", naming it.
      if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null as unknown as nunjucks.LoaderSource;
      try {
        return { src: readRegularFileSync(file, { maxBytes: MAX_TEMPLATE_BYTES }), path: file, noCache: false };
      } catch (error) {
        if (error instanceof UnreadableFileError && error.code === 'ENOENT') return null as unknown as nunjucks.LoaderSource;
        throw error;
      }
    },
  };
}
