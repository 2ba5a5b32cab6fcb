import { Schema, model } from 'mongoose';

const userSchema = new Schema(
  {
    organizationId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    role: { type: String, enum: ['owner', 'user'], required: true },
    permissions: { type: [String], default: [] },
    teamIds: { type: [String], default: [] },
  },
  { timestamps: true },
);

export const User = model('User', userSchema);
