/**
 * Every library template against every incident event fixture, as published and with the optional
 * parts taken away (no description, null tags, no assignee) or filled in (tags, priority, a long
 * description), checked against what the target's API requires.
 */
import { EVENT_CATALOG } from '../../../src/shared/catalog';
import type { EventEnvelopeV2, JsonObject } from '../../../src/shared/types';
import { sampleEvent } from '../../../src/payloads/samples';
import { createTemplateEngine, formatTemplateError, type TemplateEngine } from '../../../src/templates/engine';
import { libraryTemplate, libraryTemplates } from '../../../src/templates/library';

const INCIDENT_EVENTS = ['incident.triggered', 'incident.acknowledged', 'incident.resolved', 'incident.reassigned'];

type Variant = [name: string, change: (incident: JsonObject) => void];
const VARIANTS: Variant[] = [
  ['as published', () => {}],
  [
    'without description, tags or assignee',
    (inc) => {
      delete inc.description;
      inc.tags = null;
      delete inc.assigned_to;
    },
  ],
  [
    'with empty description and null assignee and service',
    (inc) => {
      inc.description = '';
      inc.assigned_to = null;
      inc.service = null;
    },
  ],
  [
    'with tags, priority and a long description',
    (inc) => {
      inc.tags = {
        severity: { value: 'critical', color: '#f00' },
        'env name': { value: 'prod eu', color: '#0f0' },
        '': { value: '', color: '#0C93E3' },
      };
      inc.priority = 'P1';
      inc.description = 'Line one <b>&\n'.repeat(5000);
    },
  ],
];

function eventFor(type: string, change: Variant[1]): EventEnvelopeV2 {
  const event = sampleEvent(type);
  change(event.data.resource_data);
  return event;
}

const isText = (v: unknown) => typeof v === 'string' && v.trim().length > 0;
const noSpaces = (v: unknown) => typeof v === 'string' && !/\s/.test(v);

/** What each target's API needs of a request body (from its documentation). */
const CHECKS: Record<string, (body: any, event: EventEnvelopeV2) => void> = {
  slack(body) {
    expect(isText(body.text)).toBe(true);
    expect(body.text.length).toBeLessThanOrEqual(3000);
    for (const block of body.blocks) {
      expect(['section', 'context', 'actions']).toContain(block.type);
      if (block.text) expect(isText(block.text.text) && block.text.text.length <= 3000).toBe(true);
      for (const field of block.fields ?? []) expect(isText(field.text)).toBe(true);
    }
    expect(body.blocks.length).toBeLessThanOrEqual(50);
  },
  'microsoft-teams'(body) {
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = body.attachments[0].content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(card.body.length).toBeGreaterThan(0);
    for (const element of card.body) expect(['TextBlock', 'FactSet']).toContain(element.type);
    for (const fact of card.body.find((e: any) => e.type === 'FactSet').facts) {
      expect(isText(fact.title) && typeof fact.value === 'string').toBe(true);
    }
  },
  discord(body) {
    expect(isText(body.content) && body.content.length <= 2000).toBe(true);
    expect(body.embeds.length).toBeLessThanOrEqual(10);
    for (const embed of body.embeds) {
      expect(embed.title.length).toBeLessThanOrEqual(256);
      expect(embed.description.length).toBeLessThanOrEqual(4096);
      expect(Number.isInteger(embed.color)).toBe(true);
      expect(embed.fields.length).toBeLessThanOrEqual(25);
      for (const f of embed.fields) expect(isText(f.name) && isText(f.value) && f.value.length <= 1024).toBe(true);
    }
  },
  'google-chat'(body) {
    expect(isText(body.text)).toBe(true);
    const card = body.cardsV2[0];
    expect(isText(card.cardId)).toBe(true);
    expect(isText(card.card.header.title)).toBe(true);
    for (const section of card.card.sections) expect(section.widgets.length).toBeGreaterThan(0);
  },
  mattermost(body) {
    expect(isText(body.text)).toBe(true);
    const [attachment] = body.attachments;
    expect(isText(attachment.fallback)).toBe(true);
    expect(attachment.color).toMatch(/^#[0-9A-F]{6}$/i);
    for (const f of attachment.fields) expect(typeof f.short === 'boolean' && isText(f.title)).toBe(true);
  },
  'jira-create-issue'(body) {
    const { fields } = body;
    expect(isText(fields.project.key)).toBe(true);
    expect(isText(fields.issuetype.name)).toBe(true);
    expect(isText(fields.summary) && fields.summary.length <= 255 && !/[\r\n]/.test(fields.summary)).toBe(true);
    expect(typeof fields.description).toBe('string');
    for (const label of fields.labels) expect(noSpaces(label) && label.length <= 255).toBe(true);
    if (fields.priority) expect(['Highest', 'High', 'Medium', 'Low', 'Lowest']).toContain(fields.priority.name);
  },
  'zendesk-create-ticket'(body, event) {
    const { ticket } = body;
    expect(isText(ticket.comment.body)).toBe(true);
    expect(isText(ticket.subject)).toBe(true);
    expect(['urgent', 'high', 'normal', 'low']).toContain(ticket.priority);
    expect(['problem', 'incident', 'question', 'task']).toContain(ticket.type);
    expect(ticket.external_id).toBe(event.data.resource_data.id);
    for (const tag of ticket.tags) expect(noSpaces(tag)).toBe(true);
  },
  'freshdesk-create-ticket'(body) {
    expect(body.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(isText(body.subject) && isText(body.description)).toBe(true);
    expect(body.description).not.toMatch(/<b>&/);
    expect([2, 3, 4, 5]).toContain(body.status);
    expect([1, 2, 3, 4]).toContain(body.priority);
    for (const tag of body.tags) expect(typeof tag).toBe('string');
  },
  'servicenow-create-incident'(body, event) {
    expect(isText(body.short_description) && body.short_description.length <= 160).toBe(true);
    expect(['1', '2', '3']).toContain(body.urgency);
    expect(['1', '2', '3']).toContain(body.impact);
    expect(body.correlation_id).toBe(event.data.resource_data.id);
    expect(body.state).toBe(
      { triggered: '1', acknowledged: '2', resolved: '6' }[String(event.data.resource_data.status)],
    );
    if (body.state === '6') expect(isText(body.close_code) && isText(body.close_notes)).toBe(true);
  },
  'asana-create-task'(body) {
    expect(isText(body.data.name)).toBe(true);
    expect(typeof body.data.notes).toBe('string');
    expect(body.data.projects.length).toBeGreaterThan(0);
  },
  'trello-create-card'(body) {
    expect(isText(body.idList) && isText(body.name)).toBe(true);
    expect(body.desc.length).toBeLessThanOrEqual(16384);
    if (body.urlSource !== undefined) expect(body.urlSource).toMatch(/^https?:\/\//);
  },
  'clickup-create-task'(body) {
    expect(isText(body.name)).toBe(true);
    expect([1, 2, 3, 4]).toContain(body.priority);
    for (const tag of body.tags) expect(typeof tag).toBe('string');
  },
  'opsgenie-create-alert'(body) {
    expect(isText(body.message) && body.message.length <= 130).toBe(true);
    expect(body.alias.length).toBeLessThanOrEqual(512);
    expect(body.description.length).toBeLessThanOrEqual(15000);
    expect(['P1', 'P2', 'P3', 'P4', 'P5']).toContain(body.priority);
    expect(body.tags.length).toBeLessThanOrEqual(20);
    for (const tag of body.tags) expect(tag.length).toBeLessThanOrEqual(50);
    for (const v of Object.values(body.details)) expect(typeof v).toBe('string');
  },
  'pagerduty-event'(body, event) {
    expect(isText(body.routing_key) && isText(body.dedup_key)).toBe(true);
    const action = { acknowledged: 'acknowledge', resolved: 'resolve' }[String(event.data.resource_data.status)];
    expect(body.event_action).toBe(action ?? 'trigger');
    if (body.event_action === 'trigger') {
      expect(isText(body.payload.summary) && isText(body.payload.source)).toBe(true);
      expect(['critical', 'error', 'warning', 'info']).toContain(body.payload.severity);
    }
  },
  'compact-incident'(body, event) {
    const inc = event.data.resource_data;
    expect(body.event).toEqual({ id: event.event.id, type: event.event.type, at: event.event.timestamp });
    expect(body.incident).toMatchObject({ id: inc.id, title: inc.message, status: inc.status });
    expect(body.incident.description).toBe(inc.description ? inc.description : null);
    expect(body.incident.assignee === null).toBe(!inc.assigned_to);
    expect(typeof body.incident.tags).toBe('object');
  },
};

let engine: TemplateEngine;
beforeAll(async () => {
  engine = createTemplateEngine({ poolSize: 2, timeoutMs: 5000 });
  await engine.ready();
}, 10 * 60_000);
afterAll(() => engine.close());

describe('the template library', () => {
  it('when the library is loaded, then it has a template for every target the issue lists, each with its fields', () => {
    const templates = libraryTemplates();
    expect(templates.map((t) => t.slug).sort()).toEqual(Object.keys(CHECKS).sort());
    for (const t of templates) {
      expect(t.language).toBe('jsonnet');
      expect(isText(t.name) && isText(t.target) && isText(t.description) && isText(t['template-code'])).toBe(true);
    }
    expect(libraryTemplate('slack')?.target).toBe('Slack');
    expect(libraryTemplate('nope')).toBeUndefined();
  });

  describe.each(libraryTemplates().map((t) => [t.slug, t] as const))('%s', (slug, template) => {
    it.each(INCIDENT_EVENTS)(
      'when rendered for %s, in every variant, then the body is what the target requires',
      async (type) => {
        for (const [variant, change] of VARIANTS) {
          const event = eventFor(type, change);
          const result = await engine.render(template['template-code'], event);
          if (!result.ok) throw new Error(`${variant}: ${formatTemplateError(result.error)}`);
          try {
            CHECKS[slug](result.value, event);
          } catch (err) {
            throw new Error(`${variant}: ${(err as Error).message}\nbody: ${result.body.slice(0, 2000)}`, {
              cause: err,
            });
          }
        }
      },
    );

    it('when rendered for every other v2 event type, then it renders (the incident comes from data.incident)', async () => {
      const others = EVENT_CATALOG.v2.map((e) => e.event_type).filter((t) => !INCIDENT_EVENTS.includes(t));
      for (const type of others) {
        const result = await engine.render(template['template-code'], sampleEvent(type));
        if (!result.ok) throw new Error(`${type}: ${formatTemplateError(result.error)}`);
      }
    });
  });
});
