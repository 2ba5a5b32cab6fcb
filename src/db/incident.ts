import { Schema, model } from 'mongoose';

/**
 * The latest known state of every incident seen in events, per organization, so a manual webhook
 * can be fired for it later. JSON is kept as text (FerretDB refuses some keys, e.g. tag names
 * with dots). Only an event at least as new as the stored one replaces it.
 */
const incidentSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    incidentId: { type: String, required: true },
    incident: { type: String, required: true },
    team: { type: String, required: true },
    organizationName: { type: String, default: '' },
    eventId: { type: String, required: true },
    eventAt: { type: Date, required: true },
  },
  { versionKey: false, timestamps: { createdAt: false, updatedAt: 'updated_at' } },
);

export const IncidentSnapshot = model('IncidentSnapshot', incidentSchema);

export const incidentKey = (organizationId: string, incidentId: string): string => `${organizationId}:${incidentId}`;
