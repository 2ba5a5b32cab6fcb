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
    // triggered 05:26:34.256, acknowledged 05:37:01.339
    expect(derived.analytics).toEqual({ tta: { time: 627_083 } });
  });

  test('when the timeline has a resolution, then ttr is the time from trigger to resolution in ms', () => {
    const incident = sampleEvent('incident.resolved').data.resource_data;
    // resolved 05:37:35.945
    expect(analyticsOf(incident)).toEqual({ tta: { time: 627_083 }, ttr: { time: 661_689 } });
  });

  test('when the timeline has neither, then analytics is {}', () => {
    expect(analyticsOf(sampleEvent('incident.triggered').data.resource_data)).toEqual({});
    expect(analyticsOf({})).toEqual({});
  });
});
