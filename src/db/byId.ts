import mongoose, { type Model } from 'mongoose';

/**
 * The document with this id if it belongs to the organization, else null. Queries by `_id` alone
 * and checks the organization in code: FerretDB's SQLite backend pushes only a lone `_id` filter
 * down to SQLite and scans the whole collection for anything else.
 */
export async function findOwnedById<T extends { organizationId: string }>(
  model: Model<T>,
  id: string,
  organizationId: string,
  projection: Record<string, 0 | 1>,
) {
  if (!mongoose.isValidObjectId(id)) return null;
  const doc = await model
    .findById(id, { ...projection, organizationId: 1 })
    .lean<T & { _id: unknown }>()
    .exec();
  return doc && doc.organizationId === organizationId ? doc : null;
}
