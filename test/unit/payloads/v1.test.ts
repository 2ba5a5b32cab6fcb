import fs from 'node:fs';
import path from 'node:path';
import { V1_KEYS, analyticsOf, toV1Payload } from '../../../src/payloads/v1';
import { sampleEvent } from '../../../src/payloads/samples';

const v1Fixture = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '../../../src/payloads/fixtures/v1', name), 'utf8'));

describe('toV1Payload', () => {
  test('when a v2 incident event is derived, then every v1 key is present in the order of the v1 fixtures', () => {
    for (const [v2, v1, file] of [
      ['incident.triggered', 'incident_triggered', 'incident-triggered.json'],
      ['incident.acknowledged', 'incident_acknowledged', 'incident-acknowledged.json'],
    ]) {
      const derived = toV1Payload(sampleEvent(v2), v1);
      expect(Object.keys(derived)).toEqual(Object.keys(v1Fixture(file)));
      expect(Object.keys(derived)).toEqual([...V1_KEYS]);
      expect(derived.event_type).toBe(v1);
    }
  });

  test('when derived, then values come from the incident and fields v1 lacks are dropped', () => {
    const event = sampleEvent('incident.acknowledged');
    const incident = event.data.resource_data as any;
    const derived = toV1Payload(event, 'incident_acknowledged') as any;
    expect(derived.id).toBe(incident.id);
    expect(derived.organization).toEqual(event.data.organization);
    expect(derived.service).toEqual(incident.service);
    expect(derived.assigned_to).toEqual({ id: incident.assigned_to.id, name: incident.assigned_to.name, type: 'user' });
    expect(derived).not.toHaveProperty('url');
    expect(derived).not.toHaveProperty('request_id');
    expect(derived.timeline).toEqual(incident.timeline);
    // triggered 05:26:34.256, acknowledged 05:37:01.339 by Yash Jain (the assignee); the escalation
    // policy is the trigger's assignee.
    expect(derived.analytics).toEqual({
      tta: {
        time: 627_083,
        user_id: incident.assigned_to.id,
        escalation_policy_id: incident.event_payload.assignee.id,
      },
    });
    // v2 tags are null here; every v1 example has an object.
    expect(incident.tags).toBeNull();
    expect(derived.tags).toEqual({});
  });

  test('when derived from the incident of Squadcast’s v1 example, then analytics names the same user and escalation policy', () => {
    const example = v1Fixture('incident-acknowledged.json');
    const event = sampleEvent('incident.acknowledged');
    const { analytics, event_type: _type, organization: _org, ...incident } = example;
    event.data.resource_data = incident;
    const derived = toV1Payload(event, 'incident_acknowledged') as any;
    const { time: _time, ...who } = analytics.tta;
    expect(derived.analytics.tta).toMatchObject(who);
    expect(Object.keys(derived.analytics.tta)).toEqual(Object.keys(analytics.tta));
    expect(derived.tags).toEqual(example.tags);
  });

  test('when the timeline entry names nobody the incident knows, then only the time is given', () => {
    const incident = structuredClone(sampleEvent('incident.acknowledged').data.resource_data) as any;
    incident.timeline[1].name = 'Someone Else';
    delete incident.event_payload;
    expect(analyticsOf(incident)).toEqual({ tta: { time: 627_083 } });
  });

  test('when the timeline has a resolution, then ttr is the time from trigger to resolution in ms', () => {
    const incident = sampleEvent('incident.resolved').data.resource_data;
    // resolved 05:37:35.945
    const who = { user_id: '61963608090a650008fff152', escalation_policy_id: '629e23f5eb4041a20a43b11c' };
    expect(analyticsOf(incident)).toEqual({ tta: { time: 627_083, ...who }, ttr: { time: 661_689, ...who } });
  });

  test('when the timeline has neither, then analytics is {}', () => {
    expect(analyticsOf(sampleEvent('incident.triggered').data.resource_data)).toEqual({});
    expect(analyticsOf({})).toEqual({});
  });
});
