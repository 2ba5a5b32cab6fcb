import { checkCustomPayload, type CustomPayloadFields } from '../../src/templates/customPayload';
import { createTemplateEngine, type TemplateEngine } from '../../src/templates/engine';
import { libraryTemplate } from '../../src/templates/library';

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
