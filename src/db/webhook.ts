import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * A webhook config. Field names are Squadcast's where the API shows them. Free-form JSON
 * (user filters, compiled json-logic) is stored as strings and headers as `[{name, value}]`,
 * because FerretDB v1 refuses document keys containing `.` or starting with `$`.
 */
const webhookSchema = new Schema(
  {
    organizationId: { type: String, required: true },
    slug: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    trigger_type: { type: String, enum: ['automatic', 'manual'], required: true },
    version: { type: String, enum: ['v1', 'v2'], default: 'v2' },
    triggers: { type: [{ _id: false, event_class: String, event_type: String }], default: [] },
    /**
     * `rate_per_second`: the API's `rate_limit.per_second`, absent for an unlimited URL.
     * `disabled_at`/`disabled_reason`: set when auto-disable stopped deliveries to this URL alone.
     */
    urls: {
      type: [
        {
          _id: false,
          url: String,
          method: String,
          rate_per_second: { type: Number, default: undefined },
          disabled_at: { type: Date, default: null },
          disabled_reason: { type: String, default: null },
        },
      ],
      default: [],
    },
    headers: { type: [{ _id: false, name: String, value: String }], default: [] },
    /** The filters as the user wrote them (JSON text), or null. */
    filters: { type: String, default: null },
    /** The filters compiled to json-logic (JSON text), or null for "match everything". */
    filterLogic: { type: String, default: null },
    max_retry: { type: Number, default: 3 },
    teams: { type: [String], default: [] },
    is_all_teams_configured: { type: Boolean, default: false },
    mail_ids: { type: [String], default: [] },
    payload_type: { type: String, enum: ['standard', 'custom'], default: 'standard' },
    custom_payload: { type: String, default: '' },
    custom_payload_template_slug: { type: String, default: '' },
    language: { type: String, default: 'jsonnet' },
    enabled: { type: Boolean, default: true },
    /** Set when auto-disable turned the webhook off (its only URL kept failing); cleared on enable. */
    disabled_at: { type: Date, default: null },
    disabled_reason: { type: String, default: null },
    /** Signing secrets, newest first; a rotated-out secret stays valid until `expiresAt`. */
    secrets: {
      type: [{ _id: false, value: String, createdAt: Date, expiresAt: { type: Date, default: null } }],
      default: [],
    },
    author_id: { type: String, required: true },
  },
  { timestamps: { createdAt: 'created_at', updatedAt: 'updated_at' } },
);
webhookSchema.index({ organizationId: 1, slug: 1 }, { unique: true });
webhookSchema.index({ organizationId: 1, enabled: 1, trigger_type: 1 });

export type WebhookFields = InferSchemaType<typeof webhookSchema>;
export type WebhookDoc = HydratedDocument<WebhookFields>;
export const Webhook = model('Webhook', webhookSchema);
