import { checkCustomPayload, type CustomPayloadFields } from '../../../src/templates/customPayload';
import { createTemplateEngine, type TemplateEngine } from '../../../src/templates/engine';
import { libraryTemplate } from '../../../src/templates/library';
import { EVENT_CATALOG } from '../../../src/shared/catalog';

let engine: TemplateEngine;
beforeAll(async () => {
  engine = createTemplateEngine({ poolSize: 1 });
  await engine.ready();
}, 10 * 60_000);
afterAll(() => engine.close());

const webhook = (over: Partial<CustomPayloadFields>): CustomPayloadFields => ({
  payload_type: 'custom',
  custom_payload: '',
  custom_payload_template_slug: '',
  trigger_type: 'automatic',
  triggers: [{ event_type: 'incident.triggered' }],
  ...over,
});

describe('checkCustomPayload (saving a webhook with a custom payload)', () => {
  it('when the payload is standard, then nothing is rendered and it passes', async () => {
    const check = await checkCustomPayload(
      webhook({ payload_type: 'standard', custom_payload: 'not jsonnet' }),
      engine,
    );
    expect(check).toEqual({ ok: true, custom_payload: 'not jsonnet' });
  });

  it('when a template runs past the time limit, then the save fails after one limit, not one per trigger event', async () => {
    const limited = createTemplateEngine({ poolSize: 1, timeoutMs: 300 });
    try {
      const triggers = EVENT_CATALOG.v2.map((e) => ({ event_type: e.event_type }));
      expect(triggers.length).toBeGreaterThan(20);
      const endless =
        'std.foldl(function(a, i) std.foldl(function(b, j) b + j, std.range(1, 100000), a), std.range(1, 100000), 0)';
      const started = Date.now();
      const check = await checkCustomPayload(webhook({ custom_payload: endless, triggers }), limited);
      expect(check).toMatchObject({
        ok: false,
        errors: [{ field: 'custom_payload', message: expect.stringMatching(/300 ms limit/) }],
      });
      // Rendered one at a time, stopping at the first failure: about 0.3 s, where every trigger would be 7 s or more.
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await limited.close();
    }
  });

  it('when the template renders for every trigger event, then it passes unchanged', async () => {
    const source = '{ text: root.data.resource_data.message }';
    const triggers = [{ event_type: 'incident.triggered' }, { event_type: 'incident.resolved' }];
    expect(await checkCustomPayload(webhook({ custom_payload: source, triggers }), engine)).toEqual({
      ok: true,
      custom_payload: source,
    });
  });

  it('when the template fails for one trigger event, then it is refused naming that event and the place', async () => {
    // resource_data is the incident for incident events, a note for note events (which have no service).
    const check = await checkCustomPayload(
      webhook({
        custom_payload: '{\n  text: root.data.resource_data.service.name,\n}',
        triggers: [{ event_type: 'incident.triggered' }, { event_type: 'incident.incident_notes_created' }],
      }),
      engine,
    );
    expect(check).toEqual({
      ok: false,
      errors: [
        {
          field: 'custom_payload',
          message:
            'does not render for incident.incident_notes_created: Field does not exist: service (line 2, column 9)',
        },
      ],
    });
  });

  it('when only a library slug is given, then its code is what is saved', async () => {
    const check = await checkCustomPayload(webhook({ custom_payload_template_slug: 'discord' }), engine);
    expect(check).toEqual({ ok: true, custom_payload: libraryTemplate('discord')!['template-code'] });
  });

  it('when the slug is unknown or there is no template at all, then the field is named', async () => {
    expect(await checkCustomPayload(webhook({ custom_payload_template_slug: 'nope' }), engine)).toMatchObject({
      ok: false,
      errors: [{ field: 'custom_payload_template_slug' }],
    });
    expect(await checkCustomPayload(webhook({}), engine)).toMatchObject({
      ok: false,
      errors: [{ field: 'custom_payload' }],
    });
  });

  it('when a v1 webhook is saved, then its v1 event types are rendered with their v2 events', async () => {
    const check = await checkCustomPayload(
      webhook({ custom_payload: '{ t: root.event.type }', triggers: [{ event_type: 'incident_acknowledged' }] }),
      engine,
    );
    expect(check.ok).toBe(true);
  });
});
