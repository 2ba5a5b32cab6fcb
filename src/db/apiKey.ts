import { Schema, model } from 'mongoose';

/** API keys are stored as SHA-256 hashes (they are 256-bit random, so no slow hash is needed). */
const apiKeySchema = new Schema(
  {
    organizationId: { type: String, required: true, index: true },
    userId: { type: String, required: true },
    hash: { type: String, required: true, unique: true },
    /** The first characters of the key, shown in listings so an admin can tell keys apart. */
    prefix: { type: String, required: true },
    revokedAt: { type: Date, default: null },
    lastUsedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

export const ApiKey = model('ApiKey', apiKeySchema);
