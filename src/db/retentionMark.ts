import { Schema, model } from 'mongoose';

/**
 * Where the retention sweep got to, per swept collection (`_id`: the collection's name): every
 * hour before `sweptBefore` has been deleted, so the next sweep starts there instead of searching
 * the whole table for old data (src/retention/sweep.ts). One small document per collection.
 */
const retentionMarkSchema = new Schema(
  {
    _id: { type: String, required: true },
    sweptBefore: { type: Date, required: true },
  },
  { versionKey: false },
);

export const RetentionMark = model('RetentionMark', retentionMarkSchema);
