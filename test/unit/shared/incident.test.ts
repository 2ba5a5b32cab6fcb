import { filterFacts } from '../../../src/filters/facts';
import { toV1Payload } from '../../../src/payloads/v1';
import { sampleEvent } from '../../../src/payloads/samples';
import { incidentOfEvent } from '../../../src/shared/incident';

describe('the incident of an event', () => {
  test('when an incident event also carries data.incident, then the store, filters and v1 payloads all take its resource', () => {
    const event = sampleEvent('incident.acknowledged');
    const current: any = { ...event.data.resource_data, service: { id: 'svc-now', name: 'now', slug: 'now' } };
    event.data.resource_data = current;
    // A stale copy beside it: before, filters and v1 took this one and the store the resource.
    event.data.incident = {
      ...current,
      id: current.id as string,
      service: { id: 'svc-old', name: 'old', slug: 'old' },
    };
    expect(incidentOfEvent(event)).toBe(current);
    expect(filterFacts(event).service.id).toBe('svc-now');
    expect(toV1Payload(event, 'incident_acknowledged').service).toEqual(current.service);
  });

  test('when the event is about a note, then its incident is data.incident', () => {
    const event = sampleEvent('incident.incident_notes_created');
    expect(event.data.incident).toBeDefined();
    expect(incidentOfEvent(event)).toBe(event.data.incident);
    expect(filterFacts(event).service.id).toBe((event.data.incident as any).service.id);
  });

  test('when neither is an object, then there is none, and filters see empty facts', () => {
    const event = sampleEvent('incident.incident_notes_created');
    delete (event.data as any).incident;
    expect(incidentOfEvent(event)).toBeNull();
    expect(filterFacts(event).service).toEqual({ id: null, name: null, slug: null });
  });
});
