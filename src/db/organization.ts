import { Schema, model } from 'mongoose';

const organizationSchema = new Schema(
  {
    slug: { type: String, required: true, unique: true },
    name: { type: String, required: true },
  },
  { timestamps: true },
);

export const Organization = model('Organization', organizationSchema);
