import { bypassesProxy, proxyAgentFor, proxyForLogs } from '../../../src/delivery/egress';

describe('DELIVERY_NO_PROXY matching', () => {
  const bypass = (url: string, noProxy: string) => bypassesProxy(new URL(url), noProxy);

  test('when the list names the host or a parent domain, then the request goes direct', () => {
    expect(bypass('https://api.example.com/x', 'example.com')).toBe(true);
    expect(bypass('https://api.example.com/x', '.example.com')).toBe(true);
    expect(bypass('https://api.example.com/x', '*.example.com')).toBe(true);
    expect(bypass('https://example.com/x', 'other.org, EXAMPLE.com.')).toBe(true);
    expect(bypass('https://anything.test', '*')).toBe(true);
  });

  test('when the list names another host or a mere suffix of the name, then the proxy is used', () => {
    expect(bypass('https://badexample.com/x', 'example.com')).toBe(false);
    expect(bypass('https://example.com/x', 'api.example.com')).toBe(false);
    expect(bypass('https://example.com/x', '')).toBe(false);
    expect(bypass('https://example.com/x', ' , ')).toBe(false);
  });

  test('when an entry has a port, then only that port (default ports included) goes direct', () => {
    expect(bypass('http://127.0.0.1:8080/x', '127.0.0.1:8080')).toBe(true);
    expect(bypass('http://127.0.0.1:8081/x', '127.0.0.1:8080')).toBe(false);
    expect(bypass('https://example.com/x', 'example.com:443')).toBe(true);
    expect(bypass('http://example.com/x', 'example.com:443')).toBe(false);
    expect(bypass('http://[::1]:9000/x', '[::1]:9000')).toBe(true);
  });
});

describe('the proxy agent', () => {
  test('when no proxy is set or the host is exempt, then there is none; otherwise one per kind, reused', () => {
    expect(proxyAgentFor(new URL('https://a.test'), {})).toBeUndefined();
    const egress = { proxyUrl: 'http://u:p@127.0.0.1:3128', noProxy: 'b.test' };
    expect(proxyAgentFor(new URL('https://b.test'), egress)).toBeUndefined();
    const tunnel = proxyAgentFor(new URL('https://a.test'), egress);
    const forward = proxyAgentFor(new URL('http://a.test'), egress);
    expect(tunnel).toBeDefined();
    expect(forward).toBeDefined();
    expect(tunnel).not.toBe(forward);
    expect(proxyAgentFor(new URL('https://c.test'), egress)).toBe(tunnel);
  });

  test('when the proxy is shown in a log, then its credentials are not', () => {
    expect(proxyForLogs('http://user:secret@proxy.corp:3128')).toBe('http://proxy.corp:3128');
  });
});
