import { Schema, model } from 'mongoose';

const teamSchema = new Schema(
  {
    organizationId: { type: String, required: true },
    slug: { type: String, required: true },
    name: { type: String, required: true },
  },
  { timestamps: true },
);
teamSchema.index({ organizationId: 1, slug: 1 }, { unique: true });

export const Team = model('Team', teamSchema);
