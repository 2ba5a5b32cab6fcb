/**
 * The pre-configured templates: one YAML file per target in library/, stored the way Squadcast
 * stores theirs (`name`, `slug`, `language`, `template-code`), plus the `target` and a
 * `description` of the API the body fits. Read once, on first use.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

const entrySchema = z.object({
  name: z.string().min(1),
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  language: z.literal('jsonnet'),
  target: z.string().min(1),
  description: z.string().min(1),
  'template-code': z.string().min(1),
});

export type LibraryTemplate = z.infer<typeof entrySchema>;
export type LibraryTemplateSummary = Omit<LibraryTemplate, 'template-code'>;

const libraryDir = path.join(__dirname, 'library');
let loaded: ReadonlyMap<string, LibraryTemplate> | undefined;

function load(): ReadonlyMap<string, LibraryTemplate> {
  const bySlug = new Map<string, LibraryTemplate>();
  for (const file of fs
    .readdirSync(libraryDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const parsed = entrySchema.safeParse(YAML.parse(fs.readFileSync(path.join(libraryDir, file), 'utf8')));
    if (!parsed.success) throw new Error(`template library: ${file}: ${parsed.error.message}`);
    if (bySlug.has(parsed.data.slug)) throw new Error(`template library: ${file}: slug ${parsed.data.slug} is taken`);
    bySlug.set(parsed.data.slug, parsed.data);
  }
  return bySlug;
}

/** Every library template, ordered by file name. */
export function libraryTemplates(): LibraryTemplate[] {
  loaded ??= load();
  return [...loaded.values()];
}

export function libraryTemplate(slug: string): LibraryTemplate | undefined {
  loaded ??= load();
  return loaded.get(slug);
}

export function summarize(t: LibraryTemplate): LibraryTemplateSummary {
  return { slug: t.slug, name: t.name, language: t.language, target: t.target, description: t.description };
}
